"""R6 refunds and claw-back for a whole log.

Mirrors :func:`chainmall.referral.rules.r6_refunds.refund`. A refund is decided
by :func:`accept_refunds`; its effect on each commission of the line is the
difference of :func:`reversal_target` after and before it, so every (commission,
refund) pair (:class:`RefundPairs`) carries the line's cumulative refunds
before and after the refund. The pair becomes a ``REVERSAL`` (before the
commission settled) or a ``CLAWBACK`` (after; :func:`reversal_entries`); the
receivable a claw-back leaves is found by the balance pass
(:func:`chainmall.referral._batch.withdrawals.post_accounts`); the headroom a
reversal frees in the monthly cap is used by
:func:`chainmall.referral._batch.r4_monthly_cap.monthly_cap`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainmall.referral._batch.kernels import NEVER, cumsum_by_group, lookup, repeated
from chainmall.referral._batch.ledger import Block, kind_code
from chainmall.referral._batch.lines import Lines, Slot
from chainmall.referral._batch.tables import OrderEvents, RefundEvents, Rejected
from chainmall.referral.events import MISSING
from chainmall.referral.reasons import Reason

__all__ = [
    "RefundPairs",
    "Refunds",
    "accept_refunds",
    "refund_pairs",
    "reversal_block",
    "reversal_target",
]

REVERSAL, CLAWBACK = kind_code("REVERSAL"), kind_code("CLAWBACK")
AWAIT_REVERSAL = kind_code("AWAIT_REVERSAL")


def reversal_target(credited: np.ndarray, refunded: np.ndarray, paid: np.ndarray) -> np.ndarray:
    """Fen of each commission reversed in all once ``refunded`` of ``paid`` fen is refunded."""
    share: np.ndarray = credited * refunded // np.maximum(paid, 1)
    return np.where(refunded >= paid, credited, share)


@dataclass(frozen=True)
class Refunds:
    """Accepted refunds in event order."""

    ev: np.ndarray
    seq: np.ndarray
    line: np.ndarray  # index into the accepted orders' lines
    amount: np.ndarray
    refund_id: np.ndarray


def accept_refunds(refunds: RefundEvents, orders: OrderEvents) -> tuple[Refunds, Rejected]:
    """REFUND: ``NON_POSITIVE_AMOUNT``, ``UNKNOWN_ORDER``, ``DUPLICATE_REFUND``,
    ``REFUND_EXCEEDS_PAID`` (``orders``: the accepted ones)."""
    positive = refunds.amount > 0
    candidates = refunds.take(positive)
    line = lookup(orders.line_id, candidates.line_id)  # accepted line ids are unique
    found = line >= 0
    found[found] = orders.ev[orders.line_order[line[found]]] < candidates.ev[found]
    known = candidates.take(found)
    line = line[found]
    reason = _reused_or_over(known.refund_id, line, known.amount, orders.paid[line])
    ok = reason == 0
    accepted = Refunds(known.ev[ok], known.seq[ok], line[ok], known.amount[ok], known.refund_id[ok])
    return accepted, Rejected.join(
        Rejected.of(refunds.ev[~positive], Reason.NON_POSITIVE_AMOUNT),
        Rejected.of(candidates.ev[~found], Reason.UNKNOWN_ORDER),
        Rejected.of(known.ev[~ok], reason[~ok]),
    )


def _reused_or_over(
    refund_id: np.ndarray, line: np.ndarray, amount: np.ndarray, paid: np.ndarray
) -> np.ndarray:
    """Reason codes for repeated refund ids and refunds past the paid amount (event order).

    Only refunds whose id repeats or whose line's refunds could sum past its paid
    amount run through the loop.
    """
    reason = np.zeros(len(line), dtype=np.int8)
    _, line_code = np.unique(line, return_inverse=True)
    total = np.zeros(len(line), dtype=np.int64)
    np.add.at(total, line_code, amount)
    complex_ = repeated(refund_id) | (total[line_code] > paid)
    refunded: dict[int, int] = {}
    seen: set[int] = set()
    for i in np.flatnonzero(complex_).tolist():
        key, at = int(refund_id[i]), int(line[i])
        if key in seen:
            reason[i] = Reason.DUPLICATE_REFUND
        elif refunded.get(at, 0) + int(amount[i]) > int(paid[i]):
            reason[i] = Reason.REFUND_EXCEEDS_PAID
        else:
            seen.add(key)
            refunded[at] = refunded.get(at, 0) + int(amount[i])
    return reason


@dataclass(frozen=True)
class RefundPairs:
    """(commission slot, accepted refund) pairs of one reward slot, refund order per line."""

    line: np.ndarray  # earning line
    seq: np.ndarray  # the refund's seq
    before: np.ndarray  # the line's cumulative refunds before this refund (fen)
    after: np.ndarray  # ... and after it
    refund_id: np.ndarray

    def take(self, index: np.ndarray) -> RefundPairs:
        """The pairs at ``index``."""
        return RefundPairs(
            self.line[index],
            self.seq[index],
            self.before[index],
            self.after[index],
            self.refund_id[index],
        )


def refund_pairs(refunds: Refunds, earning_line: np.ndarray) -> RefundPairs:
    """Refunds of earning lines with the cumulative refunded amounts (one pair per refund).

    ``earning_line[i]`` is the accepted-order line (ascending) of earning line ``i``;
    refunds of other lines reverse nothing. A slot keeps the pairs where it pays.
    """
    at = np.minimum(np.searchsorted(earning_line, refunds.line), max(len(earning_line) - 1, 0))
    mine = (earning_line[at] == refunds.line) if len(earning_line) else at < 0
    line, seq, amount = at[mine], refunds.seq[mine], refunds.amount[mine]
    order = np.lexsort((seq, line))  # per line, in refund order
    starts = np.r_[True, line[order][1:] != line[order][:-1]] if len(order) else order < 0
    after = np.empty_like(amount)
    after[order] = cumsum_by_group(amount[order], starts)
    return RefundPairs(line, seq, after - amount, after, refunds.refund_id[mine])


def reversal_block(
    pairs: RefundPairs,
    pair_tick: np.ndarray,
    slot: Slot,
    lines: Lines,
    commission: np.ndarray,
    user_ids: np.ndarray,
    decided: tuple[np.ndarray, np.ndarray] | None = None,
) -> Block:
    """The ``REVERSAL`` / ``CLAWBACK`` entries of one slot's refund pairs.

    ``pair_tick`` is the seq of the tick that settled each pair's commission
    (NEVER: unsettled); a refund after it claws back. ``commission`` is the
    slot's commission entry index per line. With approval
    (``ReferralConfig.approval.waits``), ``decided`` is, per pair, the seq that
    approved or declined its commission and whether it was declined: a refund
    between the settlement and the decision is an ``AWAIT_REVERSAL``, one after a
    decline posts nothing.
    """
    credited, paid = slot.credit[pairs.line], lines.paid[pairs.line]
    delta = reversal_target(credited, pairs.after, paid) - reversal_target(
        credited, pairs.before, paid
    )
    settled = (pair_tick != NEVER) & (pair_tick < pairs.seq)
    kind = np.where(settled, CLAWBACK, REVERSAL)
    live = delta > 0
    if decided is not None:
        before_decision = settled & (pairs.seq < decided[0])
        kind[before_decision] = AWAIT_REVERSAL
        live &= ~(settled & ~before_decision & decided[1])
    j = np.flatnonzero(live)
    line = pairs.line[j]
    claw = kind[j] == CLAWBACK
    return Block(
        n=len(j),
        seq=pairs.seq[j],
        kind=kind[j],
        user_id=user_ids[slot.beneficiary[line]],
        amount_fen=-delta[j],
        order_id=lines.order_id[line],
        line_id=lines.line_id[line],
        receivable_fen=np.where(claw, 0, MISSING),
        refund_id=pairs.refund_id[j],
        reward_type=slot.reward_type,
        month=lines.month[line],
        version=None if lines.version is None else lines.version[line],
        ref=commission[line],
        k1=slot.reward_type,
    )
