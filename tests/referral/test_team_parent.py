"""direct_beneficiary=TEAM_PARENT, worked by hand on the spec §4.5 tree, both paths."""

from __future__ import annotations

import pandas as pd

from chainmall.referral import (
    DirectBeneficiary,
    ReferralConfig,
    Settlement,
    SlideMode,
    UserBanned,
    events_to_frame,
    fold,
    settle,
)
from tests.referral.test_golden import Shop, spec_tree

TEAM_PARENT = ReferralConfig(direct_beneficiary=DirectBeneficiary.TEAM_PARENT)


def settled(shop: Shop, config: ReferralConfig = TEAM_PARENT) -> Settlement:
    frame = events_to_frame(shop.events)
    slow, fast = fold(frame, config), settle(frame, config)
    pd.testing.assert_frame_equal(slow.entries, fast.entries)
    assert slow.merkle_root() == fast.merkle_root()
    return fast


def rewards(result: Settlement, shop: Shop) -> list[tuple[str, str, str, int, int]]:
    """(kind, beneficiary, reward type, gen_dist or 0, amount) of the reward entries."""
    names = {v: k for k, v in shop.ids.items()}
    e = result.entries
    e = e[e["kind"].isin(["COMMISSION", "BLOCKED_DEPTH", "FORFEITED"])]
    return [
        (str(k), names[int(u)], str(t), 0 if pd.isna(d) else int(d), int(a))
        for k, u, t, d, a in zip(
            e["kind"], e["user_id"], e["reward_type"], e["gen_dist"], e["amount_fen"], strict=True
        )
    ]


def test_first_n_pays_the_team_parent_one_level() -> None:
    """B slid to A (2 inviter steps): A earns B's direct at B's rank within X (1: 2000 bp);
    boss_of(B) = A is the direct beneficiary, so no level 2. D stays with X: X earns."""
    shop = spec_tree()
    shop.join("B", "C", "D")
    shop.pay("B", 10_000)
    shop.pay("D", 10_000)
    assert rewards(settled(shop), shop) == [
        ("COMMISSION", "A", "DIRECT", 2, 2_000),
        ("COMMISSION", "X", "DIRECT", 1, 2_000),
    ]


def test_team_parent_beyond_the_depth_limit_is_blocked() -> None:
    """B recruits B1, B2 (they slide to A, 3 inviter steps up): BLOCKED_DEPTH, nobody earns,
    nothing is compressed to B or X. B3 (rank 3) stays with B, now a BOSS: B earns."""
    shop = spec_tree()
    shop.join("B", "C", "D")
    for name in ("B1", "B2", "B3"):
        shop.user(name, "B")
    shop.join("B1", "B2", "B3")
    shop.pay("B1", 10_000)
    shop.pay("B3", 10_000)
    result = settled(shop)
    blocked_join = ("BLOCKED_DEPTH", "A", "DIRECT", 3, 0)  # also logged for 1-fen join orders
    assert rewards(result, shop) == [
        blocked_join,  # B1 joins
        blocked_join,  # B2 joins
        ("BLOCKED_DEPTH", "A", "DIRECT", 3, 0),  # B1 pays 10,000
        ("COMMISSION", "B", "DIRECT", 1, 2_000),  # B3 pays 10,000
    ]
    blocked = result.entries[result.entries["kind"] == "BLOCKED_DEPTH"].iloc[-1]
    assert (blocked["rate_bp"], blocked["rank"], blocked["gross_fen"]) == (2_000, 1, 0)
    strict = TEAM_PARENT.replace(max_depth_genealogical=1)
    shop = spec_tree()
    shop.join("B", "C", "D")
    shop.pay("B", 10_000)  # A is 2 steps up: blocked when the limit is 1
    found = rewards(settled(shop, strict), shop)  # B's and C's 1-fen joins are blocked too
    assert found == [("BLOCKED_DEPTH", "A", "DIRECT", 2, 0)] * 3


def test_only_nth_pays_two_levels_when_the_team_parent_is_no_boss() -> None:
    """ONLY_NTH: B (rank 1) stays under X, not yet a BOSS: X earns the direct, A (boss_of(B),
    2 steps) the team share. C (rank 2) slides to A, X breaks away: A earns C's direct only.
    B's next order: X is a BOSS now and boss_of(B) = X: the direct only."""
    config = TEAM_PARENT.replace(slide_mode=SlideMode.ONLY_NTH)
    shop = spec_tree()
    shop.join("B")
    shop.pay("B", 10_000)
    shop.join("C")
    shop.pay("C", 10_000)
    shop.pay("B", 10_000)
    assert rewards(settled(shop, config), shop) == [
        ("COMMISSION", "X", "DIRECT", 1, 2_000),
        ("COMMISSION", "A", "TEAM", 2, 500),
        ("COMMISSION", "A", "DIRECT", 2, 2_000),
        ("COMMISSION", "X", "DIRECT", 1, 2_000),
    ]


def test_banned_team_parent_forfeits() -> None:
    """A banned team parent's commission is forfeited, never passed to the inviter X."""
    shop = spec_tree()
    shop.join("B", "C", "D")
    shop.events.append(UserBanned(shop._next(), shop.now, shop.ids["A"]))
    shop.pay("B", 10_000)
    assert rewards(settled(shop), shop) == [("FORFEITED", "A", "DIRECT", 2, 0)]
