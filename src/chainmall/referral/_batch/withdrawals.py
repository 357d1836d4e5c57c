"""Account events for a whole log: withdrawals (one-step and workflow) and adjustments.

Mirrors :mod:`chainmall.referral.rules.withdrawals`, :mod:`~chainmall.referral.rules.adjustments`
and ``rules.accounts.withdrawal``. Whether an account event is accepted depends on
the member's balances at that point of the ledger (every settlement and claw-back
before it) and on the requests before it, so the events are decided in one
sequential pass once the other entries are in ledger order: the ``SETTLE``, ``APPROVE`` and
``CLAWBACK`` rows of the members with account events are replayed in between
(netting and filling ``receivable`` as the fold does, their ``receivable_fen``
rewritten in place), and each accepted event's entries are inserted after the
entries of earlier events. Only the rows of members with account events are
visited; the loop runs once per account event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from chainmall.referral._batch.accounts import Users
from chainmall.referral._batch.tables import EventTables, Table
from chainmall.referral._batch.versions import Activations
from chainmall.referral.calendar import NS_PER_S
from chainmall.referral.config import ReferralConfig, WithdrawalConfig
from chainmall.referral.events import MISSING
from chainmall.referral.payout_tax import TaxConfig, TaxYear, withhold
from chainmall.referral.reasons import Reason
from chainmall.referral.records import INT_FIELDS, KINDS
from chainmall.referral.rules.adjustments import blank_text
from chainmall.referral.rules.withdrawals import local_day

__all__ = ["AccountEvents", "LateRejections", "account_events", "post_accounts"]

TYPES = (
    "WITHDRAWAL",
    "WITHDRAWAL_REQUESTED",
    "WITHDRAWAL_APPROVED",
    "WITHDRAWAL_REJECTED",
    "WITHDRAWAL_PAID",
    "WITHDRAWAL_FAILED",
    "ADJUSTMENT",
)
"""Account event types; an event's ``type`` code indexes this."""
LEGACY, REQUEST, APPROVE, REJECT, PAY, FAIL, ADJUST = range(len(TYPES))
_TABLES = ("withdrawals", "requests", "approvals", "declines", "payouts", "failures", "adjustments")

SETTLE, APPROVED, CLAWBACK, WITHDRAWAL, HOLD, RELEASE, PAID, FEE, ADJUSTMENT, WITHHOLDING = (
    KINDS.index(k)
    for k in (
        "SETTLE",
        "APPROVE",
        "CLAWBACK",
        "WITHDRAWAL",
        "WITHDRAW_HOLD",
        "WITHDRAW_RELEASE",
        "WITHDRAW_PAID",
        "WITHDRAW_FEE",
        "ADJUSTMENT",
        "WITHHOLDING",
    )
)
_NEW = ("event", "kind", "user_id", "amount_fen", "receivable_fen", "ref")
_TAX = ("gross_fen", "base_fen", "rate_bp")
"""The int fields of a new entry (``event``: its account event; ``ref``: a new entry's
index), then those only a ``WITHHOLDING`` entry sets."""


@dataclass(frozen=True)
class AccountEvents:
    """Every open account event in event order, with what the pass needs to decide it.

    ``user``/``request``/``amount`` are :data:`MISSING` where the type has none;
    ``known``: the user was registered before the event; ``version``: config
    version codes (None: only the initial config is in force).
    """

    ev: np.ndarray
    seq: np.ndarray
    ts: np.ndarray
    type: np.ndarray
    user: np.ndarray
    known: np.ndarray
    request: np.ndarray
    amount: np.ndarray
    text: list[tuple[Any, Any]]  # (reason, operator_id) of adjustments, else (None, None)
    version: np.ndarray | None
    rules: WithdrawalConfig
    timezone: str
    tax: TaxConfig | None = None


def account_events(
    tables: EventTables, users: Users, activations: Activations, config: ReferralConfig
) -> AccountEvents:
    """The account events of ``tables`` merged in event order (``config``: the initial one)."""
    parts: list[Table] = [getattr(tables, name) for name in _TABLES]
    n = [len(p.ev) for p in parts]

    def column(name: str) -> np.ndarray:
        return np.concatenate(
            [getattr(p, name, np.full(len(p.ev), MISSING, dtype=np.int64)) for p in parts]
        ).astype(np.int64)

    ev = np.concatenate([p.ev for p in parts]).astype(np.int64)
    order = np.argsort(ev, kind="stable")
    seq, ts, user = column("seq")[order], column("ts")[order], column("user_id")[order]
    adjust = tables.adjustments
    text = [(None, None)] * (len(ev) - len(adjust.ev))
    text += list(zip(adjust.reason.tolist(), adjust.operator_id.tolist(), strict=True))
    has_user = user != MISSING
    known = np.zeros(len(ev), dtype=bool)
    known[has_user] = users.known_before(user[has_user], ev[order][has_user])
    return AccountEvents(
        ev=ev[order],
        seq=seq,
        ts=ts,
        type=np.repeat(np.arange(len(TYPES)), n)[order],
        user=user,
        known=known,
        request=column("request_id")[order],
        amount=column("amount")[order],
        text=[text[i] for i in order.tolist()],
        version=activations.codes(seq, ts) if len(activations.seq) else None,
        rules=config.withdrawals,
        timezone=config.timezone,
        tax=config.tax,
    )


@dataclass(frozen=True)
class LateRejections:
    """Account events the pass refused: event indices, seqs, type names, reason names."""

    ev: np.ndarray
    seq: list[int]
    type: list[str]
    reason: list[str]

    def join(self, other: LateRejections) -> LateRejections:
        """The rejections of both (in no particular order: the frame sorts them)."""
        return LateRejections(
            np.concatenate([self.ev, other.ev]).astype(np.int64),
            [*self.seq, *other.seq],
            [*self.type, *other.type],
            [*self.reason, *other.reason],
        )


@dataclass
class _Request:
    user: int
    amount: int
    fee: int
    status: str
    hold: int  # index of its WITHDRAW_HOLD among the new entries


@dataclass
class _Pass:
    """The running accounts of the members with account events, and the entries made."""

    available: dict[int, int] = field(default_factory=dict)
    owed: dict[int, int] = field(default_factory=dict)
    requests: dict[int, _Request] = field(default_factory=dict)
    days: dict[tuple[int, int], int] = field(default_factory=dict)
    tax_years: dict[tuple[int, int], TaxYear] = field(default_factory=dict)
    rows: list[tuple[int, ...]] = field(default_factory=list)
    """New entries: the :data:`_NEW` then the :data:`_TAX` fields."""
    months: list[str | None] = field(default_factory=list)
    """The ``month`` of each new entry (a ``WITHHOLDING``'s tax month, else None)."""

    def credit(self, user: int, amount: int) -> int:
        """Credit ``available`` netting what is owed first; the fen netted."""
        netted = min(self.owed.get(user, 0), amount)
        self.owed[user] = self.owed.get(user, 0) - netted
        self.available[user] = self.available.get(user, 0) + amount - netted
        return netted

    def debit(self, user: int, amount: int) -> int:
        """Debit ``available``; the shortfall is owed (returned)."""
        take = min(amount, self.available.get(user, 0))
        self.available[user] = self.available.get(user, 0) - take
        self.owed[user] = self.owed.get(user, 0) + amount - take
        return amount - take

    def ledger_row(self, kind: int, user: int, amount: int) -> int:
        """Replay a ``SETTLE``, ``APPROVE`` or ``CLAWBACK`` row; its ``receivable_fen``."""
        if kind in (SETTLE, APPROVED):
            return -self.credit(user, amount)
        return self.debit(user, -amount)

    def emit(
        self, i: int, kind: int, user: int, amount: int, month: str | None = None, **more: int
    ) -> int:
        """Record a new entry of event ``i``; its index among the new entries."""
        tax = tuple(more.get(name, MISSING) for name in _TAX)
        receivable = more.get("receivable", MISSING)
        self.rows.append((i, kind, user, amount, receivable, more.get("ref", -1), *tax))
        self.months.append(month)
        return len(self.rows) - 1

    def withhold(self, events: AccountEvents, i: int, user: int, gross: int, limit: int) -> Any:
        """The tax on a payout of ``gross`` fen by event ``i`` (mirrors the fold's
        ``rules.withdrawals.withholding``): ``(withheld, entry fields)``, or None when off."""
        config = events.tax
        if config is None:
            return None
        local = datetime.fromtimestamp(int(events.ts[i]) // NS_PER_S, ZoneInfo(config.timezone))
        key = (user, local.year)
        computed, year = withhold(config, self.tax_years.get(key), gross, local.month, limit)
        if year is not None:
            self.tax_years[key] = year
        fields = {"gross_fen": gross, "base_fen": computed.taxable, "rate_bp": computed.rate_bp}
        return computed.withheld, f"{local.year:04d}-{local.month:02d}", fields


def post_accounts(
    cols: dict[str, np.ndarray], events: AccountEvents | None, months: list[str]
) -> tuple[dict[str, np.ndarray], list[str], LateRejections]:
    """Decide the account events against the ledger ``cols`` (``month`` codes into
    ``months``); insert their entries. Returns the ledger, its month labels, the refused."""
    late: list[tuple[int, int]] = []
    if events is None or not len(events.ev):
        return cols, months, _late(events, late)
    state = _Pass()
    kind, user, amount, receivable = (
        cols["kind"],
        cols["user_id"],
        cols["amount_fen"],
        cols["receivable_fen"],
    )
    involved = np.unique(events.user[events.known])
    rows = np.flatnonzero(
        np.isin(kind, [SETTLE, APPROVED, CLAWBACK]) & np.isin(user, involved)
    ).tolist()
    seq = cols["seq"]
    at = 0
    tz = ZoneInfo(events.timezone)
    for i in range(len(events.ev)):
        while at < len(rows) and seq[rows[at]] < events.seq[i]:
            r = rows[at]
            receivable[r] = state.ledger_row(int(kind[r]), int(user[r]), int(amount[r]))
            at += 1
        reason = _decide(state, events, i, tz)
        if reason is not None:
            late.append((i, reason))
    for r in rows[at:]:
        receivable[r] = state.ledger_row(int(kind[r]), int(user[r]), int(amount[r]))
    months = _tax_months(cols, months, state.months)
    return _insert(cols, state, events, months), months, _late(events, late)


def _tax_months(cols: dict[str, np.ndarray], months: list[str], new: list[str | None]) -> list[str]:
    """The sorted month labels with the new entries' (old ``month`` codes recoded in place)."""
    extra = {m for m in new if m is not None} - set(months)
    if not extra:
        return months
    merged = sorted({*months, *extra})
    recode = np.array([merged.index(m) for m in months] + [-1], dtype=cols["month"].dtype)
    cols["month"] = recode[cols["month"]]  # code -1 (null) reads the last slot
    return merged


def _decide(state: _Pass, events: AccountEvents, i: int, tz: ZoneInfo) -> Reason | None:
    """Apply account event ``i`` (mirrors the fold's rule for its type); why not, if refused."""
    t = int(events.type[i])
    if t in (LEGACY, REQUEST, ADJUST) and not events.known[i]:
        return Reason.UNKNOWN_USER
    u, a = int(events.user[i]), int(events.amount[i])
    if t == ADJUST:
        return _adjust(state, i, u, a, events.text[i])
    if t in (LEGACY, REQUEST) and a <= 0:
        return Reason.NON_POSITIVE_AMOUNT
    if t == LEGACY:
        if a > state.available.get(u, 0):
            return Reason.INSUFFICIENT_AVAILABLE
        state.available[u] = state.available.get(u, 0) - a
        tax = state.withhold(events, i, u, a, a)
        paid = state.emit(i, WITHDRAWAL, u, -a + (tax[0] if tax else 0))
        _post_tax(state, i, u, tax, paid)
        return None
    if t == REQUEST:
        return _request(state, events, i, u, a, local_day(int(events.ts[i]), tz))
    return _settle_request(state, events, i, t, int(events.request[i]))


def _post_tax(state: _Pass, i: int, u: int, tax: Any, ref: int) -> None:
    """The ``WITHHOLDING`` entry of a payout (none when the tax is off)."""
    if tax is not None:
        withheld, month, fields = tax
        state.emit(i, WITHHOLDING, u, -withheld, month, ref=ref, **fields)


def _adjust(state: _Pass, i: int, u: int, a: int, text: tuple[Any, Any]) -> Reason | None:
    if a == 0:
        return Reason.ZERO_ADJUSTMENT
    if blank_text(text[0]) or blank_text(text[1]):
        return Reason.MISSING_REASON
    owed = -state.credit(u, a) if a > 0 else state.debit(u, -a)
    state.emit(i, ADJUSTMENT, u, a, receivable=owed)
    return None


def _request(
    state: _Pass, events: AccountEvents, i: int, u: int, a: int, day: int
) -> Reason | None:
    rules, request = events.rules, int(events.request[i])
    if request in state.requests:
        return Reason.DUPLICATE_REQUEST
    if a < rules.min_fen:
        return Reason.BELOW_MINIMUM
    fee = rules.fee_of(a)
    if fee >= a:
        return Reason.FEE_EXCEEDS_AMOUNT
    if rules.daily_limit and state.days.get((u, day), 0) >= rules.daily_limit:
        return Reason.DAILY_LIMIT
    if a > state.available.get(u, 0):
        return Reason.INSUFFICIENT_AVAILABLE
    state.available[u] -= a
    state.days[(u, day)] = state.days.get((u, day), 0) + 1
    state.requests[request] = _Request(u, a, fee, "REQUESTED", state.emit(i, HOLD, u, -a))
    return None


def _settle_request(
    state: _Pass, events: AccountEvents, i: int, t: int, request_id: int
) -> Reason | None:
    request = state.requests.get(request_id)
    if request is None:
        return Reason.UNKNOWN_REQUEST
    needed = "REQUESTED" if t in (APPROVE, REJECT) else "APPROVED"
    if request.status != needed:
        if needed == "APPROVED" and request.status in ("REQUESTED", "REJECTED"):
            return Reason.NOT_APPROVED
        return Reason.ALREADY_DECIDED
    u, a = request.user, request.amount
    if t == APPROVE:
        request.status = "APPROVED"
    elif t == PAY:
        request.status = "PAID"
        net = a - request.fee
        tax = state.withhold(events, i, u, a, net)
        state.emit(i, PAID, u, -net + (tax[0] if tax else 0), ref=request.hold)
        if request.fee:
            state.emit(i, FEE, u, -request.fee, ref=request.hold)
        _post_tax(state, i, u, tax, request.hold)
    else:
        request.status = "REJECTED" if t == REJECT else "FAILED"
        state.emit(i, RELEASE, u, a, receivable=-state.credit(u, a), ref=request.hold)
    return None


def _insert(
    cols: dict[str, np.ndarray], made: _Pass, events: AccountEvents, months: list[str]
) -> dict[str, np.ndarray]:
    """The ledger with the new entries placed after the entries of earlier seqs."""
    new = made.rows
    if not new:
        return cols
    table = np.array(new, dtype=np.int64).reshape(len(new), len(_NEW) + len(_TAX))
    event = table[:, 0]
    new_seq = events.seq[event]
    old_seq = cols["seq"]
    old_pos = np.arange(len(old_seq)) + np.searchsorted(new_seq, old_seq, side="left")
    new_pos = np.arange(len(new)) + np.searchsorted(old_seq, new_seq, side="right")
    values = {
        "seq": new_seq,
        "kind": table[:, 1],
        "user_id": table[:, 2],
        "amount_fen": table[:, 3],
        "receivable_fen": table[:, 4],
        **{name: table[:, len(_NEW) + k] for k, name in enumerate(_TAX)},
        "month": np.array([-1 if m is None else months.index(m) for m in made.months]),
    }
    if events.version is not None:
        values["version"] = events.version[event]
        cols.setdefault("version", np.zeros(len(old_seq), dtype=np.int16))
    ref = table[:, 5]
    values["ref_pos"] = np.where(ref >= 0, new_pos[np.maximum(ref, 0)], -1)
    old_ref = cols["ref_pos"]
    cols["ref_pos"] = np.where(old_ref >= 0, old_pos[np.maximum(old_ref, 0)], -1)
    out = {}
    for name, column in cols.items():
        merged = np.empty(len(old_seq) + len(new), dtype=column.dtype)
        merged[old_pos] = column
        merged[new_pos] = values.get(name, MISSING if name in INT_FIELDS else -1)
        out[name] = merged
    return out


def _late(events: AccountEvents | None, late: list[tuple[int, int]]) -> LateRejections:
    """The refused events as :class:`LateRejections`."""
    if events is None or not late:
        return LateRejections(np.zeros(0, dtype=np.int64), [], [], [])
    index = [i for i, _ in late]
    return LateRejections(
        events.ev[index],
        events.seq[index].tolist(),
        [TYPES[int(t)] for t in events.type[index].tolist()],
        [Reason(code).name for _, code in late],
    )
