"""R5 settlement for a whole log: receipts, ticks, and the tick that settles each commission.

Mirrors :mod:`chainmall.referral.rules.r5_settlement`. Accepted ticks never go
back in time, so the tick settling an order is the first accepted tick after its
receipt whose ``as_of`` reaches ``receipt + settle delay`` (one ``searchsorted``
each way); a hold on the beneficiary pushes it past the hold (R11). What a tick
settles is the commission's credit less what refunds before the tick reversed (R6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainmall.referral._batch.kernels import NEVER, Limits, first_per_key, lookup
from chainmall.referral._batch.ledger import Block, Gather, kind_code
from chainmall.referral._batch.lines import Lines, Slot, line_key
from chainmall.referral._batch.r6_refunds import RefundPairs, reversal_target
from chainmall.referral._batch.r11_holds import Holds
from chainmall.referral._batch.tables import (
    OrderEvents,
    ReceiptEvents,
    Rejected,
    Table,
    compact_index,
)
from chainmall.referral.calendar import NS_PER_S
from chainmall.referral.config import ReferralConfig
from chainmall.referral.reasons import Reason

__all__ = [
    "Receipts",
    "Settled",
    "Ticks",
    "accept_receipts",
    "accept_ticks",
    "queue_ranks",
    "settle_block",
    "settle_slot",
]


@dataclass(frozen=True)
class Ticks:
    """Accepted ``SETTLEMENT_TICK`` events in event order (``ts`` never decreases)."""

    ev: np.ndarray
    seq: np.ndarray
    ts: np.ndarray

    def seq_at(self, position: np.ndarray) -> np.ndarray:
        """Seq of the tick at each position (NEVER at ``len``: no tick)."""
        if not len(self.seq):
            return np.full(len(position), NEVER, dtype=np.int64)
        found = position < len(self.seq)
        return np.where(found, self.seq[np.minimum(position, len(self.seq) - 1)], NEVER)


@dataclass(frozen=True)
class Receipts:
    """Accepted ``ORDER_RECEIVED`` events, one per received order."""

    ev: np.ndarray
    order: np.ndarray  # index into the accepted orders
    settle_at: np.ndarray  # UTC ns from which the order's lines may settle
    tick: np.ndarray  # position in Ticks of the first tick settling the order; len: none yet

    def of_orders(self, n_orders: int) -> np.ndarray:
        """Receipt index of each accepted order (-1: not received)."""
        out = np.full(n_orders, -1, dtype=np.int64)
        out[self.order] = np.arange(len(self.order))
        return out


def accept_ticks(ticks: Table) -> tuple[Ticks, Rejected]:
    """SETTLEMENT_TICK: ``STALE_TICK`` when ``as_of`` is before an earlier tick's."""
    earlier = np.maximum.accumulate(np.r_[np.iinfo(np.int64).min, ticks.ts[:-1]])
    stale = ticks.ts < earlier[: len(ticks.ts)]
    ok = ticks.take(~stale)
    return Ticks(ok.ev, ok.seq, ok.ts), Rejected.of(ticks.ev[stale], Reason.STALE_TICK)


def accept_receipts(
    receipts: ReceiptEvents,
    orders: OrderEvents,
    ticks: Ticks,
    config: ReferralConfig,
    limits: Limits,
) -> tuple[Receipts, Rejected]:
    """ORDER_RECEIVED of an accepted earlier order, first receipt per order (R5)."""
    position = lookup(orders.order_id, receipts.order_id)  # accepted order ids are unique
    found = position >= 0
    found[found] = orders.ev[position[found]] < receipts.ev[found]
    known = receipts.take(found)
    first = first_per_key(position[found], limits)
    ok = known.take(first)
    settle_at = ok.ts + config.settle_delay_s * NS_PER_S
    tick = compact_index(  # the first tick after the receipt that reaches settle_at
        np.maximum(
            np.searchsorted(ticks.ev, ok.ev, side="right"),
            np.searchsorted(ticks.ts, settle_at, side="left"),
        )
    )
    order = compact_index(position[found][first])
    return Receipts(ok.ev, order, settle_at, tick), Rejected.join(
        Rejected.of(receipts.ev[~found], Reason.UNKNOWN_ORDER),
        Rejected.of(known.ev[~first], Reason.DUPLICATE_RECEIPT),
    )


@dataclass(frozen=True)
class Settled:
    """The ``SETTLE`` entries of one reward slot: which lines settle, when, and how much."""

    line: np.ndarray  # earning line
    tick_seq: np.ndarray
    settle_at: np.ndarray
    amount: np.ndarray  # fen moved from pending to available


def settle_slot(
    line: np.ndarray,
    credit: np.ndarray,
    beneficiary: np.ndarray,
    receipt: np.ndarray,
    paid: np.ndarray,
    receipts: Receipts,
    ticks: Ticks,
    holds: Holds,
    pairs: RefundPairs,
) -> tuple[Settled, np.ndarray]:
    """R5 for the credited commissions of one slot (mirrors ``rules.r5_settlement.settle_due``).

    ``line`` are the earning lines whose slot credited something (ascending),
    ``credit``, ``beneficiary`` (dense), ``receipt`` (receipt index, -1 none) and
    ``paid`` theirs; ``pairs`` the refund pairs of this slot. Returns the
    settlements and, per pair, the seq of the tick that settled its commission
    (NEVER: not settled), which makes a later refund a claw-back (R6).
    """
    pair_tick = np.full(len(pairs.line), NEVER, dtype=np.int64)
    if not len(line):
        return Settled(line, line, line, line), pair_tick
    tick = np.full(len(line), len(ticks.seq), dtype=np.int64)  # none yet
    received = receipt >= 0
    tick[received] = receipts.tick[receipt[received]]
    tick_seq = ticks.seq_at(holds.skip(tick, beneficiary, ticks.seq))
    at = np.minimum(np.searchsorted(line, pairs.line), len(line) - 1)
    has = line[at] == pairs.line
    before = has & (pairs.seq < tick_seq[at])
    refunded = np.zeros(len(line), dtype=np.int64)  # cumulative refunds before the tick
    np.maximum.at(refunded, at[before], pairs.after[before])
    remaining = credit.copy()
    r = np.flatnonzero(refunded)  # few lines are refunded before they settle
    remaining[r] -= reversal_target(remaining[r], refunded[r], paid[r])
    ok = (tick_seq != NEVER) & (remaining > 0)
    pair_tick[has] = np.where(ok[at[has]], tick_seq[at[has]], NEVER)
    settle_at = receipts.settle_at[receipt[ok]]
    return Settled(line[ok], tick_seq[ok], settle_at, remaining[ok]), pair_tick


def queue_ranks(settled: tuple[Settled, Settled], lines: Lines) -> tuple[np.ndarray, np.ndarray]:
    """Each settlement's place in the fold's queue (mirrors ``settle_due``'s heap order).

    The fold pops a tick's due commissions by ``settle_at``, then creation order:
    the order's seq, then the line, direct before team.
    """
    settle_at = np.concatenate([s.settle_at for s in settled])
    seq = np.concatenate([lines.seq[s.line] for s in settled])
    key = np.concatenate([line_key(lines.line[s.line], slot * 2) for slot, s in enumerate(settled)])
    order = np.lexsort((key, seq, settle_at))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[: len(settled[0].line)], rank[len(settled[0].line) :]


def settle_block(
    settled: Settled,
    rank: np.ndarray,
    slot: Slot,
    lines: Lines,
    commission: np.ndarray,
    user_ids: np.ndarray,
    kind: str = "SETTLE",
) -> Block:
    """The ``SETTLE`` entries of one slot; ``rank`` orders them within their tick.

    ``kind="AWAIT_APPROVAL"`` when settled commissions await approval
    (``ReferralConfig.approval.waits``): the same rows, into ``awaiting``.

    ``commission`` is each line's commission entry index; ``receivable_fen`` is
    0 here and set by the balance pass for users who owe something.
    """
    i = settled.line
    return Block(
        n=len(i),
        seq=settled.tick_seq,
        kind=kind_code(kind),
        user_id=Gather(user_ids, i, slot.beneficiary),
        amount_fen=settled.amount,
        order_id=Gather(lines.order_id, i),
        line_id=Gather(lines.line_id, i),
        receivable_fen=0,
        reward_type=slot.reward_type,
        month=Gather(lines.month, i),
        version=None if lines.version is None else Gather(lines.version, i),
        ref=Gather(commission, i),
        k1=rank,
    )
