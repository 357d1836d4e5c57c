"""Commission approval: settled commissions wait for an operator (``ReferralConfig.approval``).

With ``approval.waits`` (``mode="manual"``, or ``"auto"`` with ``auto_after_days`` > 0),
the tick that settles a commission (R5) moves what is left of it from ``pending``
to ``awaiting`` (an ``AWAIT_APPROVAL`` entry) instead of ``available``. Then:

| event | entries (amount_fen) | accounts (fen) |
|---|---|---|
| ``COMMISSION_APPROVED(entry_ids, operator_id)`` | ``APPROVE`` (+x) per commission | awaiting −x, available +x (receivable netted first) |
| ``COMMISSION_DECLINED(entry_ids, reason, operator_id)`` | ``DECLINE`` (−x) per commission | awaiting −x (credited −x) |
| ``SETTLEMENT_TICK(as_of)``, auto mode | ``APPROVE`` for each commission settled ``>= N`` days before ``as_of`` | as an approval |
| ``REFUND`` of an awaiting commission | ``AWAIT_REVERSAL`` (−delta) instead of ``REVERSAL`` | awaiting −delta |

``x`` is what is left of the commission (credit less refunds); no entry is posted
when it is 0. Entries name the commission in ``ref``; the reason and the operator
stay in the event log. A decision is atomic: one bad id rejects the whole event,
checked in this order: a non-blank operator (and reason, for a decline;
``MISSING_REASON``), at least one id (``MISSING_FIELD``), every id a commission
entry (``UNKNOWN_ENTRY``), every one settled (``NOT_SETTLED``: still pending, or
fully refunded before it settled), none decided already nor named twice
(``ALREADY_DECIDED``). A decline does not free monthly-cap headroom: only refunds
do (R6). A hold (R11) pauses settlement, not an approval; later refunds of a
declined commission post nothing.

Batch twin: :mod:`chainmall.referral._batch.approvals`.
"""

from __future__ import annotations

from dataclasses import replace

from chainmall.referral.events import CommissionApproved, CommissionDeclined
from chainmall.referral.reasons import Reason
from chainmall.referral.rules.adjustments import blank_text
from chainmall.referral.rules.state import Commission, ReferralState, Step, blank_record

__all__ = ["approved", "auto_approve_due", "await_approval", "check_decision", "declined"]


def await_approval(step: Step, c: Commission, seq: int) -> None:
    """R5 with approval: move what is left of ``c`` from pending to awaiting."""
    s = step.state
    remaining = c.credited - c.reversed
    s.commissions[c.entry_id] = replace(c, settled=True, awaiting=True)
    s.pending[c.user_id] -= remaining
    s.awaiting[c.user_id] += remaining
    _emit(step, c, seq, "AWAIT_APPROVAL", remaining)
    wait = step.config.approval.auto_after_ns
    if wait is not None:
        s.approval_queue.push((step.ts_ns + wait, c.position, c.entry_id))


def check_decision(s: ReferralState, entry_ids: tuple[str, ...]) -> Reason | None:
    """Why a decision on ``entry_ids`` is refused (None: every id awaits approval)."""
    if not entry_ids:
        return Reason.MISSING_FIELD
    found = [s.commissions.get(eid) for eid in entry_ids]
    if any(c is None for c in found):
        return Reason.UNKNOWN_ENTRY
    if any(not c.settled for c in found if c is not None):
        return Reason.NOT_SETTLED
    if len(set(entry_ids)) < len(entry_ids) or any(not c.awaiting for c in found if c is not None):
        return Reason.ALREADY_DECIDED
    return None


def approved(step: Step, e: CommissionApproved) -> Reason | None:
    """COMMISSION_APPROVED: every named commission becomes available, or none."""
    if blank_text(e.operator_id):
        return Reason.MISSING_REASON
    why = check_decision(step.state, tuple(e.entry_ids))
    if why is not None:
        return why
    for eid in e.entry_ids:
        approve(step, step.state.commissions[eid], e.seq)
    return None


def declined(step: Step, e: CommissionDeclined) -> Reason | None:
    """COMMISSION_DECLINED: what is left of every named commission is reversed, or none."""
    if blank_text(e.operator_id) or blank_text(e.reason):
        return Reason.MISSING_REASON
    why = check_decision(step.state, tuple(e.entry_ids))
    if why is not None:
        return why
    s = step.state
    for eid in e.entry_ids:
        c = s.commissions[eid]
        remaining = c.credited - c.reversed
        s.commissions[eid] = replace(c, awaiting=False, declined=True)
        s.awaiting[c.user_id] -= remaining
        if remaining:
            _emit(step, c, e.seq, "DECLINE", -remaining)
    return None


def approve(step: Step, c: Commission, seq: int) -> None:
    """Move what is left of awaiting ``c`` to available, netting receivable first."""
    s = step.state
    remaining = c.credited - c.reversed
    s.commissions[c.entry_id] = replace(c, awaiting=False)
    s.awaiting[c.user_id] -= remaining
    netted = min(s.receivable[c.user_id], remaining)
    s.receivable[c.user_id] -= netted
    s.available[c.user_id] += remaining - netted
    if remaining:
        _emit(step, c, seq, "APPROVE", remaining, receivable=-netted)


def auto_approve_due(step: Step, seq: int) -> None:
    """Approve the commissions that have awaited ``auto_after_days`` by this tick."""
    s = step.state
    for _, _, eid in s.approval_queue.pop_due(step.ts_ns):
        c = s.commissions[eid]
        if c.awaiting:
            approve(step, c, seq)


def _emit(step: Step, c: Commission, seq: int, kind: str, amount: int, receivable: int = 0) -> None:
    record = blank_record(seq=seq, kind=kind, user_id=c.user_id, order_id=c.order_id)
    record |= {"line_id": c.line_id, "reward_type": c.reward_type, "month": c.month}
    record |= {"config_version": c.version, "amount_fen": amount, "ref": c.entry_id}
    step.emit(record | {"receivable_fen": receivable})
