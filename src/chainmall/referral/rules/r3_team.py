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

from chainmall.referral.config import ReferralConfig, SlideMode

__all__ = ["RelationChange", "TeamTree"]


@dataclass(frozen=True, slots=True)
class RelationChange:
    """One append-only change of the team tree (reason ``JOIN``, ``SLIDE``, ``BREAKAWAY``)."""

    seq: int
    user_id: int
    from_parent: int | None
    to_parent: int | None
    reason: str


@dataclass
class TeamTree:
    """The mutable 2+1 team tree: memberships, bosses, team parents, invitee ranks."""

    member_seq: dict[int, int] = field(default_factory=dict)
    boss_seq: dict[int, int] = field(default_factory=dict)
    team_parent: dict[int, int | None] = field(default_factory=dict)
    invitee_count: dict[int, int] = field(default_factory=dict)
    rank: dict[int, int] = field(default_factory=dict)
    provisional: dict[int, list[int]] = field(default_factory=dict)
    changes: list[RelationChange] = field(default_factory=list)

    def boss_of(self, user: int) -> int | None:
        """Nearest BOSS on the team chain starting at ``team_parent(user)`` (None: platform)."""
        node = self.team_parent.get(user)
        while node is not None and node not in self.boss_seq:
            node = self.team_parent.get(node)
        return node

    def join(self, user: int, inviter: int | None, seq: int, config: ReferralConfig) -> None:
        """``user`` becomes a MEMBER at ``seq`` (R2): rank it and place it (R3)."""
        self.member_seq[user] = seq
        n, mode = config.slide_count, config.slide_mode
        reason, source, parent = "JOIN", None, None
        becomes_boss = False
        if inviter is not None:
            k = self.invitee_count.get(inviter, 0) + 1  # R3.1
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
                    self.provisional.setdefault(inviter, []).append(user)
        if config.breakaway_detach and user in self.boss_seq:
            parent = None
        self.team_parent[user] = parent
        self.changes.append(RelationChange(seq, user, source, parent, reason))
        if becomes_boss and inviter is not None:
            self._break_away(inviter, parent, seq, config)

    def _break_away(self, boss: int, target: int | None, seq: int, config: ReferralConfig) -> None:
        """R3.3: ``boss`` becomes a BOSS; provisional invitees slide; it may detach."""
        self.boss_seq[boss] = seq
        for waiting in self.provisional.pop(boss, []):
            if self.team_parent.get(waiting) == boss:
                self.team_parent[waiting] = target
                self.changes.append(RelationChange(seq, waiting, boss, target, "SLIDE"))
        if config.breakaway_detach:
            old = self.team_parent.get(boss)
            self.team_parent[boss] = None
            self.changes.append(RelationChange(seq, boss, old, None, "BREAKAWAY"))
