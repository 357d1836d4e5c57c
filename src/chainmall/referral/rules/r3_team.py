"""R2 membership and R3 team placement (滑落 / 脱离), one membership at a time.

A user becomes a MEMBER at its first paid order with a positive base (R2). Then,
if it has an inviter ``x`` (R3):

- R3.1 its rank within ``x`` is ``x``'s count of member invitees so far (fixed forever);
- R3.2 if ``x`` is a BOSS, the new member's team parent is ``x``;
- R3.3 otherwise (``FIRST_N``) invitees ranked up to ``slide_count`` slide to
  ``boss_of(x)`` (log ``SLIDE``); the ``slide_count``-th makes ``x`` a BOSS, which
  leaves its own team when ``breakaway_detach`` (log ``BREAKAWAY``). ``ONLY_NTH``
  slides the N-th only; ``ALL_ON_BREAKAWAY`` keeps earlier invitees with ``x``
  provisionally and slides them all with the N-th.

Relation changes are rows ``(seq, user_id, from_parent, to_parent, reason)``;
``None`` is the platform. The batch twin is :mod:`chainmall.referral._batch.r3_team`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chainmall.referral.config import ReferralConfig, SlideMode
from chainmall.referral.rules.journal import Log, Table

__all__ = ["RelationChange", "TeamTree"]


@dataclass(frozen=True, slots=True)
class RelationChange:
    """One append-only change of the team tree (reason ``JOIN``, ``SLIDE``, ``BREAKAWAY``)."""

    seq: int
    user_id: Any
    from_parent: Any  # None: the platform
    to_parent: Any
    reason: str


@dataclass
class TeamTree:
    """The mutable 2+1 team tree: memberships, bosses, team parents, invitee ranks."""

    member_seq: Table[Any, int] = field(default_factory=lambda: Table("member_seq"))
    boss_seq: Table[Any, int] = field(default_factory=lambda: Table("boss_seq"))
    team_parent: Table[Any, Any] = field(default_factory=lambda: Table("team_parent"))
    invitee_count: Table[Any, int] = field(default_factory=lambda: Table("invitee_count", 0))
    rank: Table[Any, int] = field(default_factory=lambda: Table("rank"))
    provisional: Table[Any, tuple[Any, ...]] = field(
        default_factory=lambda: Table("provisional", ())
    )
    changes: Log[RelationChange] = field(default_factory=lambda: Log("relation_changes"))

    def boss_of(self, user: Any) -> Any:
        """Nearest BOSS on the team chain starting at ``team_parent(user)`` (None: platform)."""
        node = self.team_parent.get(user)
        while node is not None and node not in self.boss_seq:
            node = self.team_parent.get(node)
        return node

    def join(self, user: Any, inviter: Any, seq: int, config: ReferralConfig) -> None:
        """``user`` becomes a MEMBER at ``seq`` (R2): rank it and place it (R3)."""
        self.member_seq[user] = seq
        n, mode = config.slide_count, config.slide_mode
        reason, source, parent = "JOIN", None, None
        becomes_boss = False
        if inviter is not None:
            k = self.invitee_count[inviter] + 1  # R3.1
            self.invitee_count[inviter] = k
            self.rank[user] = k
            if inviter in self.boss_seq:  # R3.2
                parent = inviter
            elif k == n or (k < n and mode is SlideMode.FIRST_N):  # R3.3: slide
                reason, source, parent = "SLIDE", inviter, self.boss_of(inviter)
                becomes_boss = k == n
            else:
                parent = inviter
                if mode is SlideMode.ALL_ON_BREAKAWAY:
                    self.provisional[inviter] = (*self.provisional[inviter], user)
        if config.breakaway_detach and user in self.boss_seq:
            parent = None
        self.team_parent[user] = parent
        self.changes.append(RelationChange(seq, user, source, parent, reason))
        if becomes_boss and inviter is not None:
            self._break_away(inviter, parent, seq, config)

    def _break_away(self, boss: Any, target: Any, seq: int, config: ReferralConfig) -> None:
        """R3.3: ``boss`` becomes a BOSS; provisional invitees slide; it may detach."""
        self.boss_seq[boss] = seq
        waiting = self.provisional[boss]
        if waiting:
            del self.provisional[boss]
        for user in waiting:
            if self.team_parent.get(user) == boss:
                self.team_parent[user] = target
                self.changes.append(RelationChange(seq, user, boss, target, "SLIDE"))
        if config.breakaway_detach:
            old = self.team_parent.get(boss)
            self.team_parent[boss] = None
            self.changes.append(RelationChange(seq, boss, old, None, "BREAKAWAY"))
