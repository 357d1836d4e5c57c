"""Commission approval for a whole log (``ReferralConfig.approval``).

Mirrors :mod:`chainmall.referral.rules.approvals`. A commission is decided once:
by the first accepted ``COMMISSION_APPROVED`` / ``_DECLINED`` naming it, or by
the first tick ``auto_after_days`` after the tick that settled it (auto mode;
with no wait, the settling tick itself). Whether a decision event is accepted
depends only on which commissions exist, have settled and were decided before
it, so the decision events are decided in one sequential pass (the loop runs
once per named id); the entry ids of the commissions are hashed only when the
log holds decision events. What an approval or a decline moves is the credit
less what refunds before it reversed (as :func:`settle_slot` does for a tick).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainmall.referral._batch.kernels import NEVER
from chainmall.referral._batch.ledger import Block, kind_code
from chainmall.referral._batch.lines import Lines, Slot, line_key
from chainmall.referral._batch.r5_settlement import Settled, Ticks
from chainmall.referral._batch.r6_refunds import RefundPairs, reversal_target
from chainmall.referral._batch.tables import CommissionDecisionEvents
from chainmall.referral._batch.withdrawals import LateRejections
from chainmall.referral.config import ApprovalConfig
from chainmall.referral.events import split_entry_ids
from chainmall.referral.ids import IdSpaces
from chainmall.referral.reasons import Reason
from chainmall.referral.records import REWARD_TYPES, entry_id
from chainmall.referral.rules.adjustments import blank_text

__all__ = ["Commissions", "Decisions", "decide", "decision_block"]

APPROVE, DECLINE = kind_code("APPROVE"), kind_code("DECLINE")


@dataclass(frozen=True)
class Commissions:
    """The commissions of one slot: earning lines with a credit (ascending), and when
    each settled (tick seq, NEVER: never) with the seq of the tick and its ``as_of``."""

    line: np.ndarray
    settle_seq: np.ndarray
    settle_ts: np.ndarray

    @classmethod
    def of(cls, line: np.ndarray, settled: Settled, ticks: Ticks) -> Commissions:
        """``line``: the slot's credited lines; ``settled``: its ``SETTLE`` rows."""
        at = np.searchsorted(line, settled.line)
        settle_seq = np.full(len(line), NEVER, dtype=np.int64)
        settle_seq[at] = settled.tick_seq
        settle_ts = np.full(len(line), NEVER, dtype=np.int64)
        settle_ts[at] = ticks.ts[np.searchsorted(ticks.seq, settled.tick_seq)]
        return cls(line, settle_seq, settle_ts)


@dataclass(frozen=True)
class Decisions:
    """Per commission of one slot: the seq that decided it (NEVER: undecided), whether it
    was declined, and the sort key of its entry within that event."""

    seq: np.ndarray
    declined: np.ndarray
    k1: np.ndarray
    manual: np.ndarray  # bool: decided by an operator's event


def decide(
    events: tuple[CommissionDecisionEvents, CommissionDecisionEvents],
    slots: Sequence[Commissions],
    lines: Lines,
    ticks: Ticks,
    rules: ApprovalConfig,
    entry_ids: Any,
) -> tuple[list[Decisions], LateRejections]:
    """Decide every commission of ``slots`` and every decision event.

    ``entry_ids(slot_index)`` returns the slot's commission entry ids (called only
    when a decision event exists).
    """
    auto = [_auto_seq(c, ticks, rules) for c in slots]
    manual = [np.full(len(c.line), NEVER, dtype=np.int64) for c in slots]
    declined = [np.zeros(len(c.line), dtype=bool) for c in slots]
    k1 = [np.zeros(len(c.line), dtype=np.int64) for c in slots]
    late: list[tuple[int, int, str, str]] = []
    merged = sorted(
        (int(t.ev[i]), kind, t, i) for kind, t in enumerate(events) for i in range(len(t.ev))
    )
    if merged:
        where = {eid: (s, j) for s in range(len(slots)) for j, eid in enumerate(entry_ids(s))}
        for ev, kind, table, i in merged:
            seq = int(table.seq[i])
            found = _check(table, i, kind, where, slots, lines, auto, manual)
            if isinstance(found, Reason):
                name = ("COMMISSION_APPROVED", "COMMISSION_DECLINED")[kind]
                late.append((ev, seq, name, found.name))
                continue
            for order, (s, j) in enumerate(found):
                manual[s][j], declined[s][j], k1[s][j] = seq, kind == 1, order
    out = []
    base = sum(len(c.line) for c in slots)  # auto approvals follow a tick's settlements
    auto_rank = _auto_ranks(slots, lines, rules)
    for s in range(len(slots)):
        by_hand = manual[s] != NEVER
        decided_at = np.where(by_hand, manual[s], auto[s])
        out.append(
            Decisions(
                decided_at, declined[s], np.where(by_hand, k1[s], base + auto_rank[s]), by_hand
            )
        )
    return out, _late(late)


def _auto_seq(c: Commissions, ticks: Ticks, rules: ApprovalConfig) -> np.ndarray:
    """Seq of the tick that approves each commission by itself (NEVER: none)."""
    wait = rules.auto_after_ns
    if wait is None:
        return np.full(len(c.line), NEVER, dtype=np.int64)
    if not rules.waits:  # approved by the settling tick
        return c.settle_seq.copy()
    settled = c.settle_seq != NEVER
    out = np.full(len(c.line), NEVER, dtype=np.int64)
    due = c.settle_ts[settled] + wait
    out[settled] = ticks.seq_at(np.searchsorted(ticks.ts, due, side="left"))
    return out


def _auto_ranks(
    slots: Sequence[Commissions], lines: Lines, rules: ApprovalConfig
) -> list[np.ndarray]:
    """Each auto approval's place in its tick (the fold's queue: due, then creation)."""
    if not rules.waits or rules.auto_after_ns is None:
        return [np.zeros(len(c.line), dtype=np.int64) for c in slots]
    due = np.concatenate([c.settle_ts for c in slots])
    seq = np.concatenate([lines.seq[c.line] for c in slots])
    key = np.concatenate([line_key(lines.line[c.line], s * 2) for s, c in enumerate(slots)])
    order = np.lexsort((key, seq, due))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return list(np.split(rank, np.cumsum([len(c.line) for c in slots])[:-1]))


def _check(
    table: CommissionDecisionEvents,
    i: int,
    kind: int,
    where: dict[str, tuple[int, int]],
    slots: Sequence[Commissions],
    lines: Lines,
    auto: list[np.ndarray],
    manual: list[np.ndarray],
) -> list[tuple[int, int]] | Reason:
    """The commissions decision event ``i`` names, or why it is refused (the fold's order)."""
    seq = int(table.seq[i])
    if blank_text(table.operator_id[i]) or (kind == 1 and blank_text(table.reason[i])):
        return Reason.MISSING_REASON
    ids = split_entry_ids(table.entry_ids[i])
    if not ids:
        return Reason.MISSING_FIELD
    found = [where.get(eid) for eid in ids]
    if any(f is None or lines.seq[slots[f[0]].line[f[1]]] > seq for f in found):
        return Reason.UNKNOWN_ENTRY
    named = [f for f in found if f is not None]
    if any(slots[s].settle_seq[j] > seq for s, j in named):
        return Reason.NOT_SETTLED
    if len(set(named)) < len(named) or any(
        manual[s][j] != NEVER or auto[s][j] < seq for s, j in named
    ):
        return Reason.ALREADY_DECIDED
    return named


def _late(rows: list[tuple[int, int, str, str]]) -> LateRejections:
    return LateRejections(
        np.array([r[0] for r in rows], dtype=np.int64),
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )


def commission_entry_ids(
    c: Commissions,
    slot: Slot,
    lines: Lines,
    user_ids: np.ndarray,
    ids: IdSpaces,
    versions: Sequence[str],
) -> list[str]:
    """The ``COMMISSION`` entry id of each commission of a slot (the caller's ids)."""
    line = c.line
    user = _external(ids, "user", user_ids[slot.beneficiary[line]])
    order = _external(ids, "order", lines.order_id[line])
    line_id = _external(ids, "line", lines.line_id[line])
    version = (
        [versions[0]] * len(line)
        if lines.version is None
        else [versions[v] for v in lines.version[line].tolist()]
    )
    reward = REWARD_TYPES[slot.reward_type]
    return [
        entry_id(
            v,
            "COMMISSION",
            seq=None,
            user_id=u,
            order_id=o,
            line_id=ln,
            reward_type=reward,
            ref=None,
            refund_id=None,
        )
        for v, u, o, ln in zip(version, user, order, line_id, strict=True)
    ]


def _external(ids: IdSpaces, kind: str, codes: np.ndarray) -> list[Any]:
    space = ids.spaces.get(kind)
    values: list[Any] = codes.tolist() if space is None else space.ids(codes).tolist()
    return values


def decision_block(
    c: Commissions,
    decided: Decisions,
    pairs: RefundPairs,
    slot: Slot,
    lines: Lines,
    commission: np.ndarray,
    user_ids: np.ndarray,
    with_auto: bool,
) -> Block:
    """The ``APPROVE`` / ``DECLINE`` entries of one slot's decided commissions.

    ``with_auto``: auto approvals post entries (False when a commission is approved by
    its own ``SETTLE``). No entry when nothing is left of the commission.
    """
    line = c.line
    keep = (decided.seq != NEVER) & (decided.manual | with_auto)
    credit = slot.credit[line]
    at = np.minimum(np.searchsorted(line, pairs.line), max(len(line) - 1, 0))
    has = (line[at] == pairs.line) if len(line) else at < 0
    before = has & (pairs.seq < decided.seq[at] if len(line) else has)
    refunded = np.zeros(len(line), dtype=np.int64)
    np.maximum.at(refunded, at[before], pairs.after[before])
    left = credit - reversal_target(credit, refunded, lines.paid[line])
    j = np.flatnonzero(keep & (left > 0))
    i = line[j]
    sign = np.where(decided.declined[j], -1, 1)
    return Block(
        n=len(j),
        seq=decided.seq[j],
        kind=np.where(decided.declined[j], DECLINE, APPROVE),
        user_id=user_ids[slot.beneficiary[i]],
        amount_fen=sign * left[j],
        order_id=lines.order_id[i],
        line_id=lines.line_id[i],
        receivable_fen=0,
        reward_type=slot.reward_type,
        month=lines.month[i],
        version=None if lines.version is None else lines.version[i],
        ref=commission[i],
        k1=decided.k1[j],
    )
