"""Referral events: typed records for the fold, one long DataFrame for the batch.

The events frame has one row per event, except ``ORDER_PAID`` which has one row
per order line; consecutive ``ORDER_PAID`` rows with the same ``seq``,
``order_id``, ``user_id`` and ``ts`` form one event. Columns (defaults):

| column | dtype | used by |
|---|---|---|
| ``seq`` | int | every event; must increase (a repeat or a step back is ``STALE_SEQ``) |
| ``type`` | str | one of :data:`EVENT_TYPES` |
| ``ts`` | tz-aware datetime | every event (the tick's / close's ``as_of``) |
| ``user_id`` | int | REGISTERED, BOUND, ORDER_PAID, USER_BANNED, WITHDRAWAL, WITHDRAWAL_REQUESTED, ADJUSTMENT |
| ``inviter_id`` | int | BOUND |
| ``order_id`` | int | ORDER_PAID, ORDER_RECEIVED |
| ``line_id`` | int | ORDER_PAID, REFUND |
| ``amount_fen`` | int | ORDER_PAID (paid goods amount of the line), REFUND, WITHDRAWAL, WITHDRAWAL_REQUESTED; ADJUSTMENT (signed: credit > 0, debit < 0) |
| ``balance_paid_fen`` | int | ORDER_PAID: part paid from commission balance (default 0) |
| ``product_id`` | id | ORDER_PAID: the line's product (optional; matched by rate overrides) |
| ``refund_id`` | int | REFUND |
| ``request_id`` | int | WITHDRAWAL_REQUESTED (the caller's idempotency key), WITHDRAWAL_APPROVED / _REJECTED / _PAID / _FAILED (the request decided) |
| ``month`` | str | MONTH_CLOSE (``"YYYY-MM"``); CONFIG_ACTIVATED: the version label |
| ``action`` | str | ENGAGEMENT: ``"SHARE"`` or ``"COMMENT"`` (comments name ``line_id``) |
| ``channel`` | str | ENGAGEMENT: where a share went (``"WECHAT"`` shares earn no points) |
| ``reason`` | str | ADJUSTMENT: why the operator credits or debits (non-blank) |
| ``operator_id`` | str | ADJUSTMENT: who made it (non-blank) |
| ``category`` | str | ORDER_PAID: the line's product category (optional) |
| ``order_type`` | str | ORDER_PAID: the order's type, e.g. ``"SECKILL"`` (optional; the first line's holds for the order) |
| ``entry_ids`` | str | COMMISSION_APPROVED / _DECLINED: the commission entry ids decided, comma-separated |

``reason`` and ``operator_id`` also serve COMMISSION_DECLINED (reason, operator)
and COMMISSION_APPROVED (operator); see :mod:`chainmall.referral.rules.approvals`.

The withdrawal workflow (:mod:`chainmall.referral.rules.withdrawals`) is
``WITHDRAWAL_REQUESTED`` → ``WITHDRAWAL_APPROVED`` / ``WITHDRAWAL_REJECTED`` →
``WITHDRAWAL_PAID`` / ``WITHDRAWAL_FAILED``; the one-step ``WITHDRAWAL`` stays
for logs that record payouts made outside the workflow.

``CONFIG_ACTIVATED`` (spec §4.0, §4.6) reuses two columns: ``month`` holds the
activated ``config_version`` label and ``ts`` its ``effective_at`` (as a tick's
``ts`` is its ``as_of``). Order lines paid at or after ``effective_at`` (and with
a larger ``seq``) use that version; see :mod:`chainmall.referral.versions`.

Integer columns may be pandas nullable ``Int64``. Frame-level problems (missing
``seq``/``type``/``ts``, float money, naive timestamps) raise
:class:`~chainmall.exceptions.DataValidationError`; event-level problems are
returned as rejected events with a reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from chainmall._validation import MAX_EXACT_INT
from chainmall.exceptions import DataValidationError

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_TYPES",
    "MAX_LINE_FEN",
    "MISSING",
    "Adjustment",
    "Bound",
    "CommissionApproved",
    "CommissionDeclined",
    "ConfigActivated",
    "Engagement",
    "Event",
    "Hold",
    "MonthClose",
    "OrderLine",
    "OrderPaid",
    "OrderReceived",
    "RefundSucceeded",
    "Registered",
    "Release",
    "SettlementTick",
    "UserBanned",
    "Withdrawal",
    "WithdrawalApproved",
    "WithdrawalFailed",
    "WithdrawalPaid",
    "WithdrawalRejected",
    "WithdrawalRequested",
    "check_rows",
    "event_rows",
    "events_to_frame",
    "is_id",
    "is_int",
    "join_entry_ids",
    "plain_ints",
    "rows_to_frame",
    "split_entry_ids",
]


@dataclass(frozen=True, slots=True)
class Registered:
    """A user account was created."""

    seq: int
    ts: datetime
    user_id: int


@dataclass(frozen=True, slots=True)
class Bound:
    """``user_id`` used ``inviter_id``'s invite link (R1)."""

    seq: int
    ts: datetime
    user_id: int
    inviter_id: int


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A goods line: ``paid_fen`` net of discounts, ``balance_paid_fen`` of it from balance.

    ``product_id`` and ``category`` (optional) select a commission rate override
    (:class:`~chainmall.referral.config.RateOverride`).
    """

    line_id: int
    paid_fen: int
    balance_paid_fen: int = 0
    product_id: int | str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class OrderPaid:
    """An order was paid; freight and fees are not lines.

    ``order_type`` (optional, e.g. ``"SECKILL"``) selects a rate override for every line.
    """

    seq: int
    ts: datetime
    order_id: int
    user_id: int
    lines: tuple[OrderLine, ...]
    order_type: str | None = None


@dataclass(frozen=True, slots=True)
class OrderReceived:
    """The buyer received (or auto-received) the order: starts the refund window."""

    seq: int
    ts: datetime
    order_id: int


@dataclass(frozen=True, slots=True)
class RefundSucceeded:
    """``amount_fen`` of line ``line_id`` was refunded; ``refund_id`` is the idempotency key."""

    seq: int
    ts: datetime
    refund_id: int
    line_id: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class SettlementTick:
    """Settle every pending entry whose ``settle_at <= ts``."""

    seq: int
    ts: datetime


@dataclass(frozen=True, slots=True)
class MonthClose:
    """Close accrual month ``month`` (``"YYYY-MM"``) as of ``ts``."""

    seq: int
    ts: datetime
    month: str


@dataclass(frozen=True, slots=True)
class UserBanned:
    """The user is banned: no new binds to them; their rewards are forfeited."""

    seq: int
    ts: datetime
    user_id: int


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """The user withdraws ``amount_fen`` from the available balance."""

    seq: int
    ts: datetime
    user_id: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class WithdrawalRequested:
    """The user asks to withdraw ``amount_fen``; ``request_id`` is the idempotency key.

    Accepted, the amount moves from ``available`` to ``reserved`` until the
    request is rejected, paid or fails.
    """

    seq: int
    ts: datetime
    user_id: int
    request_id: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class WithdrawalApproved:
    """An operator approved request ``request_id`` for payment."""

    seq: int
    ts: datetime
    request_id: int


@dataclass(frozen=True, slots=True)
class WithdrawalRejected:
    """An operator rejected request ``request_id``: its reserved funds return."""

    seq: int
    ts: datetime
    request_id: int


@dataclass(frozen=True, slots=True)
class WithdrawalPaid:
    """The payment of approved request ``request_id`` went through."""

    seq: int
    ts: datetime
    request_id: int


@dataclass(frozen=True, slots=True)
class WithdrawalFailed:
    """The payment of approved request ``request_id`` failed: its reserved funds return."""

    seq: int
    ts: datetime
    request_id: int


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A manual credit (``amount_fen > 0``) or debit (``< 0``) of ``available``.

    ``reason`` and ``operator_id`` are non-blank texts kept in the event log.
    """

    seq: int
    ts: datetime
    user_id: int
    amount_fen: int
    reason: str
    operator_id: str


@dataclass(frozen=True, slots=True)
class CommissionApproved:
    """An operator approved settled commissions ``entry_ids`` (all or none): they become
    available. Used when ``ReferralConfig.approval`` makes commissions wait."""

    seq: int
    ts: datetime
    entry_ids: tuple[str, ...]
    operator_id: str


@dataclass(frozen=True, slots=True)
class CommissionDeclined:
    """An operator declined settled commissions ``entry_ids`` (all or none) for ``reason``:
    what is left of each is reversed (a ``DECLINE`` entry)."""

    seq: int
    ts: datetime
    entry_ids: tuple[str, ...]
    reason: str
    operator_id: str


@dataclass(frozen=True, slots=True)
class Engagement:
    """A share (``action="SHARE"``, on ``channel``) or a comment on bought line ``line_id``."""

    seq: int
    ts: datetime
    user_id: int
    action: str
    channel: str | None = None
    line_id: int | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """Pause settlement (R5) of the user's entries (team-health or admin hold, R11)."""

    seq: int
    ts: datetime
    user_id: int


@dataclass(frozen=True, slots=True)
class Release:
    """Lift the user's hold: held entries settle at the next tick."""

    seq: int
    ts: datetime
    user_id: int


@dataclass(frozen=True, slots=True)
class ConfigActivated:
    """Config ``version`` applies to orders paid at or after ``ts`` (= ``effective_at``)."""

    seq: int
    ts: datetime
    version: str

    @property
    def effective_at(self) -> datetime:
        """First paid time (inclusive) the version applies to: the event's ``ts``."""
        return self.ts


Event = (
    Registered
    | Bound
    | OrderPaid
    | OrderReceived
    | RefundSucceeded
    | SettlementTick
    | MonthClose
    | UserBanned
    | Withdrawal
    | Engagement
    | Hold
    | Release
    | ConfigActivated
    | WithdrawalRequested
    | WithdrawalApproved
    | WithdrawalRejected
    | WithdrawalPaid
    | WithdrawalFailed
    | Adjustment
    | CommissionApproved
    | CommissionDeclined
)

EVENT_TYPES: dict[str, type[Any]] = {
    "REGISTERED": Registered,
    "BOUND": Bound,
    "ORDER_PAID": OrderPaid,
    "ORDER_RECEIVED": OrderReceived,
    "REFUND": RefundSucceeded,
    "SETTLEMENT_TICK": SettlementTick,
    "MONTH_CLOSE": MonthClose,
    "USER_BANNED": UserBanned,
    "WITHDRAWAL": Withdrawal,
    "ENGAGEMENT": Engagement,
    "HOLD": Hold,
    "RELEASE": Release,
    "CONFIG_ACTIVATED": ConfigActivated,
    "WITHDRAWAL_REQUESTED": WithdrawalRequested,
    "WITHDRAWAL_APPROVED": WithdrawalApproved,
    "WITHDRAWAL_REJECTED": WithdrawalRejected,
    "WITHDRAWAL_PAID": WithdrawalPaid,
    "WITHDRAWAL_FAILED": WithdrawalFailed,
    "ADJUSTMENT": Adjustment,
    "COMMISSION_APPROVED": CommissionApproved,
    "COMMISSION_DECLINED": CommissionDeclined,
}
TYPE_OF: dict[type[Any], str] = {cls: name for name, cls in EVENT_TYPES.items()}

INT_COLUMNS = (
    "user_id",
    "inviter_id",
    "order_id",
    "line_id",
    "amount_fen",
    "balance_paid_fen",
    "refund_id",
    "request_id",
    "product_id",
)
STR_COLUMNS = (
    "month",
    "action",
    "channel",
    "reason",
    "operator_id",
    "category",
    "order_type",
    "entry_ids",
)
EVENT_COLUMNS = ("seq", "type", "ts", *INT_COLUMNS, *STR_COLUMNS)

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "REGISTERED": ("user_id",),
    "BOUND": ("user_id", "inviter_id"),
    "ORDER_PAID": ("order_id", "user_id", "line_id", "amount_fen"),
    "ORDER_RECEIVED": ("order_id",),
    "REFUND": ("refund_id", "line_id", "amount_fen"),
    "SETTLEMENT_TICK": (),
    "MONTH_CLOSE": ("month",),
    "USER_BANNED": ("user_id",),
    "WITHDRAWAL": ("user_id", "amount_fen"),
    "ENGAGEMENT": ("user_id", "action"),
    "HOLD": ("user_id",),
    "RELEASE": ("user_id",),
    "CONFIG_ACTIVATED": ("month",),
    "WITHDRAWAL_REQUESTED": ("user_id", "request_id", "amount_fen"),
    "WITHDRAWAL_APPROVED": ("request_id",),
    "WITHDRAWAL_REJECTED": ("request_id",),
    "WITHDRAWAL_PAID": ("request_id",),
    "WITHDRAWAL_FAILED": ("request_id",),
    "ADJUSTMENT": ("user_id", "amount_fen", "reason", "operator_id"),
    "COMMISSION_APPROVED": ("entry_ids",),
    "COMMISSION_DECLINED": ("entry_ids",),
}

MISSING = np.iinfo(np.int64).min
"""Sentinel for a null integer field inside the engine's int64 arrays."""

MAX_LINE_FEN = 2**31 - 1
"""Largest accepted line amount (21,474,836.47 yuan): keeps fen products inside int64."""


def is_int(value: Any) -> bool:
    """True for a Python or numpy integer (not a bool): fen amounts, seqs, integer ids."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def is_id(value: Any) -> bool:
    """True for a caller's id: an integer (not a bool) or a non-empty text."""
    return is_int(value) or (isinstance(value, str) and value != "")


_Record = TypeVar("_Record")

ID_FIELDS = ("user_id", "inviter_id", "order_id", "refund_id", "request_id")
"""Fields of the typed events that hold ids (line ids are on the lines)."""


def plain_ints(event: _Record) -> _Record:
    """``event`` with numpy integers (ids, amounts, ``seq``) as Python ints, so the records
    it produces serialise; the event itself when it holds none (the common case)."""
    fields = type(event).__dataclass_fields__  # type: ignore[attr-defined]
    changes: dict[str, Any] = {
        f: int(getattr(event, f)) for f in fields if isinstance(getattr(event, f), np.integer)
    }
    if isinstance(event, OrderPaid):
        lines = tuple(plain_ints(line) for line in event.lines)
        if any(new is not old for new, old in zip(lines, event.lines, strict=True)):
            changes["lines"] = lines
    return dataclasses.replace(event, **changes) if changes else event  # type: ignore[type-var]


TYPE_CODE: dict[str, int] = {name: i for i, name in enumerate(EVENT_TYPES)}
"""Code of each known event type; unknown types get codes after these."""


def events_to_frame(events: list[Event]) -> pd.DataFrame:
    """The events frame of typed events (ORDER_PAID expands to one row per line).

    Id columns holding text ids are ``object`` columns; the others nullable ``Int64``.

    Raises:
        DataValidationError: a timestamp that is not a timezone-aware datetime, or an
            amount or id that is a float, a bool or another type (nothing is truncated).
    """
    return rows_to_frame([row for event in events for row in event_rows(event)])


def event_rows(event: Event) -> list[dict[str, Any]]:
    """The events-frame rows of one typed event, as dicts (nulls included, nothing checked).

    One row per line for ``ORDER_PAID``, else one row.
    """
    base = {"seq": event.seq, "type": TYPE_OF[type(event)], "ts": event.ts}
    if isinstance(event, OrderPaid):
        return [
            {
                **base,
                "order_id": event.order_id,
                "user_id": event.user_id,
                "line_id": line.line_id,
                "amount_fen": line.paid_fen,
                "balance_paid_fen": line.balance_paid_fen,
                "product_id": line.product_id,
                "category": line.category,
                "order_type": event.order_type,
            }
            for line in event.lines
        ]
    fields = {
        f: getattr(event, f)
        for f in (*INT_COLUMNS, *STR_COLUMNS)
        if f in type(event).__dataclass_fields__
    }
    if isinstance(event, ConfigActivated):
        fields["month"] = event.version
    if isinstance(event, CommissionApproved | CommissionDeclined):
        fields["entry_ids"] = join_entry_ids(event.entry_ids)
    return [{**base, **fields}]


def join_entry_ids(entry_ids: Any) -> Any:
    """The ``entry_ids`` column's text of a decision's ids (comma-separated); a value that
    is not a tuple or list of texts is kept as given, for the rules to reject."""
    if isinstance(entry_ids, tuple | list) and all(isinstance(e, str) for e in entry_ids):
        return ",".join(entry_ids)
    return entry_ids


def split_entry_ids(text: str) -> tuple[str, ...]:
    """The entry ids of an ``entry_ids`` column text (empty parts dropped)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def rows_to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The events frame of rows given as dicts (absent keys are nulls).

    Raises:
        DataValidationError: see :func:`events_to_frame`.
    """
    check_rows(rows)
    _check_seqs(rows)
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    for col in INT_COLUMNS:  # text ids stay text (object); the rest are nullable Int64
        text = frame[col].map(lambda v: isinstance(v, str)).any()
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        if not text:
            frame[col] = frame[col].astype("Int64")
    frame["seq"] = frame["seq"].astype("int64")
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    for col in STR_COLUMNS:
        frame[col] = frame[col].astype(object)
    return frame


_MONEY = ("amount_fen", "balance_paid_fen")
_INT64_MAX = 2**63 - 1


def _check_seqs(rows: list[dict[str, Any]]) -> None:
    """Every row's ``seq`` is an integer in 1 .. 2**53 - 1 (the store numbers from 1)."""
    bad = [
        (i, row.get("seq"))
        for i, row in enumerate(rows)
        if not is_int(row.get("seq")) or not 1 <= row["seq"] <= MAX_EXACT_INT
    ]
    if bad:
        shown = ", ".join(f"row {i}: seq={v!r}" for i, v in bad[:5])
        raise DataValidationError(
            f"{len(bad)} event(s) have a seq that is not an integer in 1 .. {MAX_EXACT_INT:,} "
            f"({shown}); number events 1, 2, ... in the order they happened (nothing was "
            "converted)"
        )


def _field_ok(column: str, value: Any) -> bool:
    """A null, an integer in range (money: +-(2**53 - 1) fen; ids: int64) or a text id."""
    if value is None:
        return True
    if is_int(value):
        return bool(abs(value) <= (MAX_EXACT_INT if column in _MONEY else _INT64_MAX))
    return column not in _MONEY and isinstance(value, str)


def check_rows(rows: list[dict[str, Any]], label: str = "seq") -> None:
    """Timestamps are aware datetimes; money is int fen; ids are int or text.

    ``label``: the field that names a row in the error (``seq``, ``event_id``).

    Raises:
        DataValidationError: naming up to five offending rows and the fix.
    """
    bad: list[str] = []
    for row in rows:
        ts = row.get("ts")
        name = f"{label} {row.get(label)!r}"
        if not isinstance(ts, datetime) or ts.tzinfo is None or ts.utcoffset() is None:
            bad.append(f"{name}: ts={ts!r} (a timezone-aware datetime)")
        for col in INT_COLUMNS:
            value = row.get(col)
            if not _field_ok(col, value):
                want = (
                    f"integer fen within +-{MAX_EXACT_INT:,}"
                    if col in _MONEY
                    else "an int64 integer or a text id"
                )
                bad.append(f"{name}: {col}={value!r} ({want})")
    if bad:
        raise DataValidationError(
            f"{len(bad)} event field(s) cannot be stored as given, e.g. {'; '.join(bad[:5])}; "
            "nothing was converted or truncated: give money in integer fen (e.g. "
            "int(Decimal('100.37') * 100) for 100.37 yuan) and aware timestamps"
        )
