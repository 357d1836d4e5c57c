"""Reading an events frame (see :mod:`chainmall.referral.events`) for either path.

:func:`read_frame` checks the schema once and keeps ``seq``, type codes and UTC
nanoseconds per row; other columns are read on request, for the rows asked for
(:meth:`EventFrame.ints`, :meth:`EventFrame.texts`), so a path copies only what
it uses. :func:`order_line_groups` is the one rule that groups ``ORDER_PAID`` rows
into events. :func:`events_from_frame` types the events for the fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import require_columns, require_frame, require_not_null
from chainmall.exceptions import DataValidationError
from chainmall.referral.events import (
    EVENT_COLUMNS,
    EVENT_TYPES,
    INT_COLUMNS,
    MISSING,
    REQUIRED_FIELDS,
    STR_COLUMNS,
    TYPE_CODE,
    ConfigActivated,
    Engagement,
    Event,
    OrderLine,
    OrderPaid,
)
from chainmall.referral.reasons import Reason

__all__ = ["EventFrame", "event_starts", "events_from_frame", "order_line_groups", "read_frame"]

ZERO_WHEN_NULL = ("balance_paid_fen",)
"""Integer columns whose null means 0 (not a missing field)."""


@dataclass(frozen=True)
class EventFrame:
    """A validated events frame: ``seq``, type codes and UTC ns per row; columns on request.

    ``type`` holds codes into ``type_names`` (known types first, in
    :data:`~chainmall.referral.events.TYPE_CODE` order, unknown names after).
    """

    frame: pd.DataFrame
    seq: np.ndarray
    type: np.ndarray
    type_names: list[str]
    ts: np.ndarray

    @property
    def n_rows(self) -> int:
        """Rows of the frame."""
        return len(self.seq)

    def ints(self, column: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Integer ``column`` as int64 at ``rows`` (all rows: None); nulls are :data:`MISSING`.

        Nulls of :data:`ZERO_WHEN_NULL` columns are 0. All rows of a plain int64
        column are a read-only view of the frame, not a copy.
        """
        return _int_values(self.frame, column, rows)

    def texts(self, column: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Text ``column`` as an object array (str, or None for null) at ``rows``."""
        n = self.n_rows if rows is None else len(rows)
        if column not in self.frame.columns:
            return np.full(n, None, dtype=object)
        array = self.frame[column].array
        values = np.asarray(array if rows is None else array[rows], dtype=object).copy()
        values[pd.isna(values)] = None
        return values


def read_frame(events: pd.DataFrame, *, name: str = "events") -> EventFrame:
    """Check the frame's schema and read its ``seq``, ``type`` and ``ts`` columns.

    Raises:
        DataValidationError: not a frame, a required column missing or null, an
            unknown column, naive timestamps, or a non-integer id / money column.
    """
    require_frame(events, name)
    require_columns(events, ["seq", "type", "ts"], name=name)
    require_not_null(events, ["seq", "type", "ts"], name=name)
    unknown = sorted(set(events.columns) - set(EVENT_COLUMNS))
    if unknown:
        raise DataValidationError(
            f"{name} has unknown column(s) {unknown}; the events frame takes {list(EVENT_COLUMNS)}"
        )
    ts = events["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise DataValidationError(
            f"{name}.ts must be timezone-aware datetimes, got dtype {ts.dtype}; naive timestamps "
            "are ambiguous: localize them, e.g. frame['ts'].dt.tz_localize('Asia/Shanghai')"
        )
    for column in ("seq", *INT_COLUMNS):
        if column in events.columns:
            _check_integer(events[column], f"{name}.{column}")
    codes, type_names = _type_codes(events["type"])
    return EventFrame(events, _int_values(events, "seq", None), codes, type_names, _utc_ns(ts))


def _int_values(frame: pd.DataFrame, column: str, rows: np.ndarray | None) -> np.ndarray:
    """See :meth:`EventFrame.ints`."""
    n = len(frame) if rows is None else len(rows)
    fill = 0 if column in ZERO_WHEN_NULL else MISSING
    if column not in frame.columns or not _is_integer(frame[column].dtype):
        return np.full(n, fill, dtype=np.int64)  # absent, or all null (checked on read)
    series = frame[column]
    if isinstance(series.dtype, pd.api.extensions.ExtensionDtype):  # nullable Int64, ...
        array = series.array if rows is None else series.array[rows]
        values: np.ndarray = array.to_numpy(dtype=np.int64, na_value=fill)
        return values
    values = series.to_numpy()
    if rows is None and values.dtype == np.int64:
        view = values.view()
        view.flags.writeable = False
        return view
    return (values if rows is None else values[rows]).astype(np.int64, copy=False)


def _is_integer(dtype: Any) -> bool:
    return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _check_integer(series: pd.Series, where: str) -> None:
    """Integer dtypes pass; an all-null column of another dtype counts as absent."""
    dtype = series.dtype
    if _is_integer(dtype) or (not pd.api.types.is_bool_dtype(dtype) and series.count() == 0):
        return
    raise DataValidationError(
        f"{where} must hold integers (ids, and money in integer fen), got dtype {dtype}; "
        "convert yuan with Decimal(yuan) * 100 and use the nullable 'Int64' dtype for "
        "columns with gaps"
    )


def _type_codes(types: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Small-int type codes per row and the names they index (known types first)."""
    kinds = pd.Categorical(types if types.dtype == "category" else types.astype(str))
    names = [str(c) for c in kinds.categories]
    all_names = list(EVENT_TYPES) + sorted(set(names) - set(EVENT_TYPES))
    dtype = np.min_scalar_type(-len(all_names))  # int8 unless there are many unknown names
    remap = np.array([all_names.index(n) for n in names], dtype=dtype)
    codes = np.asarray(kinds.codes)
    return (remap[codes] if len(remap) else codes.astype(dtype)), all_names


def _utc_ns(ts: pd.Series) -> np.ndarray:
    """UTC nanoseconds of an aware datetime column: a read-only view when stored in ns."""
    values = ts.array
    if values.unit != "ns":
        values = values.as_unit("ns")
    view: np.ndarray = values.asi8
    view.flags.writeable = False
    return view


def order_line_groups(
    rows: np.ndarray, seq: np.ndarray, order_id: np.ndarray, user_id: np.ndarray, ts: np.ndarray
) -> np.ndarray:
    """Mask of the ``ORDER_PAID`` rows that start an event.

    ``rows`` are the frame rows of ``ORDER_PAID`` lines (ascending) and the other
    arrays their fields. Consecutive rows with equal ``seq``, ``order_id``,
    ``user_id`` and ``ts`` are lines of one event.
    """
    start = np.ones(len(rows), dtype=bool)
    if len(rows) > 1:
        same = rows[1:] == rows[:-1] + 1
        for values in (seq, order_id, user_id, ts):
            same &= values[1:] == values[:-1]
        start[1:] = ~same
    return start


def event_starts(frame: EventFrame) -> np.ndarray:
    """First row of each event (an ``ORDER_PAID`` event's lines are consecutive rows)."""
    rows = np.flatnonzero(frame.type == TYPE_CODE["ORDER_PAID"])
    new = order_line_groups(
        rows,
        frame.seq[rows],
        frame.ints("order_id", rows),
        frame.ints("user_id", rows),
        frame.ts[rows],
    )
    is_start = np.ones(frame.n_rows, dtype=bool)
    is_start[rows[~new]] = False
    return np.flatnonzero(is_start)


def events_from_frame(events: pd.DataFrame) -> list[Event | tuple[int, str, str]]:
    """Typed events of a frame, in row order, for the per-event fold.

    A row whose required fields are missing becomes ``(seq, type, reason)``
    (``MISSING_FIELD`` or ``UNKNOWN_TYPE``), which the fold rejects as such.
    """
    frame = read_frame(events)
    starts = event_starts(frame)
    ends = np.append(starts[1:], frame.n_rows)
    cols = {c: frame.ints(c) for c in INT_COLUMNS} | {c: frame.texts(c) for c in STR_COLUMNS}
    out: list[Event | tuple[int, str, str]] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        kind = frame.type_names[int(frame.type[start])]
        seq = int(frame.seq[start])
        if kind not in EVENT_TYPES:
            out.append((seq, kind, Reason.UNKNOWN_TYPE.name))
        elif any(_null(cols[f][r]) for f in REQUIRED_FIELDS[kind] for r in range(start, end)):
            out.append((seq, kind, Reason.MISSING_FIELD.name))
        else:
            ts = pd.Timestamp(int(frame.ts[start]), tz="UTC").to_pydatetime()
            out.append(_typed(kind, seq, ts, cols, start, end))
    return out


def _null(value: object) -> bool:
    return value is None or value == MISSING


def _typed(
    kind: str, seq: int, ts: datetime, cols: dict[str, np.ndarray], start: int, end: int
) -> Event:
    """The typed event of rows ``start:end`` (one row unless ``ORDER_PAID``)."""
    value = {c: cols[c][start] for c in cols}
    ints = {c: int(value[c]) for c in INT_COLUMNS if value[c] != MISSING}
    if kind == "ORDER_PAID":
        lines = tuple(
            OrderLine(
                int(cols["line_id"][r]),
                int(cols["amount_fen"][r]),
                int(cols["balance_paid_fen"][r]),
            )
            for r in range(start, end)
        )
        return OrderPaid(seq, ts, ints["order_id"], ints["user_id"], lines)
    if kind == "ENGAGEMENT":
        channel = value["channel"]
        return Engagement(
            seq,
            ts,
            ints["user_id"],
            str(value["action"]),
            None if channel is None else str(channel),
            ints.get("line_id"),
        )
    if kind == "CONFIG_ACTIVATED":
        return ConfigActivated(seq, ts, str(value["month"]))
    fields: dict[str, object] = {f: ints[f] for f in REQUIRED_FIELDS[kind] if f in ints}
    if kind == "MONTH_CLOSE":
        fields = {"month": str(value["month"])}
    event: Event = EVENT_TYPES[kind](seq=seq, ts=ts, **fields)
    return event
