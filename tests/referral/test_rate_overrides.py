"""Per-product, per-category and per-order-type commission rates (issue 22).

Golden numbers are worked by hand. In each golden stream member 1 invites 2 and
buys (a member from then on); 2 buys, and 1 earns the direct commission on 2's
lines (rank 1: 20% by default; 1 has no boss, so there is no team reward).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ConfigError
from chainmall.referral import (
    Bound,
    Engagement,
    OrderLine,
    OrderPaid,
    RateOverride,
    RateTier,
    ReferralConfig,
    ReferralStore,
    Registered,
    events_from_frame,
    events_to_frame,
    fold,
    settle,
)
from chainmall.referral.policy import Badge, IncentiveConfig
from tests.referral.equality import assert_same, check_fold_equals_batch
from tests.referral.referral_streams import OVERRIDE_SETS, configs, streams, versions_of

T0 = datetime(2025, 3, 3, tzinfo=UTC)
DAY = timedelta(days=1)
GIFT = RateOverride(category="GIFT_CARD", direct_rate_bp=0, team_rate_bp=0)
SECKILL = RateOverride(order_type="SECKILL", direct_rate_bp=0, team_rate_bp=0)


def shop(*lines: OrderLine, order_type: str | None = None) -> list[Any]:
    """1 invites 2; 1 buys (a member); 2 buys ``lines``."""
    return [
        Registered(1, T0, 1),
        Registered(2, T0, 2),
        Bound(3, T0, 2, 1),
        OrderPaid(4, T0, 90, 1, (OrderLine(900, 100),)),
        OrderPaid(5, T0, 91, 2, lines, order_type),
    ]


def run(events: list[Any], config: ReferralConfig) -> Any:
    """Fold and batch agree (same Merkle root); the fold's settlement."""
    slow = fold(events, config)
    fast = settle(events_to_frame(events), config)
    assert_same(slow, fast)
    assert slow.merkle_root() == fast.merkle_root()
    return slow


def rewards(result: Any) -> list[tuple[int, str, str, int, int]]:
    """(line, reward type, kind, rate bp, amount fen) of the reward entries."""
    e = result.entries
    e = e[e["reward_type"].notna()]
    return [
        (int(r.line_id), str(r.reward_type), str(r.kind), int(r.rate_bp), int(r.amount_fen))
        for r in e.itertuples()
    ]


def test_a_zero_rate_gift_card_line_pays_nothing_and_the_order_stands() -> None:
    config = ReferralConfig(rate_overrides=(GIFT,))
    lines = (OrderLine(1, 10_000, category="GIFT_CARD"), OrderLine(2, 10_000, category="FOOD"))
    result = run(shop(*lines), config)
    assert result.rejected.empty
    assert rewards(result) == [(2, "DIRECT", "COMMISSION", 2000, 2000)]


def test_a_zero_rate_order_type_excludes_every_line() -> None:
    config = ReferralConfig(rate_overrides=(SECKILL,))
    result = run(shop(OrderLine(1, 10_000), OrderLine(2, 5_000), order_type="SECKILL"), config)
    assert result.rejected.empty
    assert rewards(result) == []
    normal = run(shop(OrderLine(1, 10_000), order_type="NORMAL"), config)
    assert rewards(normal) == [(1, "DIRECT", "COMMISSION", 2000, 2000)]


def test_a_product_override_beats_its_category_and_the_order_type() -> None:
    config = ReferralConfig(
        rate_overrides=(
            RateOverride(product_id=7, direct_rate_bp=500, team_rate_bp=0),
            GIFT,
            RateOverride(order_type="PROMO", direct_rate_bp=100, team_rate_bp=0),
        )
    )
    lines = (
        OrderLine(1, 10_000, product_id=7, category="GIFT_CARD"),  # product: 5%
        OrderLine(2, 10_000, product_id=8, category="GIFT_CARD"),  # category: 0%
        OrderLine(3, 10_000, product_id=8, category="FOOD"),  # order type: 1%
    )
    result = run(shop(*lines, order_type="PROMO"), config)
    assert rewards(result) == [
        (1, "DIRECT", "COMMISSION", 500, 500),
        (3, "DIRECT", "COMMISSION", 100, 100),
    ]


def test_text_product_ids_match_text_rules() -> None:
    config = ReferralConfig(
        rate_overrides=(RateOverride(product_id="sku-1", direct_rate_bp=700, team_rate_bp=0),)
    )
    result = run(shop(OrderLine(1, 10_000, product_id="sku-1")), config)
    assert rewards(result) == [(1, "DIRECT", "COMMISSION", 700, 700)]


def test_an_uplifted_override_is_cut_by_the_ratio_cap_never_above_it() -> None:
    """Product 7 pays 30% direct, the whole 30% cap. Member 1 shares on 6 days: 300
    points, GOLD (+300 bp), so the direct gross is floor(3,000 × 10,300 / 10⁴) = 3,090
    fen; the cap cuts it to 3,000 (ratio_cut 90). A line without the override pays
    the tier (5%, uplifted 515) uncut."""
    gold = (Badge(name="GOLD", min_points=130, uplift_bp=300),)
    config = ReferralConfig(
        direct_rate_tiers=(RateTier(min_rank=1, rate_bp=500),),
        rate_overrides=(RateOverride(product_id=7, direct_rate_bp=3000, team_rate_bp=0),),
        badge_uplift_enabled=True,
        incentives=IncentiveConfig(badges=gold),
    )
    events = shop(OrderLine(1, 10_000, product_id=7), OrderLine(2, 10_000, product_id=8))
    paid = events.pop()
    events += [Engagement(5 + i, T0 + i * DAY, 1, "SHARE", "APP") for i in range(6)]
    events.append(replace(paid, seq=11, ts=T0 + 9 * DAY))
    result = run(events, config)
    e = result.entries[result.entries["kind"] == "COMMISSION"].set_index("line_id")
    assert e.loc[1, ["rate_bp", "uplift_bp", "gross_fen", "ratio_cut_fen"]].tolist() == [
        3000,
        300,
        3090,
        90,
    ]
    assert e.loc[1, "amount_fen"] == 3000 == config.max_payout_ratio_bp * 10_000 // 10_000
    assert e.loc[2, ["rate_bp", "amount_fen", "ratio_cut_fen"]].tolist() == [500, 515, 0]
    with pytest.raises(ConfigError, match="above max_payout_ratio_bp"):
        config.replace(max_payout_ratio_bp=2000)


def test_overrides_are_validated() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        RateOverride(product_id=7, category="X", direct_rate_bp=0, team_rate_bp=0)
    with pytest.raises(ConfigError, match="exactly one"):
        RateOverride(direct_rate_bp=0, team_rate_bp=0)
    with pytest.raises(ConfigError, match="given twice"):
        ReferralConfig(rate_overrides=(GIFT, GIFT.replace(direct_rate_bp=100)))
    with pytest.raises(ConfigError, match="above max_payout_ratio_bp"):
        ReferralConfig(rate_overrides=(GIFT.replace(direct_rate_bp=2600, team_rate_bp=500),))


def test_the_line_fields_round_trip_through_the_frame() -> None:
    events = shop(OrderLine(1, 10_000, product_id=7, category="FOOD"), order_type="SECKILL")
    assert events_from_frame(events_to_frame(events)) == events


def test_a_frame_without_the_new_columns_settles_as_before() -> None:
    events = shop(OrderLine(1, 10_000))
    frame = events_to_frame(events)
    old = frame.drop(columns=["product_id", "category", "order_type"])
    config = ReferralConfig(rate_overrides=(GIFT, SECKILL))
    assert settle(old, config).merkle_root() == settle(frame, ReferralConfig()).merkle_root()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(streams(), configs(), st.sampled_from(OVERRIDE_SETS[1:]), st.data())
def test_fold_equals_batch_with_overrides(
    events: list[Any], config: ReferralConfig, rules: Any, data: Any
) -> None:
    """fold = batch (every threshold, plain / sparse / text ids) with overrides always on,
    in the initial config and, drawn, in versions "2" and "3"."""
    config = config.replace(rate_overrides=rules)
    versions = data.draw(st.none() | versions_of(config))
    result = check_fold_equals_batch(events, config, versions)
    e = result.entries  # INV-2: no line pays above its version's payout ratio
    paid = e[e["kind"].astype(str).eq("COMMISSION")]
    ratio_of = {label: c.max_payout_ratio_bp for label, c in result.versions.items()}
    ratio = paid["config_version"].astype(str).map(ratio_of).to_numpy(dtype="int64")
    cap = paid.assign(cap=paid["base_fen"].to_numpy(dtype="int64") * ratio // 10_000)
    per_line = cap.groupby("line_id").agg(total=("amount_fen", "sum"), cap=("cap", "first"))
    assert (per_line["total"] <= per_line["cap"]).all()


FOOD = RateOverride(category="FOOD", direct_rate_bp=1000, team_rate_bp=0)


def test_the_applied_override_is_on_the_entry_and_in_its_record_only_then(
    tmp_path: Any,
) -> None:
    config = ReferralConfig(rate_overrides=(FOOD, GIFT))
    lines = (OrderLine(1, 10_000, category="FOOD"), OrderLine(2, 10_000, category="TOYS"))
    result = run(shop(*lines), config)
    e = result.entries
    applied = e["rate_override"].astype(object).where(e["rate_override"].notna(), None)
    assert list(zip(e["line_id"], e["rate_bp"], applied, strict=True)) == [
        (1, 1000, "category=FOOD"),  # 10% by the FOOD rule
        (2, 2000, None),  # the rank-1 tier: no rule applied
    ]
    records = result.records()
    assert records[0]["rate_override"] == "category=FOOD"
    assert "rate_override" not in records[1]  # left out where empty: older roots unchanged
    store = ReferralStore.open(f"sqlite:///{tmp_path / 'r.db'}", config)
    try:
        store.ingest([(f"e{i}", event) for i, event in enumerate(shop(*lines))])
        mine = store.member_entries(1)
        stored = mine["rate_override"].astype(object)  # missing: None, or NaN on pandas 3
        assert stored.where(stored.notna(), None).tolist()[:2] == ["category=FOOD", None]
        assert store.head().root == result.merkle_root().hex()
        proof = store.proof(str(mine["entry_id"].iloc[0]))
        assert proof.verify() and proof.record["rate_override"] == "category=FOOD"
        assert store.audit().clean
    finally:
        store.close()


def test_an_entry_without_an_override_hashes_as_before() -> None:
    lines = (OrderLine(1, 10_000, category="TOYS"),)
    with_rules = run(shop(*lines), ReferralConfig(rate_overrides=(FOOD,)))
    without = run(shop(*lines), ReferralConfig())
    assert with_rules.merkle_root() == without.merkle_root()
