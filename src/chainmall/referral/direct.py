"""Who earns the direct commission (R4.2, ``direct_beneficiary``), in both paths.

``INVITER`` (default): the buyer's inviter. ``TEAM_PARENT``: the buyer's team
parent at the order's ``seq`` (after a slide, the boss the buyer slid to; after
the buyer's own breakaway with ``breakaway_detach``, none). The rules around it
keep the legal limits:

- the rate tier is the buyer's rank within its **inviter** (R3.1: fixed at
  membership, the only rank the spec defines); a rank within the team parent
  would change with every slide and count team headcount (C3);
- the team parent must be a MEMBER before the order (no back-pay) and not
  banned (else ``FORFEITED``);
- it must be within ``max_depth_genealogical`` inviter steps of the buyer (team
  parents are always inviter ancestors); farther: a 0-fen ``BLOCKED_DEPTH``
  direct entry with its ``gen_dist``, never compressed to a nearer ancestor (C1);
- level 2 (``boss_of(buyer)``) is skipped when it is that team parent. With
  ``FIRST_N`` every team parent is a BOSS, so only one level is ever paid.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainmall.referral.config import DirectBeneficiary, ReferralConfig, SlideMode
from chainmall.referral.tree import TeamTree, parent_lookup

__all__ = ["direct_beneficiaries", "direct_beneficiary", "uses_team_parent"]


def uses_team_parent(config: ReferralConfig) -> bool:
    """True when the direct commission goes to the team parent."""
    return config.direct_beneficiary is DirectBeneficiary.TEAM_PARENT


def direct_beneficiary(tree: TeamTree, user: int, config: ReferralConfig) -> int | None:
    """Fold: the direct beneficiary of ``user``'s order now (None: nobody)."""
    if uses_team_parent(config):
        return tree.team_parent.get(user)
    return tree.inviter.get(user)


def direct_beneficiaries(
    inviter: np.ndarray,
    team: dict[str, Any],
    buyer: np.ndarray,
    seq: np.ndarray,
    config: ReferralConfig,
) -> np.ndarray:
    """Batch: dense index of each line's direct beneficiary (-1: nobody).

    ``team`` is :func:`~chainmall.referral.tree.place_members`'s result; the team
    parent is taken as of the line's ``seq``.
    """
    if not len(buyer):
        return np.zeros(0, dtype=np.int64)
    if not uses_team_parent(config):
        found: np.ndarray = inviter[buyer]
        return found
    if config.slide_mode is SlideMode.FIRST_N:
        # a FIRST_N member keeps its team parent until it breaks away itself
        detached = config.breakaway_detach & (team["boss_seq"][buyer] <= seq)
        return np.where(detached, -1, team["team_parent"][buyer])
    if not len(team["log_user"]):
        return np.full(len(buyer), -1, dtype=np.int64)
    parent_at = parent_lookup(team["log_user"], team["log_seq"], team["log_to"])
    return parent_at(buyer, seq)
