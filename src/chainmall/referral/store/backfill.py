"""Bulk backfill: a long history settled once by the batch path and bulk-loaded.

``ReferralStore.backfill`` imports a history into an empty programme without the
per-event fold: the events are numbered 1..n in arrival order (as ``ingest``
numbers them), :func:`~chainmall.referral._batch.settle.settle_frame` settles the
whole log once, and :func:`.backfill_state.state_rows` derives, with whole-column
operations,
the rows every store table would hold after ingesting the same events one by one:
the event log (payloads and digests as :mod:`.intake` makes them, outcomes from
the settlement's rejections), the ledger entries with their leaf hashes, the
fold's state (:mod:`.mapping` says which container lives where) and the head
(Merkle frontier and root). :func:`insert_frame` writes them in the caller's
transaction, a chunk of rows per statement (PostgreSQL: ``COPY``).

Each container's rows follow its rule module's writes, including the keys a rule
writes with a zero value (``pending`` of a beneficiary whose credit the monthly cap
cut to 0, ``receivable`` after any settlement, ...): the tables equal an ingest's
row for row (``tests/referral/store/test_backfill.py``). One container is a cache:
``InviterForest.shortcut`` (a path-compression memo) gets ``(root, inviter steps
to it)`` for every bound member, valid for every later bind and distance, where
an ingest keeps whichever node its compressions last reached.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, update
from sqlalchemy import Table as SqlTable

from chainmall.ledger import TreeHead
from chainmall.referral._batch.settle import settle_frame
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import EVENT_COLUMNS, INT_COLUMNS
from chainmall.referral.frame import read_frame
from chainmall.referral.ids import ID_COLUMNS
from chainmall.referral.records import INT_FIELDS, RECORD_FIELDS, iter_records
from chainmall.referral.settlement import Settlement
from chainmall.referral.store import schema
from chainmall.referral.store.backfill_sources import Sources, id_texts
from chainmall.referral.store.backfill_state import StateRows, state_rows
from chainmall.referral.store.entries import ID_KINDS
from chainmall.referral.store.intake import Intake
from chainmall.referral.store.tree import Frontier

__all__ = ["Loaded", "load"]


@dataclass(frozen=True)
class Loaded:
    """What a backfill stored: one outcome row per delivery, the entries and the head."""

    outcomes: pd.DataFrame
    entries: int
    head: TreeHead


def load(
    conn: Connection,
    taken: Intake,
    programme: str,
    registry: Mapping[str, ReferralConfig],
    check_kinds: Callable[[Connection, list[dict[str, Any]]], None],
) -> Loaded:
    """Settle ``taken`` (the first events of ``programme``, whose configs by version are
    ``registry``) and bulk-load every table.

    ``check_kinds`` records (or refuses) the id kinds of some rows, as ``ingest`` does.
    The caller holds the programme's writer lock in ``conn``'s transaction and has
    checked it is empty.
    """
    if not taken.events:
        return Loaded(
            _delivery_outcomes(taken, _event_rows(taken, pd.Series())),
            0,
            TreeHead(0, Frontier().root().hex()),
        )
    frame = numbered(taken)
    check_kinds(conn, id_samples(frame))
    settlement = settle_frame(read_frame(frame), registry)
    config = next(iter(registry.values()))
    outcome = _outcomes(frame, settlement)
    events = _event_rows(taken, outcome)
    entries, frontier = _entry_rows(settlement.entries)
    state = state_rows(Sources(frame, settlement, config, entries))
    insert_frame(conn, schema.events, programme, _stamped(conn, events))
    insert_frame(conn, schema.entries, programme, entries)
    for table, rows in state.tables:
        insert_frame(conn, table, programme, rows)
    _write_head(conn, programme, len(taken.events), state, frontier)
    head = TreeHead(size=frontier.size, root=frontier.root().hex())
    return Loaded(_delivery_outcomes(taken, events), len(entries), head)


def numbered(taken: Intake) -> pd.DataFrame:
    """The deliveries' rows as one events frame, numbered 1..n in arrival order.

    The rows passed every check of an events frame in :func:`.intake`, so the frame
    is built column by column without checking them again (``rows_to_frame``'s
    layout: text ids as objects, integer ids and money as ``Int64``, UTC instants).
    """
    rows = [row for d in taken.events for row in d.rows]
    counts = [len(d.rows) for d in taken.events]
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS[1:]), dtype=object)
    frame.insert(0, "seq", np.repeat(np.arange(1, len(counts) + 1, dtype=np.int64), counts))
    frame["ts"] = pd.to_datetime(frame["ts"].to_numpy(), utc=True)
    for column in INT_COLUMNS:
        values = frame[column].to_numpy()
        if pd.api.types.infer_dtype(values, skipna=True) in ("integer", "empty"):
            frame[column] = pd.array(values, dtype="Int64")
    return frame


def id_samples(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per id column and type it holds (the first of each): what
    :func:`~chainmall.referral.store.kinds.kinds_of` needs to see every kind's types."""
    samples: list[dict[str, Any]] = []
    for column in (c for columns in ID_COLUMNS.values() for c in columns):
        values = frame[column].dropna()
        if not len(values):
            continue
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind in ("integer", "string"):  # one type: its first value shows it
            samples.append({column: values.iloc[0]})
            continue
        text = values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        for mine in (text, ~text):
            if mine.any():
                samples.append({column: values.iloc[int(np.argmax(mine))]})
    return samples


def _outcomes(frame: pd.DataFrame, settlement: Settlement) -> pd.Series:
    """Each event's outcome by seq: ``ACCEPTED`` or its reject reason."""
    n = int(frame["seq"].iloc[-1]) if len(frame) else 0
    outcome = pd.Series(schema.ACCEPTED, index=pd.RangeIndex(1, n + 1), dtype=object)
    rejected = settlement.rejected
    outcome[rejected["seq"].to_numpy(dtype=np.int64)] = rejected["reason"].to_numpy()
    return outcome


def _event_rows(taken: Intake, outcome: pd.Series) -> pd.DataFrame:
    """The event log rows (``ingested_at`` added by :func:`_stamped`)."""
    d = taken.events
    return pd.DataFrame(
        {
            "seq": np.arange(1, len(d) + 1, dtype=np.int64),
            "event_id": [x.event_id for x in d],
            "type": [x.type for x in d],
            "payload": [x.payload for x in d],
            "digest": [x.digest for x in d],
            "outcome": outcome.to_numpy(),
        }
    )


def _stamped(conn: Connection, events: pd.DataFrame) -> pd.DataFrame:
    """The event rows with this call's instant, as the column's type writes it (MySQL's
    DATETIME holds naive UTC, which ``reads`` reads back as UTC)."""
    now: Any = datetime.now(UTC)
    if conn.dialect.name in ("mysql", "mariadb"):
        now = now.replace(tzinfo=None)
    column = schema.events.c.ingested_at
    bind = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    stamp = bind(now) if bind else now
    return events.assign(ingested_at=pd.Series([stamp] * len(events), dtype=object).to_numpy())


def _delivery_outcomes(taken: Intake, events: pd.DataFrame) -> pd.DataFrame:
    """``IngestReport.outcomes``: each new event, then each repeat within the call."""
    new = events[["event_id", "seq", "outcome"]].assign(delivery="new")
    if not taken.repeats:
        return new.reset_index(drop=True)
    ids = [event_id for event_id, _ in taken.repeats]
    first = events.set_index("event_id").loc[ids, ["seq", "outcome"]]
    repeats = first.reset_index().assign(
        delivery=["conflict" if differs else "duplicate" for _, differs in taken.repeats]
    )
    return pd.concat([new, repeats], ignore_index=True)


def _entry_rows(entries: pd.DataFrame) -> tuple[pd.DataFrame, Frontier]:
    """The ``referral_entries`` rows of a settlement's entries, and the Merkle frontier.

    Ids, leaf hashes and the frontier come from the canonical records
    (:func:`~chainmall.referral.records.iter_records`); the other columns are the
    entries' own, ids as text (what ``entry_row`` writes).
    """
    ids: list[str] = []
    leaves: list[bytes] = []
    sha = hashlib.sha256
    for eid, raw in iter_records(entries):
        ids.append(eid)
        leaves.append(sha(b"\x00" + raw).digest())
    frontier = Frontier.of(leaves)
    n = len(entries)
    eids = np.array(ids, dtype=object).reshape(n)
    ref = entries["ref_pos"].to_numpy(dtype=np.int64, na_value=-1)
    rows: dict[str, Any] = {
        "position": np.arange(n, dtype=np.int64),
        "entry_id": eids,
        "leaf_hash": [leaf.hex() for leaf in leaves],
    }
    for name in RECORD_FIELDS:
        if name == "entry_id":
            continue
        if name == "ref":
            rows[name] = np.where(ref >= 0, eids[np.maximum(ref, 0)], None)
        elif name in ID_KINDS:
            rows[name] = id_texts(entries[name])
        elif name in INT_FIELDS:
            rows[name] = entries[name].astype("Int64")
        else:
            rows[name] = entries[name].astype(object).where(entries[name].notna(), None)
    return pd.DataFrame(rows), frontier


def _write_head(
    conn: Connection, programme: str, n_events: int, state: StateRows, frontier: Frontier
) -> None:
    """The programme's head row after ``n_events`` events (a new token: caches are stale)."""
    conn.execute(
        update(schema.heads)
        .where(schema.heads.c.programme_id == programme)
        .values(
            last_seq=n_events,
            last_tick_ns=state.last_tick_ns,
            n_entries=frontier.size,
            frontier=frontier.to_json(),
            root=frontier.root().hex(),
            token=uuid.uuid4().hex,
            **state.counts,
        )
    )


# -- bulk inserts ------------------------------------------------------------------------

CHUNK_ROWS = 50_000
"""Rows converted and sent per statement (bounds the Python objects alive at once)."""

_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_frame(conn: Connection, table: SqlTable, programme: str, frame: pd.DataFrame) -> int:
    """Insert ``frame``'s rows (columns named as ``table``'s) for ``programme``; the count.

    Raises:
        StoreError: through the store's transaction, when the database refuses a row.
    """
    if not len(frame):
        return 0
    columns = ["programme_id", *frame.columns]
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, _chunks(frame, programme))
    else:
        quote = conn.dialect.identifier_preparer.quote
        marker = _MARKERS[conn.dialect.paramstyle]
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join([marker] * len(columns))})"
        )
        for rows in _chunks(frame, programme):
            conn.exec_driver_sql(sql, rows)
    return len(frame)


def _copy(
    conn: Connection, table: SqlTable, columns: list[str], chunks: Iterator[list[tuple[Any, ...]]]
) -> None:
    """PostgreSQL: stream the rows through ``COPY`` on the transaction's own connection."""
    driver = conn.connection.driver_connection
    assert driver is not None
    names = ", ".join(f'"{c}"' for c in columns)
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for rows in chunks:
            for row in rows:
                copy.write_row(row)


def _chunks(frame: pd.DataFrame, programme: str) -> Iterator[list[tuple[Any, ...]]]:
    """The frame's rows as tuples of plain values (programme first), ``CHUNK_ROWS`` at a time."""
    for start in range(0, len(frame), CHUNK_ROWS):
        part = frame.iloc[start : start + CHUNK_ROWS]
        values = [plain(part[c]) for c in part.columns]
        yield list(zip([programme] * len(part), *values, strict=True))


def plain(series: pd.Series) -> list[Any]:
    """A column as Python values the drivers take: ``int``, ``str``, ``None`` for nulls."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iub":
        return series.to_numpy().astype(np.int64).tolist()
    if pd.api.types.is_integer_dtype(series.dtype):
        mask = series.isna().to_numpy()
        values: list[Any] = series.to_numpy(dtype=np.int64, na_value=0).tolist()
        for i in np.flatnonzero(mask).tolist():
            values[i] = None
        return values
    array = series.to_numpy(dtype=object)
    missing = pd.isna(array)
    if missing.any():
        array = array.copy()
        array[missing] = None
    return array.tolist()
