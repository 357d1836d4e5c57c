"""What a store answers from its tables: balances, entries, proofs, the event log.

Each function takes an open connection, the programme id and its
:class:`~chainmall.referral.store.mapping.IdKinds`; ``ReferralStore`` binds them
as methods. Nothing here changes the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, or_, select

from chainmall.exceptions import DataValidationError
from chainmall.ledger import InclusionProof, TreeHead, verify_inclusion
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import rows_to_frame
from chainmall.referral.rules.stream import settlement_of
from chainmall.referral.settlement import Settlement
from chainmall.referral.store import schema
from chainmall.referral.store.cache import StateCache
from chainmall.referral.store.entries import entries_frame, record_of
from chainmall.referral.store.intake import payload_rows
from chainmall.referral.store.mapping import IdKinds

__all__ = [
    "EntryProof",
    "balances",
    "entries",
    "event_log",
    "events_frame",
    "head",
    "proof",
    "settlement",
]

_ACCOUNTS = (
    "pending_fen",
    "awaiting_approval_fen",
    "available_fen",
    "reserved_fen",
    "receivable_fen",
    "withdrawn_fen",
    "withheld_fen",
)


def head(conn: Connection, programme: str) -> TreeHead:
    """The ledger's committed tree head."""
    h = schema.heads
    row = conn.execute(select(h.c.n_entries, h.c.root).where(h.c.programme_id == programme)).one()
    return TreeHead(size=row.n_entries, root=row.root)


def entries(
    conn: Connection,
    programme: str,
    ids: IdKinds,
    *,
    since: int = 0,
    limit: int | None = None,
    user_id: Any = None,
) -> pd.DataFrame:
    """Ledger entries from ``position >= since`` in ledger order (of one user if given)."""
    e = schema.entries
    query = select(e).where(e.c.programme_id == programme, e.c.position >= since)
    if user_id is not None:
        query = query.where(e.c.user_id == str(user_id))
    query = query.order_by(e.c.position)
    if limit is not None:
        query = query.limit(limit)
    return entries_frame(list(conn.execute(query)), ids)


def balances(conn: Connection, programme: str, ids: IdKinds) -> pd.DataFrame:
    """Accounts (fen) of every user with one, by user id: pending, available, reserved, ..."""
    m = schema.members
    query = select(m.c.user_id, *(m.c[a] for a in _ACCOUNTS)).where(
        m.c.programme_id == programme, or_(*(m.c[a].is_not(None) for a in _ACCOUNTS))
    )
    rows = [(ids.decode("user", r.user_id), *(v or 0 for v in r[1:])) for r in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["user_id", *_ACCOUNTS])
    frame = frame.sort_values("user_id", kind="stable").reset_index(drop=True)
    for a in _ACCOUNTS:
        frame[a] = frame[a].astype("int64")
    return frame


WITHDRAWAL_STATUSES = ("REQUESTED", "APPROVED", "REJECTED", "PAID", "FAILED")


def withdrawals(
    conn: Connection, programme: str, ids: IdKinds, status: str | None = None
) -> pd.DataFrame:
    """Accepted withdrawal requests (``status`` one of :data:`WITHDRAWAL_STATUSES` or all).

    Columns: ``request_id``, ``user_id``, ``amount_fen``, ``fee_fen``, ``status``,
    ``hold_entry_id`` (its ``WITHDRAW_HOLD`` entry), by request id.

    Raises:
        DataValidationError: an unknown ``status``.
    """
    if status is not None and status not in WITHDRAWAL_STATUSES:
        raise DataValidationError(
            f"status must be one of {WITHDRAWAL_STATUSES} or None, got {status!r}"
        )
    w = schema.withdrawal_requests
    query = select(w).where(w.c.programme_id == programme, w.c.status.is_not(None))
    if status is not None:
        query = query.where(w.c.status == status)
    columns = ["request_id", "user_id", "amount_fen", "fee_fen", "status", "hold_entry_id"]
    rows = [
        (
            ids.decode("request", r.request_id),
            ids.decode("user", r.user_id),
            r.amount_fen,
            r.fee_fen,
            r.status,
            r.hold_entry_id,
        )
        for r in conn.execute(query)
    ]
    frame = pd.DataFrame(rows, columns=columns).sort_values("request_id", kind="stable")
    for column in ("amount_fen", "fee_fen"):
        frame[column] = frame[column].astype("int64")
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class EntryProof:
    """A ledger record, its inclusion proof and the tree head it is proved against."""

    record: dict[str, Any]
    proof: InclusionProof
    head: TreeHead

    def verify(self) -> bool:
        """True if the record is in the tree published as ``head``."""
        return verify_inclusion(self.record, self.proof, self.head)


def proof(conn: Connection, programme: str, ids: IdKinds, entry_id: str) -> EntryProof:
    """The inclusion proof of the entry ``entry_id`` in the committed tree.

    Reads every leaf hash (32 bytes per entry) to build the path.

    Raises:
        DataValidationError: no entry has that id.
    """
    from chainmall.ledger import _inclusion_path

    e = schema.entries
    row = conn.execute(
        select(e).where(and_(e.c.programme_id == programme, e.c.entry_id == entry_id))
    ).first()
    if row is None:
        raise DataValidationError(f"programme {programme!r} has no ledger entry {entry_id!r}")
    tree = head(conn, programme)
    leaves = [
        bytes.fromhex(h)
        for (h,) in conn.execute(
            select(e.c.leaf_hash)
            .where(e.c.programme_id == programme, e.c.position < tree.size)
            .order_by(e.c.position)
        )
    ]
    path = _inclusion_path(leaves, row.position)
    inclusion = InclusionProof(
        index=row.position, size=tree.size, path=tuple(h.hex() for h in path)
    )
    return EntryProof(record_of(row, ids), inclusion, tree)


def event_log(conn: Connection, programme: str) -> pd.DataFrame:
    """The event log: ``seq, event_id, type, outcome, ingested_at`` in seq order."""
    e = schema.events
    query = (
        select(e.c.seq, e.c.event_id, e.c.type, e.c.outcome, e.c.ingested_at)
        .where(e.c.programme_id == programme)
        .order_by(e.c.seq)
    )
    rows = [tuple(row) for row in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["seq", "event_id", "type", "outcome", "ingested_at"])
    frame["ingested_at"] = [_utc(t) for t in frame["ingested_at"]]  # SQLite, MySQL: naive UTC
    frame["ingested_at"] = pd.to_datetime(frame["ingested_at"], utc=True)
    return frame


def _utc(instant: datetime) -> datetime:
    """An instant the store wrote in UTC, read back aware whatever the database kept."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def events_frame(conn: Connection, programme: str) -> pd.DataFrame:
    """Every stored event as an events frame, numbered by the store (what ``settle`` takes)."""
    e = schema.events
    query = select(e.c.seq, e.c.payload).where(e.c.programme_id == programme).order_by(e.c.seq)
    rows = [row for seq, payload in conn.execute(query) for row in payload_rows(payload, seq)]
    return rows_to_frame(rows)


def settlement(
    conn: Connection, programme: str, ids: IdKinds, registry: dict[str, ReferralConfig]
) -> Settlement:
    """The programme's :class:`Settlement`, read from the stored state and ledger (no replay)."""
    cache = StateCache(programme, ids, complete=False)
    cache.conn = conn
    h = schema.heads
    cache.read_head(conn.execute(select(h).where(h.c.programme_id == programme)).one())
    cache.load_all()
    e, ev = schema.entries, schema.events
    records = [
        record_of(row, ids)
        for row in conn.execute(
            select(e).where(e.c.programme_id == programme).order_by(e.c.position)
        )
    ]
    state = cache.state
    state.rejected = [
        (row.seq, row.type, row.outcome)
        for row in conn.execute(
            select(ev.c.seq, ev.c.type, ev.c.outcome)
            .where(ev.c.programme_id == programme, ev.c.outcome != schema.ACCEPTED)
            .order_by(ev.c.seq)
        )
    ]
    given = {
        "user": list(state.registered),
        "order": list(state.order_lines),
        "line": list(state.lines),
        "refund": list(state.refunds),
    }
    text = [kind for kind, got in ids.kinds.items() if got == "text"]
    return settlement_of(state, records, registry, given=given, text_kinds=text)
