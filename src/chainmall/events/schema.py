"""Typed schema of mini-program behaviour events and validation at the boundary.

One long frame holds every event; ``event_type`` says which optional columns a
row must fill:

============  ==========================================================
event_type    required (besides user_id, event_type, ts)
============  ==========================================================
page_view     ``path``
click         ``element``, ``x``, ``y`` (fractions of the viewport, 0..1)
dwell         ``path``, ``dwell_ms`` (integer milliseconds, >= 0)
share         ``path`` (the page shared)
add_to_cart   ``item_id``, ``quantity`` (integer >= 1)
order         ``order_id``, ``amount_fen`` (integer fen >= 0)
============  ==========================================================

Column-level problems (a required column missing, naive timestamps) raise.
Row-level problems never vanish: each bad row goes to ``rejected`` with every
reason, or, with ``strict=True``, the call raises naming them.
"""

from __future__ import annotations

import difflib
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from chainmall._columns import canonical_frame
from chainmall._validation import (
    MAX_EXACT_INT,
    Column,
    check_frame,
    describe_offenders,
    require_frame,
)
from chainmall.exceptions import DataValidationError

__all__ = ["EVENT_TYPES", "OPTIONAL_COLUMNS", "EventBatch", "as_valid_events", "validate_events"]

EVENT_TYPES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "page_view": ("path",),
        "click": ("element", "x", "y"),
        "dwell": ("path", "dwell_ms"),
        "share": ("path",),
        "add_to_cart": ("item_id", "quantity"),
        "order": ("order_id", "amount_fen"),
    }
)
"""Event types and the columns each requires."""

OPTIONAL_COLUMNS = (
    "path",
    "element",
    "x",
    "y",
    "dwell_ms",
    "item_id",
    "quantity",
    "order_id",
    "amount_fen",
)
_COLUMNS = (
    Column("user_id", "id", nullable=True),
    Column("event_type", "label", nullable=True),
    Column("ts", "time", nullable=True),
)
"""Column-level rules; missing values in these columns are row-level problems."""
EVENT_COLUMNS = ("user_id", "event_type", "ts", *OPTIONAL_COLUMNS)
"""Canonical names ``validate_events(columns=)`` accepts as keys."""
_NUMERIC = {"x": "float", "y": "float", "dwell_ms": "int", "quantity": "int", "amount_fen": "int"}


@dataclass(frozen=True)
class EventBatch:
    """Validated events and the rows refused.

    Attributes:
        events: valid rows in time order per user, canonical columns, ``ts`` in UTC,
            numeric columns typed (``x``/``y`` float, counts and fen nullable Int64).
        rejected: refused rows as given, plus ``row`` (position in the input) and
            ``reason`` (every problem, ``"; "``-joined).
    """

    events: pd.DataFrame
    rejected: pd.DataFrame


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(value as float, is a real number)`` per row; booleans and text are not numbers."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or not (
        pd.api.types.is_object_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)
    ):
        return np.full(len(values), np.nan), np.zeros(len(values), dtype=bool)
    if not pd.api.types.is_object_dtype(dtype):
        numeric = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return numeric, ~np.isnan(numeric)
    raw = values.to_numpy()
    real = np.fromiter(
        (isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in raw),
        dtype=bool,
        count=len(raw),
    )
    numeric = np.full(len(raw), np.nan)
    numeric[real] = raw[real].astype(np.float64)
    return numeric, real & ~np.isnan(numeric)


def _range_problem(
    values: pd.Series, kind: str, column: str, applies: np.ndarray
) -> tuple[np.ndarray, str]:
    """Rows (where ``applies``) whose value is not a number of the column's type and range."""
    numeric, real = _numbers(values)
    present = values.notna().to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        usable = real & np.isfinite(numeric) & (np.abs(numeric) <= MAX_EXACT_INT)
        if kind == "float":
            bad = present & ~(usable & (numeric >= 0) & (numeric <= 1))
            return applies & bad, f"{column} must be a fraction of the viewport in [0, 1]"
        lower = 1 if column == "quantity" else 0
        whole = usable & (numeric == np.floor(numeric)) & (numeric >= lower)
    return (
        applies & present & ~whole,
        f"{column} must be a whole number >= {lower} (finite; not text or a bool)",
    )


def validate_events(
    events: pd.DataFrame,
    *,
    strict: bool = False,
    columns: Mapping[str, str] | None = None,
) -> EventBatch:
    """Check events against the schema; split valid rows from refused ones.

    Args:
        events: long frame with ``user_id``, ``event_type``, ``ts`` (tz-aware) and the
            optional columns the event types need (absent columns count as empty).
        strict: raise instead of returning refused rows.
        columns: ``{canonical: yours}`` where your names differ, e.g.
            ``{"user_id": "uid", "event_type": "event"}``; the results use the
            canonical names. A mapping in the earlier direction ``{yours: canonical}``
            (its values canonical names, its keys not) is turned round with a
            :class:`FutureWarning`.

    Raises:
        ColumnNotFoundError: ``user_id``, ``event_type`` or ``ts`` is missing.
        DataValidationError: ``ts`` is not timezone-aware, or (``strict``) any row is bad.
    """
    frame = require_frame(events, "events")
    frame = canonical_frame(frame, _turned_round(columns), accepted=EVENT_COLUMNS, name="events")
    check_frame(frame, _COLUMNS, name="events", allow_empty=True)
    frame = frame.reset_index(drop=True)
    for column in OPTIONAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.NA
    problems: list[tuple[np.ndarray, str]] = [
        (frame["user_id"].isna().to_numpy(), "user_id is missing"),
        (frame["ts"].isna().to_numpy(), "ts is missing"),
    ]
    kind = frame["event_type"].astype("string")
    missing_type = kind.isna().to_numpy()
    known = kind.isin(list(EVENT_TYPES)).fillna(False).to_numpy(dtype=bool)
    problems.append((missing_type, "event_type is missing"))
    for value in kind[~known & ~missing_type].unique():
        close = difflib.get_close_matches(str(value), list(EVENT_TYPES), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {list(EVENT_TYPES)}"
        mask = (kind == value).fillna(False).to_numpy(dtype=bool)
        problems.append((mask, f"unknown event_type {value!r} ({hint})"))
    for event_type, needed in EVENT_TYPES.items():
        applies = (kind == event_type).fillna(False).to_numpy(dtype=bool)
        for column in needed:
            problems.append(
                (applies & frame[column].isna().to_numpy(), f"{event_type} needs {column}")
            )
            if column in _NUMERIC:
                problems.append(_range_problem(frame[column], _NUMERIC[column], column, applies))

    bad_any = np.logical_or.reduce([mask for mask, _ in problems])
    if strict and bad_any.any():
        lines = [
            f"  - {text}: {describe_offenders(frame, mask, 'user_id')}"
            for mask, text in problems
            if mask.any()
        ]
        raise DataValidationError(
            f"{int(bad_any.sum())} of {len(frame)} events break the schema:\n"
            + "\n".join(lines)
            + "\nfix the rows, or call validate_events(strict=False) and inspect `rejected`"
        )
    bad_rows = np.flatnonzero(bad_any)
    joined = np.full(len(bad_rows), "", dtype=object)
    for mask, text in problems:
        hit = mask[bad_rows]
        if hit.any():
            joined[hit] = joined[hit] + ("; " + text)
    rejected = frame.iloc[bad_rows].copy()
    rejected.insert(0, "row", bad_rows)
    rejected["reason"] = pd.Series(joined, index=rejected.index, dtype="string").str.slice(2)
    return EventBatch(events=_typed(frame.loc[~bad_any]), rejected=rejected.reset_index(drop=True))


def _turned_round(columns: object) -> object:
    """``columns`` as ``{canonical: yours}``; a mapping unambiguously in the earlier
    ``{yours: canonical}`` direction is turned round with a :class:`FutureWarning`."""
    if not isinstance(columns, Mapping) or not columns:
        return columns
    keys, values = list(columns), list(columns.values())
    earlier = all(v in EVENT_COLUMNS for v in values) and not any(k in EVENT_COLUMNS for k in keys)
    if not earlier:
        return columns
    turned = {canonical: theirs for theirs, canonical in columns.items()}
    warnings.warn(
        "validate_events(columns=) now maps the canonical name to yours, {canonical: yours}; "
        "the earlier direction {yours: canonical} will stop working in the next release; "
        f"pass columns={turned!r}",
        FutureWarning,
        stacklevel=3,
    )
    return turned


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical dtypes, UTC time, rows sorted by user then time (stable)."""
    out = frame.assign(
        event_type=pd.Categorical(frame["event_type"].astype(str), categories=list(EVENT_TYPES)),
        ts=frame["ts"].dt.tz_convert("UTC"),
        x=pd.to_numeric(frame["x"], errors="coerce").astype("float64"),
        y=pd.to_numeric(frame["y"], errors="coerce").astype("float64"),
        **{
            c: pd.to_numeric(frame[c], errors="coerce").astype("Int64")
            for c in ("dwell_ms", "quantity", "amount_fen")
        },
    )
    out = out.sort_values(["user_id", "ts"], kind="stable")
    return out.reset_index(drop=True)


def as_valid_events(events: EventBatch | pd.DataFrame) -> pd.DataFrame:
    """The valid events of a batch, or of a raw frame validated strictly (never dropping rows)."""
    if isinstance(events, EventBatch):
        return events.events
    return validate_events(events, strict=True).events
