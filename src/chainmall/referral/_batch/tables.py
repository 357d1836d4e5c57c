"""The events frame split by event type: one typed table per type, open events only.

Mirrors the fold's sequence checks (``chainmall.referral.rules._apply``): an event
whose ``seq`` is not above every earlier one is ``STALE_SEQ``, an unknown type
``UNKNOWN_TYPE``, a null required field ``MISSING_FIELD`` (in that order). Every
other event lands in its type's table with the fields that type uses; the event
index ``ev`` (position in :class:`Events`) orders events across tables: once stale
events are out, event order is ``seq`` order.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Self

import numpy as np

from chainmall.referral.events import (
    EVENT_TYPES,
    MISSING,
    REQUIRED_FIELDS,
    STR_COLUMNS,
    TYPE_CODE,
)
from chainmall.referral.frame import EventFrame, order_line_groups
from chainmall.referral.reasons import Reason

__all__ = [
    "AdjustmentEvents",
    "BindEvents",
    "CommissionDecisionEvents",
    "DecisionEvents",
    "EngagementEvents",
    "EventTables",
    "Events",
    "OrderEvents",
    "ReceiptEvents",
    "RefundEvents",
    "Rejected",
    "RequestEvents",
    "Table",
    "TextEvents",
    "UserEvents",
    "WithdrawalEvents",
    "read_tables",
]


@dataclass(frozen=True)
class Rejected:
    """Rejected events: event indices and their :class:`Reason` codes."""

    ev: np.ndarray
    code: np.ndarray

    @classmethod
    def of(cls, ev: np.ndarray, reason: Reason | np.ndarray) -> Rejected:
        """Events ``ev``, all with ``reason`` (or one code each)."""
        code = np.broadcast_to(np.asarray(reason, dtype=np.int8), ev.shape)
        return cls(np.asarray(ev, dtype=np.int64), code)

    @classmethod
    def join(cls, *parts: Rejected) -> Rejected:
        """All the rejections of ``parts``."""
        return cls(
            np.concatenate([p.ev for p in parts]) if parts else np.zeros(0, np.int64),
            np.concatenate([p.code for p in parts]) if parts else np.zeros(0, np.int8),
        )


@dataclass(frozen=True)
class Events:
    """Every event of the frame in frame order (an ``ORDER_PAID``'s lines are one event)."""

    seq: np.ndarray
    type: np.ndarray  # codes into type_names
    type_names: list[str]


@dataclass(frozen=True)
class Table:
    """Open events of one type in event order: event index, seq, ts (UTC ns), fields."""

    ev: np.ndarray
    seq: np.ndarray
    ts: np.ndarray

    def take(self, index: np.ndarray) -> Self:
        """The events at ``index`` (a mask or positions); itself when a mask keeps all."""
        if _keeps_all(index):
            return self
        return replace(self, **{f.name: getattr(self, f.name)[index] for f in fields(self)})


def _keeps_all(index: np.ndarray) -> bool:
    """True for a boolean mask with every element set (a take that copies for nothing)."""
    return index.dtype == bool and bool(index.all())


def compact_index(values: np.ndarray, bound: int | None = None) -> np.ndarray:
    """Indices as int32 while they fit, else int64.

    ``bound`` is the length of the array they index (default: their own count).
    """
    size = len(values) if bound is None else bound
    return values.astype(np.int32 if size < 2**31 else np.int64, copy=False)


@dataclass(frozen=True)
class UserEvents(Table):
    """REGISTERED, USER_BANNED, HOLD, RELEASE."""

    user_id: np.ndarray


@dataclass(frozen=True)
class BindEvents(Table):
    """BOUND (R1)."""

    user_id: np.ndarray
    inviter_id: np.ndarray


@dataclass(frozen=True)
class ReceiptEvents(Table):
    """ORDER_RECEIVED (R5)."""

    order_id: np.ndarray


@dataclass(frozen=True)
class RefundEvents(Table):
    """REFUND (R6)."""

    refund_id: np.ndarray
    line_id: np.ndarray
    amount: np.ndarray


@dataclass(frozen=True)
class WithdrawalEvents(Table):
    """WITHDRAWAL."""

    user_id: np.ndarray
    amount: np.ndarray


@dataclass(frozen=True)
class RequestEvents(Table):
    """WITHDRAWAL_REQUESTED."""

    user_id: np.ndarray
    request_id: np.ndarray
    amount: np.ndarray


@dataclass(frozen=True)
class DecisionEvents(Table):
    """WITHDRAWAL_APPROVED, _REJECTED, _PAID, _FAILED: the request decided."""

    request_id: np.ndarray


@dataclass(frozen=True)
class AdjustmentEvents(Table):
    """ADJUSTMENT: ``reason`` and ``operator_id`` are object arrays (str)."""

    user_id: np.ndarray
    amount: np.ndarray
    reason: np.ndarray
    operator_id: np.ndarray


@dataclass(frozen=True)
class CommissionDecisionEvents(Table):
    """COMMISSION_APPROVED / _DECLINED: ``entry_ids`` (comma-separated), ``reason`` and
    ``operator_id`` are object arrays (str or None)."""

    entry_ids: np.ndarray
    reason: np.ndarray
    operator_id: np.ndarray


@dataclass(frozen=True)
class EngagementEvents(Table):
    """ENGAGEMENT (R10): ``action`` and ``channel`` are object arrays (str or None)."""

    user_id: np.ndarray
    action: np.ndarray
    channel: np.ndarray
    line_id: np.ndarray


@dataclass(frozen=True)
class TextEvents(Table):
    """MONTH_CLOSE (``text`` = the month) and CONFIG_ACTIVATED (the version label)."""

    text: np.ndarray


@dataclass(frozen=True)
class OrderEvents(Table):
    """ORDER_PAID events and their lines (``first_line``/``n_lines`` index the line arrays)."""

    order_id: np.ndarray
    user_id: np.ndarray
    first_line: np.ndarray
    n_lines: np.ndarray
    line_order: np.ndarray  # per line: index of its order
    line_id: np.ndarray  # per line
    paid: np.ndarray  # per line, fen
    balance: np.ndarray  # per line, fen paid from commission balance
    line_row: np.ndarray  # per line: its row in the events frame

    def take(self, index: np.ndarray) -> Self:
        """The orders at ``index`` (a mask or ascending positions), with their lines."""
        if _keeps_all(index):
            return self
        keep = np.zeros(len(self.ev), dtype=bool)
        keep[index] = True
        lines = np.repeat(keep, self.n_lines)
        n_lines = self.n_lines[keep]
        return replace(
            self,
            ev=self.ev[keep],
            seq=self.seq[keep],
            ts=self.ts[keep],
            order_id=self.order_id[keep],
            user_id=self.user_id[keep],
            first_line=compact_index(np.cumsum(n_lines) - n_lines),
            n_lines=n_lines,
            line_order=_line_order(n_lines),
            line_id=self.line_id[lines],
            paid=self.paid[lines],
            balance=self.balance[lines],
            line_row=self.line_row[lines],
        )


def _line_order(n_lines: np.ndarray) -> np.ndarray:
    """Index of each line's order, for orders of ``n_lines`` lines each."""
    index = np.int32 if len(n_lines) < 2**31 else np.int64
    return np.repeat(np.arange(len(n_lines), dtype=index), n_lines)


@dataclass(frozen=True)
class EventTables:
    """The frame's events by type, and those rejected by the sequence checks."""

    events: Events
    rejected: Rejected
    registered: UserEvents
    banned: UserEvents
    binds: BindEvents
    orders: OrderEvents
    receipts: ReceiptEvents
    refunds: RefundEvents
    ticks: Table
    withdrawals: WithdrawalEvents
    engagements: EngagementEvents
    holds: UserEvents
    releases: UserEvents
    closes: TextEvents
    activations: TextEvents
    requests: RequestEvents
    approvals: DecisionEvents
    declines: DecisionEvents
    payouts: DecisionEvents
    failures: DecisionEvents
    adjustments: AdjustmentEvents
    commission_approvals: CommissionDecisionEvents
    commission_declines: CommissionDecisionEvents


def read_tables(frame: EventFrame) -> EventTables:
    """Split a validated frame into per-type tables (sequence checks applied)."""
    order_rows = np.flatnonzero(frame.type == TYPE_CODE["ORDER_PAID"])
    lines = _OrderRows.read(frame, order_rows)
    is_start = np.ones(frame.n_rows, dtype=bool)
    is_start[order_rows[~lines.new]] = False
    starts = np.flatnonzero(is_start)
    index = np.int32 if frame.n_rows < 2**31 else np.int64
    line_ev = (np.cumsum(is_start, dtype=index) - 1)[order_rows]
    del is_start
    events = Events(frame.seq[starts], frame.type[starts], frame.type_names)
    closed = _closed(events)
    rejected = [Rejected.of(np.flatnonzero(closed), Reason.STALE_SEQ)]
    unknown = ~closed & (events.type >= len(EVENT_TYPES))
    rejected.append(Rejected.of(np.flatnonzero(unknown), Reason.UNKNOWN_TYPE))
    closed |= unknown
    reader = _Reader(frame, events, starts, closed)
    orders, missing = lines.orders(events, line_ev, closed)
    tables: dict[str, Any] = {"orders": orders}
    for name, (kind, cls, columns) in _TABLES.items():
        tables[name], gone = reader.table(kind, cls, columns)
        missing.append(gone)
    rejected.append(Rejected.of(np.concatenate(missing), Reason.MISSING_FIELD))
    return EventTables(events=events, rejected=Rejected.join(*rejected), **tables)


def _closed(events: Events) -> np.ndarray:
    """STALE_SEQ: events whose seq does not exceed every earlier event's."""
    seq = events.seq
    if len(seq) < 2 or np.all(seq[1:] > seq[:-1]):
        return np.zeros(len(seq), dtype=bool)
    earlier_max = np.maximum.accumulate(np.r_[np.iinfo(np.int64).min, seq[:-1]])
    return np.asarray(seq <= earlier_max)


_TABLES: dict[str, tuple[str, type[Table], tuple[str, ...]]] = {
    "registered": ("REGISTERED", UserEvents, ("user_id",)),
    "banned": ("USER_BANNED", UserEvents, ("user_id",)),
    "binds": ("BOUND", BindEvents, ("user_id", "inviter_id")),
    "receipts": ("ORDER_RECEIVED", ReceiptEvents, ("order_id",)),
    "refunds": ("REFUND", RefundEvents, ("refund_id", "line_id", "amount_fen")),
    "ticks": ("SETTLEMENT_TICK", Table, ()),
    "withdrawals": ("WITHDRAWAL", WithdrawalEvents, ("user_id", "amount_fen")),
    "engagements": ("ENGAGEMENT", EngagementEvents, ("user_id", "action", "channel", "line_id")),
    "holds": ("HOLD", UserEvents, ("user_id",)),
    "releases": ("RELEASE", UserEvents, ("user_id",)),
    "closes": ("MONTH_CLOSE", TextEvents, ("month",)),
    "activations": ("CONFIG_ACTIVATED", TextEvents, ("month",)),
    "requests": ("WITHDRAWAL_REQUESTED", RequestEvents, ("user_id", "request_id", "amount_fen")),
    "approvals": ("WITHDRAWAL_APPROVED", DecisionEvents, ("request_id",)),
    "declines": ("WITHDRAWAL_REJECTED", DecisionEvents, ("request_id",)),
    "payouts": ("WITHDRAWAL_PAID", DecisionEvents, ("request_id",)),
    "failures": ("WITHDRAWAL_FAILED", DecisionEvents, ("request_id",)),
    "adjustments": (
        "ADJUSTMENT",
        AdjustmentEvents,
        ("user_id", "amount_fen", "reason", "operator_id"),
    ),
    "commission_approvals": (
        "COMMISSION_APPROVED",
        CommissionDecisionEvents,
        ("entry_ids", "reason", "operator_id"),
    ),
    "commission_declines": (
        "COMMISSION_DECLINED",
        CommissionDecisionEvents,
        ("entry_ids", "reason", "operator_id"),
    ),
}
"""Single-row event types: table name -> (type, table class, frame columns in field order)."""


@dataclass(frozen=True)
class _Reader:
    """Reads the single-row event types' tables from the frame."""

    frame: EventFrame
    events: Events
    starts: np.ndarray
    closed: np.ndarray

    def table(
        self, kind: str, cls: type[Table], columns: tuple[str, ...]
    ) -> tuple[Any, np.ndarray]:
        """The open events of ``kind`` and the events missing a required field."""
        ev = compact_index(np.flatnonzero((self.events.type == TYPE_CODE[kind]) & ~self.closed))
        rows = self.starts[ev]
        values = [self._column(c, rows) for c in columns]
        missing = np.zeros(len(ev), dtype=bool)
        for column, value in zip(columns, values, strict=True):
            if column in REQUIRED_FIELDS[kind]:
                missing |= _null(value)
        table = cls(ev, self.events.seq[ev], self.frame.ts[rows], *values)
        return table.take(~missing), ev[missing]

    def _column(self, column: str, rows: np.ndarray) -> np.ndarray:
        if column in STR_COLUMNS:
            return self.frame.texts(column, rows)
        return self.frame.ints(column, rows)


def _null(values: np.ndarray) -> np.ndarray:
    """Mask of null fields: None in text columns, :data:`MISSING` in int columns."""
    if values.dtype == object:
        return np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    return np.asarray(values == MISSING)


@dataclass(frozen=True)
class _OrderRows:
    """The frame's ``ORDER_PAID`` rows: fields per line and the lines starting an event."""

    rows: np.ndarray
    new: np.ndarray
    ts: np.ndarray
    order_id: np.ndarray
    user_id: np.ndarray
    line_id: np.ndarray
    paid: np.ndarray
    balance: np.ndarray

    @classmethod
    def read(cls, frame: EventFrame, rows: np.ndarray) -> _OrderRows:
        """Read the order lines at ``rows`` and group them into events."""
        order_id, user_id = frame.ints("order_id", rows), frame.ints("user_id", rows)
        ts = frame.ts[rows]
        new = order_line_groups(rows, frame.seq[rows], order_id, user_id, ts)
        return cls(
            rows,
            new,
            ts,
            order_id,
            user_id,
            frame.ints("line_id", rows),
            frame.ints("amount_fen", rows),
            frame.ints("balance_paid_fen", rows),
        )

    def orders(
        self, events: Events, line_ev: np.ndarray, closed: np.ndarray
    ) -> tuple[OrderEvents, list[np.ndarray]]:
        """The open ``ORDER_PAID`` events, and those missing a required field."""
        first = compact_index(np.flatnonzero(self.new))
        n_lines = np.diff(first, append=len(self.new)).astype(first.dtype)
        ev = line_ev[first]
        orders = OrderEvents(
            ev=ev,
            seq=events.seq[ev],
            ts=self.ts[first],
            order_id=self.order_id[first],
            user_id=self.user_id[first],
            first_line=first,
            n_lines=n_lines,
            line_order=_line_order(n_lines),
            line_id=self.line_id,
            paid=self.paid,
            balance=self.balance,
            line_row=self.rows,
        )
        flags = np.zeros(len(self.rows), dtype=bool)
        for values in (self.order_id, self.user_id, self.line_id, self.paid):
            flags |= values == MISSING
        missing = np.zeros(len(ev), dtype=bool)
        missing[orders.line_order[flags]] = True
        missing &= ~closed[ev]
        return orders.take(~closed[ev] & ~missing), [ev[missing]]
