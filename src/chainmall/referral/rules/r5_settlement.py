"""R5 settlement: pending commissions become available after the refund window.

- ``ORDER_RECEIVED(t)`` (once per known order; ``UNKNOWN_ORDER``,
  ``DUPLICATE_RECEIPT``) sets ``settle_at = t + refund_window + processing`` for
  the order's commissions and queues them.
- ``SETTLEMENT_TICK(as_of)`` (never earlier than the previous tick: ``STALE_TICK``)
  settles every queued commission with ``settle_at <= as_of`` and something left
  after refunds, in (``settle_at``, creation) order: a ``SETTLE`` entry moves the
  remainder from ``pending`` to ``available``, netting ``receivable`` first
  (INV-10). A held beneficiary's commissions wait for a later tick (R11). The
  tick also awards the energy points of orders settling now (R10). With
  ``ReferralConfig.approval.waits`` the remainder goes to ``awaiting`` instead
  (an ``AWAIT_APPROVAL`` entry), and the tick then approves what has waited
  ``auto_after_days`` (:mod:`.approvals`).

Batch twin: :mod:`chainmall.referral._batch.r5_settlement`.
"""

from __future__ import annotations

from dataclasses import replace

from chainmall.referral.calendar import NS_PER_S
from chainmall.referral.events import OrderReceived, SettlementTick
from chainmall.referral.reasons import Reason
from chainmall.referral.rules.approvals import auto_approve_due, await_approval
from chainmall.referral.rules.r10_energy import on_receipt, on_tick
from chainmall.referral.rules.state import Commission, Step, blank_record

__all__ = ["order_received", "settle_due", "tick"]


def order_received(step: Step, e: OrderReceived) -> Reason | None:
    """ORDER_RECEIVED: queue the order's commissions at ``receipt + settle delay``."""
    s = step.state
    if e.order_id not in s.order_lines:
        return Reason.UNKNOWN_ORDER
    if e.order_id in s.received:
        return Reason.DUPLICATE_RECEIPT
    s.received[e.order_id] = True
    settle_at = step.ts_ns + step.config.settle_delay_s * NS_PER_S
    for line_id in s.order_lines[e.order_id]:
        for eid in s.lines[line_id].commissions:
            s.settle_queue.push((settle_at, s.commissions[eid].position, eid))
    on_receipt(s.energy, e.order_id, settle_at, e.seq)
    return None


def tick(step: Step, e: SettlementTick) -> Reason | None:
    """SETTLEMENT_TICK: award R10 order points, then settle what is due."""
    s = step.state
    last = s.last_tick_ns.value
    if last is not None and step.ts_ns < last:
        return Reason.STALE_TICK
    s.last_tick_ns.value = step.ts_ns
    on_tick(s, step.ts_ns, e.seq, step.config)
    settle_due(step, e.seq)
    auto_approve_due(step, e.seq)
    return None


def settle_due(step: Step, seq: int) -> None:
    """Settle queued commissions with ``settle_at <= ts_ns`` in queue order; holds wait (R11)."""
    s = step.state
    for item in s.settle_queue.pop_due(step.ts_ns):
        c = s.commissions[item[2]]
        if c.user_id in s.held:  # a hold pauses settlement; amounts unchanged
            s.settle_queue.push(item)
        elif c.credited > c.reversed and step.config.approval.waits:
            await_approval(step, c, seq)
        elif c.credited > c.reversed:
            _settle(step, c, seq)


def _settle(step: Step, c: Commission, seq: int) -> None:
    """Move what is left of ``c`` from pending to available, netting receivable first."""
    s = step.state
    remaining = c.credited - c.reversed
    s.commissions[c.entry_id] = replace(c, settled=True)
    netted = min(s.receivable[c.user_id], remaining)
    s.receivable[c.user_id] -= netted
    s.available[c.user_id] += remaining - netted
    s.pending[c.user_id] -= remaining
    record = blank_record(seq=seq, kind="SETTLE", user_id=c.user_id, order_id=c.order_id)
    record |= {"line_id": c.line_id, "reward_type": c.reward_type, "month": c.month}
    record |= {"config_version": c.version, "amount_fen": remaining, "ref": c.entry_id}
    step.emit(record | {"receivable_fen": -netted})
