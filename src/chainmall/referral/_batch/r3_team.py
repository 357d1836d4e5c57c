"""R2 membership and R3 team placement for every member at once.

Mirrors :class:`chainmall.referral.rules.r3_team.TeamTree` (``join``). With
``FIRST_N`` a member's team parent is always a BOSS (or the platform), so each
new member's parent is its inviter (rank above N) or a copy of its inviter's
parent at that time (rank up to N): :func:`_parents_at_join` resolves those copy
chains for all members at once by pointer jumping. The other slide modes replay
memberships through the fold's ``TeamTree`` (a loop over members only).

Also: inviter-tree depths (:func:`inviter_depths`; a genealogical distance is a
difference of depths) and a member's team parent or boss as of any seq
(:func:`parents_at`, :func:`bosses_at`), read from the relation log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainmall.referral._batch.kernels import NEVER
from chainmall.referral.config import ReferralConfig, SlideMode
from chainmall.referral.frames import RELATION_REASONS
from chainmall.referral.rules.journal import Table
from chainmall.referral.rules.r3_team import TeamTree

__all__ = ["RelationLog", "Team", "bosses_at", "inviter_depths", "parents_at", "place_members"]

JOIN, SLIDE, BREAKAWAY = range(3)


@dataclass(frozen=True)
class RelationLog:
    """Team-tree changes in the fold's order (dense users; -1 = the platform)."""

    seq: np.ndarray
    user: np.ndarray
    source: np.ndarray
    target: np.ndarray
    reason: np.ndarray  # codes into RELATION_REASONS


@dataclass(frozen=True)
class Team:
    """The team tree at the end of the log (dense users)."""

    member_seq: np.ndarray  # R2: NEVER if never a member
    rank: np.ndarray  # R3.1: invitee rank within the inviter, 0 none
    boss_seq: np.ndarray  # NEVER if never a boss
    parent_at_join: np.ndarray | None  # FIRST_N only: team parent when the user joined
    parent_now: np.ndarray  # team parent at the end of the log
    log: RelationLog


def place_members(inviter: np.ndarray, member_seq: np.ndarray, config: ReferralConfig) -> Team:
    """R3 for every member: vectorised for ``FIRST_N``, the fold's ``TeamTree`` otherwise."""
    if config.slide_mode is not SlideMode.FIRST_N:
        return _replay(inviter, member_seq, config)
    members = np.flatnonzero(member_seq != NEVER)
    members = members[np.argsort(member_seq[members], kind="stable")]
    rank = _ranks(inviter, member_seq, members)
    n = config.slide_count
    boss_seq = np.full(len(inviter), NEVER, dtype=np.int64)
    nth = members[(rank[members] == n) & (inviter[members] >= 0)]
    boss_seq[inviter[nth]] = member_seq[nth]
    parent = _parents_at_join(inviter, member_seq, members, rank, boss_seq, config)
    detached = config.breakaway_detach & (boss_seq != NEVER)
    log = _relation_log(inviter, member_seq, members, rank, nth, parent, config)
    return Team(member_seq, rank, boss_seq, parent, np.where(detached, -1, parent), log)


def _ranks(inviter: np.ndarray, member_seq: np.ndarray, members: np.ndarray) -> np.ndarray:
    """R3.1: each member's position among its inviter's member invitees (0: no inviter)."""
    rank = np.zeros(len(inviter), dtype=np.int32)  # below the number of users
    inv = inviter[members]
    order = np.lexsort((member_seq[members], inv))
    sorted_inv = inv[order]
    starts = np.r_[True, sorted_inv[1:] != sorted_inv[:-1]] if len(order) else sorted_inv > 0
    position = np.arange(len(order))
    group_rank = position - np.maximum.accumulate(np.where(starts, position, 0)) + 1
    rank[members[order]] = np.where(sorted_inv >= 0, group_rank, 0)
    return rank


def _parents_at_join(
    inviter: np.ndarray,
    member_seq: np.ndarray,
    members: np.ndarray,
    rank: np.ndarray,
    boss_seq: np.ndarray,
    config: ReferralConfig,
) -> np.ndarray:
    """R3.2/R3.3 with ``FIRST_N``: each member's team parent when it joined (-1 none).

    Rank above N: the inviter. Rank up to N: a copy of the inviter's parent
    (if the inviter joined first); copy chains are resolved by pointer jumping.
    A member that already is a detached BOSS when it joins has none.
    """
    n = config.slide_count
    inv = inviter[members]
    has_inv = inv >= 0
    m_rank = rank[members]
    inviter_first = has_inv & (member_seq[np.where(has_inv, inv, 0)] < member_seq[members])
    detached = config.breakaway_detach & (boss_seq[members] < member_seq[members])
    parent = np.full(len(inviter), -1, dtype=np.int64)
    parent[members] = np.where(has_inv & (m_rank > n) & ~detached, inv, -1)
    copies = has_inv & (m_rank <= n) & inviter_first & ~detached
    pointer = np.full(len(inviter), -1, dtype=np.int64)
    pointer[members[copies]] = inv[copies]
    resolved = np.ones(len(inviter), dtype=bool)
    resolved[members[copies]] = False
    while not resolved.all():
        todo = np.flatnonzero(~resolved)
        target = pointer[todo]
        done = resolved[target]
        parent[todo[done]] = parent[target[done]]
        resolved[todo[done]] = True
        waiting = todo[~done]
        pointer[waiting] = pointer[pointer[waiting]]
    return parent


def _relation_log(
    inviter: np.ndarray,
    member_seq: np.ndarray,
    members: np.ndarray,
    rank: np.ndarray,
    nth: np.ndarray,
    parent: np.ndarray,
    config: ReferralConfig,
) -> RelationLog:
    """Each member's JOIN or SLIDE, then its inviter's BREAKAWAY if it was the N-th."""
    inv = inviter[members]
    slide = (inv >= 0) & (rank[members] <= config.slide_count)
    parts = [
        (member_seq[members], members, np.where(slide, inv, -1), parent[members]),
    ]
    reasons = [np.where(slide, SLIDE, JOIN)]
    if config.breakaway_detach:
        boss = inviter[nth]
        old = np.where(member_seq[boss] < member_seq[nth], parent[boss], -1)
        parts.append((member_seq[nth], boss, old, np.full(len(nth), -1, dtype=np.int64)))
        reasons.append(np.full(len(nth), BREAKAWAY))
    seq, user, source, target = (np.concatenate(column) for column in zip(*parts, strict=True))
    reason = np.concatenate(reasons)
    order = np.lexsort((reason == BREAKAWAY, seq))  # a breakaway follows its slide
    return RelationLog(seq[order], user[order], source[order], target[order], reason[order])


def _replay(inviter: np.ndarray, member_seq: np.ndarray, config: ReferralConfig) -> Team:
    """R3 for the other slide modes: the fold's ``TeamTree`` over the members in join order."""
    tree = TeamTree()
    members = np.flatnonzero(member_seq != NEVER)
    for user in members[np.argsort(member_seq[members], kind="stable")].tolist():
        parent = int(inviter[user])
        tree.join(user, parent if parent >= 0 else None, int(member_seq[user]), config)
    n = len(inviter)

    def dense(mapping: Table[Any, Any], fill: int) -> np.ndarray:
        out = np.full(n, fill, dtype=np.int64)
        for key, value in mapping.items():
            out[key] = fill if value is None else value
        return out

    changes = tree.changes

    def column(values: list[int | None]) -> np.ndarray:
        return np.array([-1 if v is None else v for v in values], dtype=np.int64)

    log = RelationLog(
        column([c.seq for c in changes]),
        column([c.user_id for c in changes]),
        column([c.from_parent for c in changes]),
        column([c.to_parent for c in changes]),
        column([RELATION_REASONS.index(c.reason) for c in changes]),
    )
    return Team(
        member_seq,
        dense(tree.rank, 0),
        dense(tree.boss_seq, NEVER),
        None,
        dense(tree.team_parent, -1),
        log,
    )


def inviter_depths(parent: np.ndarray) -> np.ndarray:
    """Depth of each node of a forest given parent indices (-1 for roots), by pointer jumping."""
    depth = (parent >= 0).astype(np.int32)  # below the number of nodes
    anc = parent.astype(np.int64, copy=True)
    live = np.flatnonzero(anc >= 0)
    while len(live):
        up = anc[live]
        depth[live] += depth[up]  # depth[i] = distance from i to anc[i] (or to its root)
        anc[live] = anc[up]
        live = live[anc[live] >= 0]
    return depth


def parents_at(log: RelationLog) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``team_parent(who)`` as of each ``when`` (changes at that seq included), -1 none."""
    order = np.lexsort((np.arange(len(log.user)), log.seq, log.user))
    keys_user, keys_seq, keys_to = log.user[order], log.seq[order], log.target[order]

    def parent_at(who: np.ndarray, when: np.ndarray) -> np.ndarray:
        lo = np.searchsorted(keys_user, who, side="left")
        hi = np.searchsorted(keys_user, who, side="right")
        last = lo + _count_le(keys_seq, lo, hi, when) - 1  # last change of `who` by `when`
        out = np.full(len(who), -1, dtype=np.int64)
        found = last >= lo
        out[found] = keys_to[last[found]]
        return out

    return parent_at


def bosses_at(team: Team, users: np.ndarray, at_seq: np.ndarray) -> np.ndarray:
    """``boss_of(user)`` as of each ``at_seq`` (changes at that seq included), -1 none."""
    if not len(team.log.user):
        return np.full(len(users), -1, dtype=np.int64)
    parent_at = parents_at(team.log)
    cur = parent_at(users, at_seq)
    active = np.flatnonzero(cur >= 0)
    active = active[team.boss_seq[cur[active]] > at_seq[active]]
    while len(active):
        cur[active] = parent_at(cur[active], at_seq[active])
        active = active[cur[active] >= 0]
        active = active[team.boss_seq[cur[active]] > at_seq[active]]
    return cur


def _count_le(keys: np.ndarray, lo: np.ndarray, hi: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Per query, how many of the sorted ``keys[lo:hi]`` are <= ``when`` (binary search)."""
    count = np.zeros(len(lo), dtype=np.int64)
    width = hi - lo
    step = 1 << int(max(int(width.max()) if len(width) else 0, 1)).bit_length()
    while step:
        probe = count + step
        ok = probe <= width
        idx = np.where(ok, lo + probe - 1, 0)
        ok &= keys[idx] <= when
        count = np.where(ok, probe, count)
        step >>= 1
    return count
