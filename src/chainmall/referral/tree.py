"""The two relations: the immutable inviter forest and the mutable 2+1 team tree (R1, R3).

:class:`TeamTree` applies R3 one membership at a time (the fold uses it, and so
does the batch path for the non-default slide modes). :func:`first_n_teams`
computes the same placement for ``FIRST_N`` without a Python loop: with that
mode a member's team parent is always a BOSS (or none), so each new member's
parent is its inviter (rank > N) or a copy of its inviter's parent (rank <= N),
resolved for all members at once by pointer jumping.

Relation changes are rows ``(seq, user_id, from_parent, to_parent, reason)`` with
reason ``JOIN``, ``SLIDE`` or ``BREAKAWAY``; ``None`` (or -1 inside arrays) is the
platform.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainmall.referral.config import ReferralConfig, SlideMode

__all__ = [
    "RelationChange",
    "TeamTree",
    "first_n_teams",
    "inviter_depths",
    "parent_lookup",
    "place_members",
    "to_networkx",
]

NONE = -1
_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class RelationChange:
    """One append-only change of the team tree."""

    seq: int
    user_id: int
    from_parent: int | None
    to_parent: int | None
    reason: str


@dataclass
class TeamTree:
    """Mutable relation state advanced one event at a time."""

    inviter: dict[int, int] = field(default_factory=dict)
    bind_seq: dict[int, int] = field(default_factory=dict)
    member_seq: dict[int, int] = field(default_factory=dict)
    boss_seq: dict[int, int] = field(default_factory=dict)
    team_parent: dict[int, int | None] = field(default_factory=dict)
    invitee_count: dict[int, int] = field(default_factory=dict)
    rank: dict[int, int] = field(default_factory=dict)
    provisional: dict[int, list[int]] = field(default_factory=dict)
    changes: list[RelationChange] = field(default_factory=list)

    def copy(self) -> TeamTree:
        """An independent snapshot."""
        return TeamTree(
            inviter=dict(self.inviter),
            bind_seq=dict(self.bind_seq),
            member_seq=dict(self.member_seq),
            boss_seq=dict(self.boss_seq),
            team_parent=dict(self.team_parent),
            invitee_count=dict(self.invitee_count),
            rank=dict(self.rank),
            provisional={k: list(v) for k, v in self.provisional.items()},
            changes=list(self.changes),
        )

    def is_ancestor(self, ancestor: int, user: int) -> bool:
        """True if ``ancestor`` is ``user`` or above it on the inviter tree."""
        node: int | None = user
        while node is not None:
            if node == ancestor:
                return True
            node = self.inviter.get(node)
        return False

    def bind(self, user: int, inviter: int, seq: int) -> None:
        """Record an accepted binding (checks are the caller's)."""
        self.inviter[user] = inviter
        self.bind_seq[user] = seq

    def boss_of(self, user: int) -> int | None:
        """Nearest BOSS on the team chain starting at ``team_parent(user)``."""
        node = self.team_parent.get(user)
        while node is not None and node not in self.boss_seq:
            node = self.team_parent.get(node)
        return node

    def gen_dist(self, user: int, ancestor: int) -> int:
        """Steps up the inviter tree from ``user`` to ``ancestor`` (an ancestor)."""
        steps, node = 0, user
        while node != ancestor:
            node = self.inviter[node]
            steps += 1
        return steps

    def join(self, user: int, seq: int, config: ReferralConfig) -> None:
        """``user`` becomes a MEMBER at ``seq``: rank it and place it on the team tree (R3)."""
        self.member_seq[user] = seq
        x = self.inviter.get(user)
        n, mode = config.slide_count, config.slide_mode
        reason, source, parent = "JOIN", None, None
        becomes_boss = False
        if x is not None:
            k = self.invitee_count.get(x, 0) + 1
            self.invitee_count[x] = k
            self.rank[user] = k
            if x in self.boss_seq:
                parent = x
            elif k == n or (k < n and mode is SlideMode.FIRST_N):
                reason, source, parent = "SLIDE", x, self.boss_of(x)
                becomes_boss = k == n
            else:
                parent = x
                if mode is SlideMode.ALL_ON_BREAKAWAY:
                    self.provisional.setdefault(x, []).append(user)
        if config.breakaway_detach and user in self.boss_seq:
            parent = None
        self.team_parent[user] = parent
        self.changes.append(RelationChange(seq, user, source, parent, reason))
        if becomes_boss and x is not None:
            self._promote(x, parent, seq, config)

    def _promote(self, boss: int, target: int | None, seq: int, config: ReferralConfig) -> None:
        self.boss_seq[boss] = seq
        for waiting in self.provisional.pop(boss, []):
            if self.team_parent.get(waiting) == boss:
                self.team_parent[waiting] = target
                self.changes.append(RelationChange(seq, waiting, boss, target, "SLIDE"))
        if config.breakaway_detach:
            old = self.team_parent.get(boss)
            self.team_parent[boss] = None
            self.changes.append(RelationChange(seq, boss, old, None, "BREAKAWAY"))


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


def first_n_teams(
    inviter: np.ndarray, member_seq: np.ndarray, config: ReferralConfig
) -> dict[str, np.ndarray]:
    """R3 with ``FIRST_N`` for all members at once (dense indices, -1 = none).

    ``inviter[i]`` is the final inviter index, ``member_seq[i]`` the membership
    seq (``int64`` max for non-members). Returns ``rank``, ``boss_seq`` (int64 max
    if never), ``team_parent`` (at join) and the relation log arrays ``log_seq``,
    ``log_user``, ``log_from``, ``log_to``, ``log_reason`` (0 JOIN, 1 SLIDE,
    2 BREAKAWAY) in the fold's order.
    """
    never = np.iinfo(np.int64).max
    n_users = len(inviter)
    members = np.flatnonzero(member_seq != never)
    members = members[np.argsort(member_seq[members], kind="stable")]
    inv = inviter[members]
    has_inv = inv >= 0
    # rank = position among the inviter's member invitees, by membership seq
    rank = np.zeros(n_users, dtype=np.int32)  # below the number of users
    order = np.lexsort((member_seq[members], inv))
    sorted_inv = inv[order]
    starts = np.r_[True, sorted_inv[1:] != sorted_inv[:-1]] if len(order) else np.zeros(0, bool)
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    rank_sorted = np.arange(len(order)) - group_start + 1
    rank[members[order]] = np.where(sorted_inv >= 0, rank_sorted, 0)
    n = config.slide_count
    boss_seq = np.full(n_users, never, dtype=np.int64)
    nth = members[(rank[members] == n) & has_inv]
    boss_seq[inviter[nth]] = member_seq[nth]

    # team parent at join: resolve "copy my inviter's parent" chains by pointer jumping
    m_rank = rank[members]
    inv_safe = np.where(has_inv, inv, 0)
    inviter_joined_first = has_inv & (member_seq[inv_safe] < member_seq[members])
    detached_boss = config.breakaway_detach & (boss_seq[members] < member_seq[members])
    final = np.full(n_users, NONE, dtype=np.int64)
    pointer = np.full(n_users, NONE, dtype=np.int64)
    resolved = np.ones(n_users, dtype=bool)
    is_copy = has_inv & (m_rank <= n) & inviter_joined_first & ~detached_boss
    final[members] = np.where(has_inv & (m_rank > n) & ~detached_boss, inv, NONE)
    pointer[members[is_copy]] = inv[is_copy]
    resolved[members[is_copy]] = False
    while not resolved.all():
        todo = np.flatnonzero(~resolved)
        target = pointer[todo]
        done = resolved[target]
        final[todo[done]] = final[target[done]]
        resolved[todo[done]] = True
        pending = todo[~done]
        pointer[pending] = pointer[pointer[pending]]

    # relation log: each member's JOIN/SLIDE, then its inviter's BREAKAWAY if rank == N
    slide = has_inv & (m_rank <= n)
    entries_seq = [member_seq[members]]
    entries_user = [members]
    entries_from = [np.where(slide, inv, NONE)]
    entries_to = [final[members]]
    entries_reason = [np.where(slide, 1, 0)]
    entries_sub = [np.zeros(len(members), dtype=np.int64)]
    if config.breakaway_detach:
        boss = inviter[nth]
        old = np.where(member_seq[boss] < member_seq[nth], final[boss], NONE)
        entries_seq.append(member_seq[nth])
        entries_user.append(boss)
        entries_from.append(old)
        entries_to.append(np.full(len(nth), NONE, dtype=np.int64))
        entries_reason.append(np.full(len(nth), 2, dtype=np.int64))
        entries_sub.append(np.ones(len(nth), dtype=np.int64))
    log_seq = np.concatenate(entries_seq)
    log_sub = np.concatenate(entries_sub)
    log_order = np.lexsort((log_sub, log_seq))
    return {
        "rank": rank,
        "boss_seq": boss_seq,
        "team_parent": final,
        "log_seq": log_seq[log_order],
        "log_user": np.concatenate(entries_user)[log_order],
        "log_from": np.concatenate(entries_from)[log_order],
        "log_to": np.concatenate(entries_to)[log_order],
        "log_reason": np.concatenate(entries_reason)[log_order],
    }


def parent_lookup(
    log_user: np.ndarray, log_seq: np.ndarray, log_to: np.ndarray
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``team_parent(who)`` as of each ``when`` (changes at that seq included) from the log.

    Returns a vectorised lookup ``(who, when) -> parent`` (-1 for none).
    """
    order = np.lexsort((np.arange(len(log_user)), log_seq, log_user))
    keys_user, keys_seq, keys_to = log_user[order], log_seq[order], log_to[order]

    def parent_at(who: np.ndarray, when: np.ndarray) -> np.ndarray:
        lo = np.searchsorted(keys_user, who, side="left")
        hi = np.searchsorted(keys_user, who, side="right")
        # last change of `who` with seq <= when: search within each user's slice
        pos = lo + _count_le(keys_seq, lo, hi, when) - 1
        ok = pos >= lo
        out = np.full(len(who), NONE, dtype=np.int64)
        out[ok] = keys_to[pos[ok]]
        return out

    return parent_at


def bosses_at(
    log_user: np.ndarray,
    log_seq: np.ndarray,
    log_to: np.ndarray,
    boss_seq: np.ndarray,
    users: np.ndarray,
    at_seq: np.ndarray,
) -> np.ndarray:
    """``boss_of(user)`` as of each ``at_seq`` (changes at that seq included), -1 if none."""
    if len(log_user) == 0:
        return np.full(len(users), NONE, dtype=np.int64)
    parent_at = parent_lookup(log_user, log_seq, log_to)
    cur = parent_at(users, at_seq)
    active = np.flatnonzero(cur >= 0)
    active = active[boss_seq[cur[active]] > at_seq[active]]
    while len(active):
        cur[active] = parent_at(cur[active], at_seq[active])
        active = active[cur[active] >= 0]
        active = active[boss_seq[cur[active]] > at_seq[active]]
    return cur


def _count_le(keys_seq: np.ndarray, lo: np.ndarray, hi: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Per query, how many of ``keys_seq[lo:hi]`` (sorted) are <= ``when``."""
    count = np.zeros(len(lo), dtype=np.int64)
    width = hi - lo
    step = 1 << int(max(int(width.max()) if len(width) else 0, 1)).bit_length()
    while step:
        probe = count + step
        ok = probe <= width
        idx = np.where(ok, lo + probe - 1, 0)
        ok &= keys_seq[idx] <= when
        count = np.where(ok, probe, count)
        step >>= 1
    return count


def to_networkx(users: Any, *, id_column: str = "user_id") -> Any:
    """A ``networkx.DiGraph`` of a settlement's ``users`` frame.

    Nodes are user ids with ``status``; edges child -> parent carry ``kind``
    ``"inviter"`` (immutable referral) or ``"team"`` (current 2+1 team parent).
    """
    import networkx as nx

    graph = nx.DiGraph()
    for row in users.itertuples(index=False):
        graph.add_node(getattr(row, id_column), status=row.status)
    for kind, col in (("inviter", "inviter_id"), ("team", "team_parent_id")):
        sub = users[users[col].notna()]
        for child, parent in zip(sub[id_column].tolist(), sub[col].tolist(), strict=True):
            if graph.has_edge(child, parent):
                graph.edges[child, parent]["kind"] = "inviter+team"
            else:
                graph.add_edge(child, parent, kind=kind)
    return graph


def place_members(
    inviter: np.ndarray, member_seq: np.ndarray, config: ReferralConfig
) -> dict[str, Any]:
    """R3 for every member (dense arrays): vectorised for FIRST_N, :class:`TeamTree` otherwise.

    Returns the arrays of :func:`first_n_teams` plus ``current`` (team parent now).
    """
    if config.slide_mode is SlideMode.FIRST_N:
        team = first_n_teams(inviter, member_seq, config)
        detached = config.breakaway_detach & (team["boss_seq"] != _NEVER)
        team["current"] = np.where(detached, -1, team["team_parent"])
        return team
    tree = TeamTree()
    for user in np.flatnonzero(inviter >= 0).tolist():
        tree.inviter[user] = int(inviter[user])
    members = np.flatnonzero(member_seq != _NEVER)
    for user in members[np.argsort(member_seq[members], kind="stable")].tolist():
        tree.join(user, int(member_seq[user]), config)
    n = len(inviter)

    def arr(mapping: dict[int, Any], fill: int) -> np.ndarray:
        out = np.full(n, fill, dtype=np.int64)
        for key, value in mapping.items():
            out[key] = fill if value is None else value
        return out

    ch = tree.changes
    reason = {r: i for i, r in enumerate(("JOIN", "SLIDE", "BREAKAWAY"))}
    return {
        "rank": arr(tree.rank, 0),
        "boss_seq": arr(tree.boss_seq, _NEVER),
        "current": arr(tree.team_parent, -1),
        "log_seq": np.array([c.seq for c in ch], dtype=np.int64),
        "log_user": np.array([c.user_id for c in ch], dtype=np.int64),
        "log_from": np.array(
            [-1 if c.from_parent is None else c.from_parent for c in ch], np.int64
        ),
        "log_to": np.array([-1 if c.to_parent is None else c.to_parent for c in ch], np.int64),
        "log_reason": np.array([reason[c.reason] for c in ch], dtype=np.int64),
    }
