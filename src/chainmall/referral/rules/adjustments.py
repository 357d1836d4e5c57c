"""Manual adjustments: an operator credits or debits a member's ``available`` balance.

``ADJUSTMENT(user, amount_fen, reason, operator_id)``: ``amount_fen > 0`` credits
(netting ``receivable`` first, as a settlement does: ``receivable_fen`` is minus
what was netted), ``amount_fen < 0`` debits (what ``available`` cannot cover
goes to ``receivable``, as for a claw-back: ``receivable_fen`` is that
shortfall). One ``ADJUSTMENT`` entry of ``amount_fen``; the reason and the
operator stay in the event log. Checks: a registered user (``UNKNOWN_USER``), a
non-zero integer amount (``ZERO_ADJUSTMENT``), a non-blank reason and operator
(``MISSING_REASON``).

Batch twin: :mod:`chainmall.referral._batch.withdrawals` (one pass for every
account event).
"""

from __future__ import annotations

from chainmall.referral.events import Adjustment, is_int
from chainmall.referral.reasons import Reason
from chainmall.referral.rules.state import Step, blank_record
from chainmall.referral.rules.withdrawals import credit_available, debit_available

__all__ = ["adjustment", "blank_text"]


def blank_text(value: object) -> bool:
    """True unless ``value`` is a text with a non-space character."""
    return not isinstance(value, str) or not value.strip()


def adjustment(step: Step, e: Adjustment) -> Reason | None:
    """ADJUSTMENT: credit or debit ``available`` by ``amount_fen``."""
    s = step.state
    if e.user_id not in s.registered:
        return Reason.UNKNOWN_USER
    if not is_int(e.amount_fen) or e.amount_fen == 0:
        return Reason.ZERO_ADJUSTMENT
    if blank_text(e.reason) or blank_text(e.operator_id):
        return Reason.MISSING_REASON
    if e.amount_fen > 0:
        receivable = -credit_available(s, e.user_id, e.amount_fen)
    else:
        receivable = debit_available(s, e.user_id, -e.amount_fen)
    version = step.version_now().config_version
    record = blank_record(seq=e.seq, kind="ADJUSTMENT", user_id=e.user_id)
    record |= {"amount_fen": int(e.amount_fen), "receivable_fen": receivable}
    step.emit(record | {"config_version": version})
    return None
