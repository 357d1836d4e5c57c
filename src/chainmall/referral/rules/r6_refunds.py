"""R6 refunds and claw-back: ``REFUND(line, amount, refund_id)``.

Checks: a positive integer amount (``NON_POSITIVE_AMOUNT``), a known line
(``UNKNOWN_ORDER``), a new ``refund_id`` (``DUPLICATE_REFUND``; the idempotency
key) and cumulative refunds within the paid amount (``REFUND_EXCEEDS_PAID``).

With ``R`` the line's cumulative refunds, each commission ``e`` on the line is
reversed up to :func:`reversal_target` ``= floor(credited × R / paid)`` (all of it
when ``R = paid``, INV-7), posting the difference to what was reversed before:

- a ``REVERSAL`` debiting ``pending`` while ``e`` is unsettled;
- a ``CLAWBACK`` debiting ``available`` once settled; a shortfall goes to
  ``receivable``, netted against later settlements (R5);
- an ``AWAIT_REVERSAL`` debiting ``awaiting`` while it awaits approval; nothing
  once it was declined (:mod:`.approvals`).

The reversal frees monthly-cap headroom in ``e``'s accrual month (R4.6); capped
excess is never refilled. Posted entries are never edited (INV-6). The first
refund after an order's energy points were awarded claws them back (R10).

Batch twin: :mod:`chainmall.referral._batch.r6_refunds`.
"""

from __future__ import annotations

from dataclasses import replace

from chainmall.referral.events import RefundSucceeded, is_int
from chainmall.referral.reasons import Reason
from chainmall.referral.rules.r10_energy import on_refund
from chainmall.referral.rules.state import Commission, Step, blank_record

__all__ = ["refund", "reversal_target"]


def reversal_target(credited: int, refunded: int, paid: int) -> int:
    """Fen of a commission reversed in all once ``refunded`` of ``paid`` fen is refunded."""
    return credited if refunded >= paid else credited * refunded // paid


def refund(step: Step, e: RefundSucceeded) -> Reason | None:
    """REFUND: reverse or claw back the line's commissions pro rata (R6)."""
    s = step.state
    if not is_int(e.amount_fen) or e.amount_fen <= 0:
        return Reason.NON_POSITIVE_AMOUNT
    line = s.lines.get(e.line_id)
    if line is None:
        return Reason.UNKNOWN_ORDER
    if e.refund_id in s.refunds:
        return Reason.DUPLICATE_REFUND
    if line.refunded + e.amount_fen > line.paid:
        return Reason.REFUND_EXCEEDS_PAID
    s.refunds[e.refund_id] = True
    line = replace(line, refunded=line.refunded + e.amount_fen)
    s.lines[e.line_id] = line
    on_refund(s.energy, line.order_id, e.seq, step.config)
    for eid in line.commissions:
        c = s.commissions[eid]
        delta = reversal_target(c.credited, line.refunded, line.paid) - c.reversed
        if delta > 0 and not c.declined:
            _reverse(step, c, delta, e)
    return None


def _reverse(step: Step, c: Commission, delta: int, e: RefundSucceeded) -> None:
    """Post ``delta`` fen of ``c``'s reversal: from pending, or clawed back from available."""
    s = step.state
    s.commissions[c.entry_id] = replace(c, reversed=c.reversed + delta)
    s.credited[(c.user_id, c.month)] -= delta  # frees cap headroom in the accrual month
    record = blank_record(seq=e.seq, user_id=c.user_id, order_id=c.order_id, line_id=c.line_id)
    record |= {"reward_type": c.reward_type, "month": c.month, "amount_fen": -delta}
    record |= {"config_version": c.version, "ref": c.entry_id, "refund_id": e.refund_id}
    if c.awaiting:
        s.awaiting[c.user_id] -= delta
        record["kind"] = "AWAIT_REVERSAL"
    elif c.settled:
        take = min(delta, s.available[c.user_id])
        s.available[c.user_id] -= take
        s.receivable[c.user_id] += delta - take
        record |= {"kind": "CLAWBACK", "receivable_fen": delta - take}
    else:
        s.pending[c.user_id] -= delta
        record["kind"] = "REVERSAL"
    step.emit(record)
