"""What the store is given: events with the caller's event ids, checked and deduplicated.

``ReferralStore.ingest`` takes an events frame with an ``event_id`` column (the
caller's idempotency key; ``seq`` is ignored: the store numbers events in
arrival order) or ``(event_id, event)`` pairs of typed events. An event is the
rows sharing its ``event_id``: one row, or one per line of an ``ORDER_PAID``.

A row repeated inside one call is a duplicate delivery: the first is kept and
the others are reported. For an order that means the same line with the same
content; two different rows for one line stay, and the rules reject the order
(``DUPLICATE_LINE``: which row is right cannot be told). Another event whose
``event_id`` repeats with other content is reported as a *conflict*, the first
kept. Each event's canonical payload
(its rows as JSON, without ``seq``) and that payload's SHA-256 are what the
event log keeps, so a re-delivery in a later call can be told from a conflict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import require_columns, require_frame, require_not_null
from chainmall.exceptions import DataValidationError
from chainmall.referral.events import (
    EVENT_COLUMNS,
    STR_COLUMNS,
    TYPE_OF,
    OrderPaid,
    check_rows,
    event_rows,
)
from chainmall.referral.frame import check_text, check_types
from chainmall.referral.store.mapping import dumps
from chainmall.referral.store.schema import ID_LENGTH

__all__ = ["Delivery", "Intake", "intake", "payload_rows"]

_FIELDS = tuple(c for c in EVENT_COLUMNS if c != "seq")


@dataclass(frozen=True)
class Delivery:
    """One distinct event of a call: its id, type, rows (as dicts), payload and digest."""

    event_id: str
    type: str
    rows: list[dict[str, Any]]
    payload: str
    digest: str


@dataclass(frozen=True)
class Intake:
    """The distinct events of a call, whose rows passed every check an events frame's
    do, and the ids delivered again within it."""

    events: list[Delivery]
    repeats: list[tuple[str, bool]]  # (event_id, the content differs: a conflict)


def intake(events: pd.DataFrame | Iterable[tuple[str, Any]]) -> Intake:
    """Check and deduplicate what a caller gives ``ingest``.

    Raises:
        DataValidationError: not a frame or pairs, a missing, empty, non-text or
            too long ``event_id``, money that is not integer fen, naive timestamps or
            instants outside UTC nanoseconds, labels that are not text, type names in
            the wrong case, an order whose rows disagree on type, time, order or
            buyer, or several rows for another event type.
    """
    typed = not isinstance(events, pd.DataFrame)
    if isinstance(events, pd.DataFrame):
        frame = _frame(events)
        ids = _event_ids(frame["event_id"].tolist(), frame.index)
        rows = _rows(frame)
        in_range = _nanoseconds(frame["ts"])
    else:
        ids, rows = _typed_rows(events)
        _event_ids(ids, range(len(ids)))
        in_range = False
    check_rows([{**r, "event_id": i} for i, r in zip(ids, rows, strict=True)], "event_id")
    if typed:
        _check_labels(ids, rows)
    if not in_range:
        _check_instants(ids, rows, to_utc=typed)
    kept: dict[str, list[dict[str, Any]]] = {}
    texts: dict[str, dict[str, None]] = {}  # each event's distinct rows as JSON, in order
    repeats: list[tuple[str, bool]] = []
    for event_id, row in zip(ids, rows, strict=True):
        text = dumps(_plain(row))
        mine = texts.setdefault(event_id, {})
        if text in mine:
            repeats.append((event_id, False))
        elif mine and row.get("type") != "ORDER_PAID":
            repeats.append((event_id, True))
        else:
            mine[text] = None
            kept.setdefault(event_id, []).append(row)
    _check_events(kept)
    out = []
    for event_id, mine_rows in kept.items():
        payload = f"[{','.join(texts[event_id])}]"  # = dumps of the rows: compact JSON
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        out.append(Delivery(event_id, str(mine_rows[0]["type"]), mine_rows, payload, digest))
    return Intake(out, repeats)


def payload_rows(payload: str, seq: int) -> list[dict[str, Any]]:
    """The frame rows of a stored payload, numbered ``seq`` (timestamps parsed)."""
    rows = json.loads(payload)
    for row in rows:
        row["seq"] = seq
        row["ts"] = pd.Timestamp(row["ts"])
    return list(rows)


def _frame(events: pd.DataFrame) -> pd.DataFrame:
    """The call's events frame: an ``event_id`` column, no repeated column, a type and an
    instant on every row, type names and text labels (what ``read_frame`` checks by column)."""
    require_frame(events, "events")
    repeated = sorted({str(c) for c in events.columns[events.columns.duplicated()]})
    if repeated:
        raise DataValidationError(
            f"events has repeated column(s) {repeated}; keep one column of each name"
        )
    require_columns(events, ["event_id", "type", "ts"], name="events")
    require_not_null(events, ["type", "ts"], name="events")
    check_types(events["type"], "events.type")
    for column in STR_COLUMNS:
        if column in events.columns:
            check_text(events[column], f"events.{column}")
    return events


def _nanoseconds(ts: pd.Series) -> bool:
    """The column holds aware instants in nanoseconds (so each fits the engine's range)."""
    return isinstance(ts.dtype, pd.DatetimeTZDtype) and ts.dtype.unit == "ns"


def _typed_rows(events: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """The event id and the frame row (non-null fields in column order, no ``seq``) of every
    row of the pairs: the rows ``_rows`` reads from their events frame."""
    if isinstance(events, str | bytes) or not isinstance(events, Iterable):
        raise DataValidationError(
            f"events must be an events frame with an event_id column or (event_id, event) "
            f"pairs, got {type(events).__name__}"
        )
    pairs = list(events)
    bad = [i for i, p in enumerate(pairs) if not (isinstance(p, tuple) and len(p) == 2)]
    bad += [i for i, p in enumerate(pairs) if i not in bad and type(p[1]) not in TYPE_OF]
    if bad:
        raise DataValidationError(
            f"events must be (event_id, event) pairs of typed events; items {bad[:5]} are not "
            f"(e.g. {pairs[bad[0]]!r})"
        )
    empty = [p[0] for p in pairs if isinstance(p[1], OrderPaid) and not p[1].lines]
    if empty:
        raise DataValidationError(f"orders with no lines cannot be stored: events {empty[:5]}")
    ids, rows = [], []
    for event_id, event in pairs:
        for row in event_rows(event):  # its seq is dropped: the store numbers events
            ids.append(event_id)
            rows.append({c: row[c] for c in _FIELDS if c in row and not _null(row[c])})
    return ids, rows


def _check_labels(ids: list[str], rows: list[dict[str, Any]]) -> None:
    """Typed events' labels are text, as an events frame's must be."""
    bad = [
        f"event {i!r}: {c}={row[c]!r}"
        for i, row in zip(ids, rows, strict=True)
        for c in STR_COLUMNS
        if c in row and not isinstance(row[c], str)
    ]
    if bad:
        raise DataValidationError(
            f"events hold labels that are not text ({'; '.join(bad[:5])}); labels are not "
            "converted: give them as text where the values are right"
        )


def _check_instants(ids: list[str], rows: list[dict[str, Any]], *, to_utc: bool) -> None:
    """Every ``ts`` fits UTC nanoseconds; with ``to_utc`` it becomes a UTC timestamp in
    place (typed events: their payload then holds UTC instants, like a frame made of them)."""
    for event_id, row in zip(ids, rows, strict=True):
        try:
            ts = pd.Timestamp(row["ts"]).tz_convert("UTC").as_unit("ns")
        except (OverflowError, pd.errors.OutOfBoundsDatetime) as error:
            raise DataValidationError(
                f"event {event_id!r}: ts={row['ts']!r} lies outside 1677-09-22 .. 2262-04-11 "
                f"({error}); the engine keeps UTC nanoseconds: correct or drop it"
            ) from None
        if to_utc:
            row["ts"] = ts


def _event_ids(values: list[Any], index: Sequence[Any] | pd.Index) -> list[str]:
    """Check every row's ``event_id`` (``index``: the rows' labels): non-empty text of at
    most ID_LENGTH characters."""
    bad = [i for i, v in enumerate(values) if not isinstance(v, str) or not v or len(v) > ID_LENGTH]
    if bad:
        raise DataValidationError(
            f"events.event_id must be non-empty text of at most {ID_LENGTH} characters (the "
            f"caller's idempotency key); rows {[index[i] for i in bad[:5]]} hold "
            f"{[values[i] for i in bad[:5]]!r}; convert integer keys with str()"
        )
    return values


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row as a dict of its non-null event fields (``seq`` dropped)."""
    unknown = sorted(set(frame.columns) - {*EVENT_COLUMNS, "event_id"})
    if unknown:
        raise DataValidationError(
            f"events has unknown column(s) {unknown}; the store takes event_id and {list(_FIELDS)}"
        )
    columns = [c for c in _FIELDS if c in frame.columns]
    data = {c: frame[c].to_numpy(dtype=object) for c in columns}
    rows = []
    for i in range(len(frame)):
        rows.append({c: data[c][i] for c in columns if not _null(data[c][i])})
    return rows


def _null(value: Any) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and np.isnan(value))
    )


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """The row as JSON-able values: timestamps as ISO 8601 text, numpy ints as ints."""
    out = {}
    for key, value in row.items():
        if isinstance(value, pd.Timestamp):
            value = value.isoformat()
        elif isinstance(value, datetime):
            value = pd.Timestamp(value).isoformat()
        elif isinstance(value, np.integer):
            value = int(value)
        out[key] = value
    return out


def _check_events(kept: dict[str, list[dict[str, Any]]]) -> None:
    """Several rows form one event only as the lines of one order."""
    bad = []
    for event_id, rows in kept.items():
        if len(rows) == 1:
            continue
        heads = {
            (r.get("type"), str(r.get("ts")), r.get("order_id"), r.get("user_id")) for r in rows
        }
        if rows[0].get("type") != "ORDER_PAID" or len(heads) > 1:
            bad.append(event_id)
    if bad:
        raise DataValidationError(
            f"events {bad[:5]} have several rows that are not the lines of one order (same "
            "type ORDER_PAID, ts, order_id and user_id); give each event its own event_id"
        )
