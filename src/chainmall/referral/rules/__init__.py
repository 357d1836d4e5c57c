"""The per-event fold: ``apply(state, event, config) -> (state, records)`` (spec §4.0).

This is the reference semantics of the 2+1 engine; :func:`chainmall.referral.settle`
(the vectorised batch path in :mod:`chainmall.referral._batch`) computes the same
ledger for a whole event log at once. Each rule lives in one module, named by its
R-code in the spec (``referral.md`` §4.3); :data:`HANDLERS` says which rule an
event type runs:

| event | rule | module |
|---|---|---|
| ``REGISTERED``, ``USER_BANNED``, ``WITHDRAWAL``, ``MONTH_CLOSE``, ``CONFIG_ACTIVATED`` | accounts, R7, versions | :mod:`.accounts` |
| ``BOUND`` | R1 binding | :mod:`.r1_binding` (:mod:`.forest`) |
| ``ORDER_PAID`` | R2 membership, R3 team placement, R4 rewards | :mod:`.r4_rewards`, :mod:`.r3_team` |
| ``ORDER_RECEIVED``, ``SETTLEMENT_TICK`` | R5 settlement | :mod:`.r5_settlement` |
| ``REFUND`` | R6 refunds and claw-back | :mod:`.r6_refunds` |
| ``ENGAGEMENT`` | R10 energy points | :mod:`.r10_energy` |
| ``HOLD``, ``RELEASE`` | R11 holds | :mod:`.r11_holds` |
| ``WITHDRAWAL_REQUESTED`` / ``_APPROVED`` / ``_REJECTED`` / ``_PAID`` / ``_FAILED`` | withdrawal workflow (INV-10) | :mod:`.withdrawals` |
| ``ADJUSTMENT`` | manual adjustments | :mod:`.adjustments` |
| ``COMMISSION_APPROVED`` / ``_DECLINED`` | commission approval | :mod:`.approvals` |

The state is advanced in place and returned (copying it per event would make a
stream of n events cost O(n²)); :meth:`ReferralState.copy` keeps a snapshot.
Events are applied in the order given; each carries a ``seq`` above every earlier
one. Rejections never raise: the event is recorded in ``state.rejected`` with a
:class:`~chainmall.referral.reasons.Reason` name and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from chainmall._validation import MAX_EXACT_INT
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import (
    ID_FIELDS,
    TYPE_OF,
    Adjustment,
    Bound,
    CommissionApproved,
    CommissionDeclined,
    ConfigActivated,
    Engagement,
    Event,
    Hold,
    MonthClose,
    OrderPaid,
    OrderReceived,
    RefundSucceeded,
    Registered,
    Release,
    SettlementTick,
    UserBanned,
    Withdrawal,
    WithdrawalApproved,
    WithdrawalFailed,
    WithdrawalPaid,
    WithdrawalRejected,
    WithdrawalRequested,
    is_id,
    is_int,
    plain_ints,
)
from chainmall.referral.reasons import Reason
from chainmall.referral.rules import (
    accounts,
    adjustments,
    approvals,
    r1_binding,
    r4_rewards,
    r5_settlement,
    r6_refunds,
    r10_energy,
    r11_holds,
    withdrawals,
)
from chainmall.referral.rules.journal import Journal
from chainmall.referral.rules.state import ReferralState, Step
from chainmall.referral.versions import version_registry

__all__ = ["HANDLERS", "Applied", "ReferralState", "apply", "apply_event", "run_fold"]

MAX_INT64 = 2**63 - 1
Untyped = tuple[int, str, str]
"""A row that could not be typed: ``(seq, type, reason name)`` (see ``events_from_frame``)."""

HANDLERS: dict[type[Any], Callable[[Step, Any], Reason | None]] = {
    Registered: accounts.registered,
    UserBanned: accounts.banned,
    Bound: r1_binding.bound,
    OrderPaid: r4_rewards.order_paid,
    OrderReceived: r5_settlement.order_received,
    RefundSucceeded: r6_refunds.refund,
    SettlementTick: r5_settlement.tick,
    Withdrawal: accounts.withdrawal,
    MonthClose: accounts.month_close,
    Engagement: r10_energy.engagement,
    Hold: r11_holds.hold,
    Release: r11_holds.release,
    ConfigActivated: accounts.config_activated,
    WithdrawalRequested: withdrawals.requested,
    WithdrawalApproved: withdrawals.approved,
    WithdrawalRejected: withdrawals.rejected,
    WithdrawalPaid: withdrawals.paid,
    WithdrawalFailed: withdrawals.failed,
    Adjustment: adjustments.adjustment,
    CommissionApproved: approvals.approved,
    CommissionDeclined: approvals.declined,
}
"""The rule that applies each event type."""


def apply(
    state: ReferralState,
    event: Event | Untyped,
    config: ReferralConfig,
    versions: Mapping[str, ReferralConfig] | None = None,
) -> tuple[ReferralState, list[dict[str, Any]]]:
    """Apply one event; return the (advanced) state and the ledger records it appends.

    ``event`` may also be ``(seq, type, reason)`` for a row that could not be
    typed (see :func:`~chainmall.referral.events.events_from_frame`). ``config``
    is the initial config; ``versions`` the others by ``config_version`` label,
    for ``CONFIG_ACTIVATED`` events (see :mod:`chainmall.referral.versions`).

    Raises:
        ConfigError: ``versions`` is inconsistent (see
            :func:`~chainmall.referral.versions.version_registry`).
    """
    return _apply(state, event, version_registry(config, versions))


def run_fold(
    events: Iterable[Event | Untyped],
    config: ReferralConfig,
    versions: Mapping[str, ReferralConfig] | None = None,
) -> tuple[ReferralState, list[dict[str, Any]]]:
    """Fold a stream of events from an empty state; return the final state and all records."""
    registry = version_registry(config, versions)  # validated once for the stream
    state = ReferralState()
    records: list[dict[str, Any]] = []
    for event in events:
        state, out = _apply(state, event, registry)
        records.extend(out)
    return state, records


@dataclass(frozen=True)
class Applied:
    """One event's outcome: its ledger records, or why it was rejected; what it changed.

    ``journal`` lists the containers and keys the event changed (None when it
    was rejected, which changes nothing but ``last_seq``).
    """

    records: list[dict[str, Any]]
    reason: str | None
    journal: Journal | None


def _apply(
    state: ReferralState, event: Event | Untyped, registry: Mapping[str, ReferralConfig]
) -> tuple[ReferralState, list[dict[str, Any]]]:
    return state, apply_event(state, event, registry).records


def apply_event(
    state: ReferralState, event: Event | Untyped, registry: Mapping[str, ReferralConfig]
) -> Applied:
    """Sequence checks, then the event type's rule, all or nothing.

    A rejection changes nothing but ``last_seq`` (and ``state.rejected``). An
    exception inside a rule undoes everything the event changed and propagates:
    the state is as before the call, so the event may be applied again.
    """
    if isinstance(event, tuple):
        seq, name, why = event
        last = state.last_seq.value
        stale = last is not None and seq <= last
        if not stale:
            state.last_seq.value = seq
        return _rejected(state, seq, name, Reason.STALE_SEQ.name if stale else why)
    name = TYPE_OF.get(type(event), type(event).__name__)
    if not is_int(event.seq):
        return _rejected(state, -1, name, Reason.BAD_SEQ.name)
    if not 1 <= event.seq <= MAX_EXACT_INT:
        shown = int(event.seq) if abs(event.seq) <= MAX_INT64 else -1
        return _rejected(state, shown, name, Reason.BAD_SEQ.name)
    event = plain_ints(event)
    last = state.last_seq.value
    if last is not None and event.seq <= last:
        return _rejected(state, event.seq, name, Reason.STALE_SEQ.name)
    reason, ts_ns = _precheck(event)
    if reason is None:
        step = Step(state, registry, ts_ns)
        with state.journaled() as journal:
            reason = HANDLERS[type(event)](step, event)
            if reason is not None:  # rules reject before they change anything; to be sure
                journal.rollback()
    state.last_seq.value = event.seq
    if reason is not None:
        return _rejected(state, event.seq, name, reason.name)
    return Applied(step.out, None, journal)


def _rejected(state: ReferralState, seq: int, name: str, reason: str) -> Applied:
    state.rejected.append((seq, name, reason))
    return Applied([], reason, None)


def _ids_ok(event: Any) -> bool:
    """Every id of the event is an integer or a non-empty text (an order's optional
    ``product_id``, ``category`` and ``order_type``: None, or text for the latter two)."""
    ids = [getattr(event, f) for f in ID_FIELDS if hasattr(event, f)]
    if isinstance(event, OrderPaid):
        ids.extend(line.line_id for line in event.lines)
        ids.extend(line.product_id for line in event.lines if line.product_id is not None)
        labels = [event.order_type, *(line.category for line in event.lines)]
        if not all(v is None or isinstance(v, str) for v in labels):
            return False
    elif isinstance(event, CommissionApproved | CommissionDeclined):
        entry_ids = event.entry_ids
        if not isinstance(entry_ids, tuple | list):
            return False
        ids.extend(entry_ids)
    elif isinstance(event, RefundSucceeded | Engagement):
        ids.extend([] if event.line_id is None else [event.line_id])
    return all(is_id(v) for v in ids)


def _amounts_ok(event: Any) -> bool:
    """Every integer amount lies within +-(2**53 - 1) fen (other types are the rules')."""
    amounts: list[Any] = [getattr(event, "amount_fen", None)]
    if isinstance(event, OrderPaid):
        amounts = [a for line in event.lines for a in (line.paid_fen, line.balance_paid_fen)]
    return all(not is_int(a) or abs(a) <= MAX_EXACT_INT for a in amounts)


def _precheck(event: Any) -> tuple[Reason | None, int]:
    """Type-level checks of a typed event before its rule runs; its UTC ns."""
    ts = event.ts
    if not isinstance(ts, datetime):
        return Reason.MISSING_FIELD, 0
    if ts.tzinfo is None or ts.utcoffset() is None:
        return Reason.NAIVE_TIMESTAMP, 0
    if isinstance(event, OrderPaid) and not event.lines:
        return Reason.MISSING_FIELD, 0
    if not _ids_ok(event):
        return Reason.BAD_ID, 0
    if not _amounts_ok(event):
        return Reason.BAD_AMOUNT, 0
    try:
        return None, int(pd.Timestamp(ts).as_unit("ns").value)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        return Reason.BAD_TIMESTAMP, 0
