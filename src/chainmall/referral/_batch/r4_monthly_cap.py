"""R4.6 monthly cap for a whole log: what each commission slot is credited.

Mirrors :func:`chainmall.referral.rules.r4_rewards.monthly_cap`: a beneficiary's
credits in one accrual month stop at ``monthly_cap_fen``; a reversal (R6) gives
its amount back to the month's room, and capped excess is never refilled.

The cap binds for few (beneficiary, month) groups, so only those are worked
out: a beneficiary whose wants over all months stay under the lowest cap cannot
reach it in any month, and in a group whose total stays under its cap
everything is credited. In a binding group without refunds (and with one cap)
the credits are a running sum clipped at the cap; the other binding groups go
through a loop in event order, where a reversal frees room for later credits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from chainmall.referral._batch.kernels import Limits, cumsum_by_group, group_sums, lookup
from chainmall.referral._batch.lines import Lines, Slot, line_key
from chainmall.referral._batch.r6_refunds import RefundPairs
from chainmall.referral._batch.versions import LineParams, at, cap_limits
from chainmall.referral.rules.r6_refunds import reversal_target

__all__ = ["monthly_cap"]


@dataclass(frozen=True)
class _Credits:
    """Paying slots in binding (beneficiary, month) groups."""

    slot: np.ndarray  # 0 direct, 1 team
    line: np.ndarray
    group: np.ndarray
    cap: np.ndarray  # fen: the cap of the line's config version
    mixed: np.ndarray  # bool: the group mixes caps of several versions

    def take(self, keep: np.ndarray) -> _Credits:
        return _Credits(*(getattr(self, f)[keep] for f in _Credits.__dataclass_fields__))


def monthly_cap(
    slots: tuple[Slot, Slot],
    pairs: tuple[RefundPairs, RefundPairs],
    lines: Lines,
    params: LineParams,
    limits: Limits,
) -> tuple[Slot, Slot]:
    """The direct and team slots with ``credit`` set under the monthly cap."""
    credit = [slots[0].want.copy(), slots[1].want.copy()]
    items = _binding(slots, lines, params, limits)
    if len(items.line):
        groups = [_pair_groups(items, s, pairs[s]) for s in (0, 1)]
        with_refunds = np.concatenate([g[g >= 0] for g in groups])
        simple = ~np.isin(items.group, with_refunds) & ~items.mixed
        _clip_running(items.take(simple), credit, lines)
        _in_event_order(items.take(~simple), groups, pairs, credit, lines)
    return replace(slots[0], credit=credit[0]), replace(slots[1], credit=credit[1])


def _binding(
    slots: tuple[Slot, Slot], lines: Lines, params: LineParams, limits: Limits
) -> _Credits:
    """The paying slots in (beneficiary, month) groups whose wants pass their cap."""
    near = _near_cap(slots, params.cap_fen)
    slot = np.concatenate([np.full(len(i), s, dtype=np.int64) for s, i in enumerate(near)])
    line = np.concatenate(near)
    beneficiary = np.concatenate([slots[s].beneficiary[i] for s, i in enumerate(near)])
    want = np.concatenate([slots[s].want[i] for s, i in enumerate(near)])
    n_months = int(lines.month.max()) + 1 if len(lines.month) else 1
    group = beneficiary.astype(np.int64) * n_months + lines.month[line]
    cap = np.broadcast_to(at(params.cap_fen, line), len(line))
    limit, mixed = cap, np.zeros(len(line), dtype=bool)
    if isinstance(params.cap_fen, np.ndarray):  # a group binds once it passes its lowest cap
        limit, mixed = cap_limits(group, cap)
    binding = group_sums(group, want, limits) > limit
    return _Credits(slot, line, group, cap, mixed).take(binding)


def _near_cap(slots: tuple[Slot, Slot], cap: np.ndarray | int) -> list[np.ndarray]:
    """Per slot: the paying lines whose beneficiary wants more than the lowest cap in all."""
    paying = [np.flatnonzero(slot.pay) for slot in slots]
    beneficiary = [slot.beneficiary[i] for slot, i in zip(slots, paying, strict=True)]
    size = max((int(b.max()) + 1 for b in beneficiary if len(b)), default=0)
    total = np.zeros(size, dtype=np.int64)
    for slot, i, b in zip(slots, paying, beneficiary, strict=True):
        np.add.at(total, b, slot.want[i])
    lowest = cap.min() if isinstance(cap, np.ndarray) and len(cap) else cap
    over = total > lowest
    return [i[over[b]] for i, b in zip(paying, beneficiary, strict=True)]


def _pair_groups(items: _Credits, slot: int, pairs: RefundPairs) -> np.ndarray:
    """The binding group of each refund pair's commission (-1: none)."""
    mine = items.slot == slot
    at_item = lookup(items.line[mine], pairs.line)
    group = items.group[mine]
    return np.where(at_item >= 0, group[np.maximum(at_item, 0)] if len(group) else -1, -1)


def _clip_running(items: _Credits, credit: list[np.ndarray], lines: Lines) -> None:
    """Groups without refunds: each credit is its want clipped at the room left before it."""
    key = line_key(lines.line[items.line], items.slot * 2)
    order = np.lexsort((key, lines.seq[items.line], items.group))
    slot, line, group = items.slot[order], items.line[order], items.group[order]
    wanted = np.where(slot == 0, credit[0][line], credit[1][line])
    starts = np.r_[True, group[1:] != group[:-1]] if len(group) else group < 0
    before = cumsum_by_group(wanted, starts) - wanted
    granted = np.clip(items.cap[order] - before, 0, wanted)
    for s in (0, 1):
        credit[s][line[slot == s]] = granted[slot == s]


def _in_event_order(
    items: _Credits,
    groups: list[np.ndarray],
    pairs: tuple[RefundPairs, RefundPairs],
    credit: list[np.ndarray],
    lines: Lines,
) -> None:
    """Credits and reversals of the other binding groups, in event order (a loop)."""
    refund = [np.flatnonzero(np.isin(groups[s], items.group)) for s in (0, 1)]
    group = np.concatenate([items.group, groups[0][refund[0]], groups[1][refund[1]]])
    seq = np.concatenate([lines.seq[items.line], pairs[0].seq[refund[0]], pairs[1].seq[refund[1]]])
    direct, team = np.zeros_like(refund[0]), np.ones_like(refund[1])
    key = np.concatenate([line_key(lines.line[items.line], items.slot * 2), direct, team])
    slot = np.concatenate([items.slot, direct, team])  # direct before team, as the fold
    index = np.concatenate([np.arange(len(items.line)), refund[0], refund[1]])
    is_credit = np.arange(len(group)) < len(items.line)
    current, running = -1, 0
    for k in np.lexsort((key, seq, group)).tolist():
        if group[k] != current:
            current, running = int(group[k]), 0
        s, i = int(slot[k]), int(index[k])
        if is_credit[k]:
            line = int(items.line[i])
            granted = min(int(credit[s][line]), max(0, int(items.cap[i]) - running))
            credit[s][line] = granted
            running += granted
        else:  # a reversal gives back what it takes from the commission
            p, line = pairs[s], int(pairs[s].line[i])
            c, paid = int(credit[s][line]), int(lines.paid[line])
            running -= reversal_target(c, int(p.after[i]), paid)
            running += reversal_target(c, int(p.before[i]), paid)
