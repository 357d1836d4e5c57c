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

The state is advanced in place and returned (copying it per event would make a
stream of n events cost O(n²)); :meth:`ReferralState.copy` keeps a snapshot.
Events are applied in the order given; each carries a ``seq`` above every earlier
one. Rejections never raise: the event is recorded in ``state.rejected`` with a
:class:`~chainmall.referral.reasons.Reason` name and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import (
    TYPE_OF,
    Bound,
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
    is_int,
)
from chainmall.referral.reasons import Reason
from chainmall.referral.rules import (
    accounts,
    r1_binding,
    r4_rewards,
    r5_settlement,
    r6_refunds,
    r10_energy,
    r11_holds,
)
from chainmall.referral.rules.state import ReferralState, Step
from chainmall.referral.versions import version_registry

__all__ = ["HANDLERS", "ReferralState", "apply", "run_fold"]

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


def _apply(
    state: ReferralState, event: Event | Untyped, registry: Mapping[str, ReferralConfig]
) -> tuple[ReferralState, list[dict[str, Any]]]:
    """Sequence checks, then the event type's rule; a rejection changes nothing else."""
    if isinstance(event, tuple):
        seq, name, why = event
        stale = state.last_seq is not None and seq <= state.last_seq
        state.last_seq = state.last_seq if stale else seq
        state.rejected.append((seq, name, Reason.STALE_SEQ.name if stale else why))
        return state, []
    name = TYPE_OF.get(type(event), type(event).__name__)
    if not is_int(event.seq):
        state.rejected.append((-1, name, Reason.BAD_SEQ.name))
        return state, []
    if state.last_seq is not None and event.seq <= state.last_seq:
        state.rejected.append((event.seq, name, Reason.STALE_SEQ.name))
        return state, []
    state.last_seq = event.seq
    reason = _precheck(event)
    if reason is None:
        step = Step(state, registry, _ns(event.ts))
        reason = HANDLERS[type(event)](step, event)
    if reason is not None:
        state.rejected.append((event.seq, name, reason.name))
        return state, []
    return state, step.out


def _precheck(event: Any) -> Reason | None:
    """Type-level checks of a typed event before its rule runs."""
    if not isinstance(event.ts, datetime):
        return Reason.MISSING_FIELD
    if event.ts.tzinfo is None or event.ts.utcoffset() is None:
        return Reason.NAIVE_TIMESTAMP
    if isinstance(event, OrderPaid) and not event.lines:
        return Reason.MISSING_FIELD
    return None


def _ns(ts: datetime) -> int:
    """UTC nanoseconds of an aware datetime."""
    return int(pd.Timestamp(ts).as_unit("ns").value)
