"""Promotion mechanics: golden examples and money invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.campaign import (
    Campaign,
    EnergyPoints,
    GroupBuy,
    InviteCoupon,
    SpendLottery,
    draw_lottery,
    group_price,
    redeem_coupons,
    redeem_points,
)
from chainmall.exceptions import ConfigError


def test_group_buy_of_three_at_twenty_percent_by_hand() -> None:
    # three people buy a 100.00-yuan item at 20% off: 80.00 each, 240.00 in all
    each = group_price(np.array([10_000, 10_000, 10_000]), GroupBuy().discount)
    assert each.tolist() == [8000, 8000, 8000]
    assert int(each.sum()) == 24_000
    # 19.99 yuan at 20%: the discount 399.8 fen is rounded down to 399
    assert int(group_price(1999, 0.2)) == 1600


@settings(max_examples=200, deadline=None)
@given(
    amount=st.lists(st.integers(0, 10**7), min_size=1, max_size=20),
    wallet=st.integers(0, 10**7),
    min_spend=st.integers(0, 10**6),
)
def test_coupon_never_makes_a_price_negative(
    amount: list[int], wallet: int, min_spend: int
) -> None:
    a = np.array(amount, dtype=np.int64)
    w = np.full(len(a), wallet, dtype=np.int64)
    discount = redeem_coupons(a, w, min_spend)
    assert (discount >= 0).all() and (a - discount >= 0).all()
    assert (discount <= w).all()
    assert (discount[a < min_spend] == 0).all()


def test_coupon_golden() -> None:
    got = redeem_coupons(np.array([300, 5000, 2999]), np.array([500, 500, 500]), 3000)
    assert got.tolist() == [0, 500, 0]
    assert redeem_coupons(np.array([300]), np.array([500]), 0).tolist() == [300]


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(0, 10**7),
    points=st.integers(0, 10**6),
    rate=st.integers(1, 500),
    share=st.floats(0, 1),
)
def test_points_within_cap_and_balance(amount: int, points: int, rate: int, share: float) -> None:
    rule = EnergyPoints(fen_per_100_points=rate, max_redeem_share=share)
    discount, spent = redeem_points(np.array([amount]), np.array([points]), rule)
    assert 0 <= discount[0] <= amount * share + 1e-6
    assert 0 <= spent[0] <= points
    assert discount[0] <= spent[0] * rate // 100 + rate  # paid by the points spent


def test_points_golden() -> None:
    # 1,000 points at 1 yuan per 100 points = 10 yuan; order 50 yuan, cap 10% = 5 yuan
    discount, spent = redeem_points(np.array([5000]), np.array([1000]), EnergyPoints())
    assert (discount[0], spent[0]) == (500, 500)


def test_lottery_expected_cost_equals_budget() -> None:
    rule = SpendLottery(threshold_fen=9900, prize_fen=2000, weekly_budget_fen=200_000)
    amounts = np.r_[np.full(3000, 10_000), np.full(2000, 5000)].astype(np.int64)
    costs = []
    for week in range(400):
        wins, p = draw_lottery(amounts, rule, np.random.default_rng([5, week]))
        assert p == pytest.approx(200_000 / (3000 * 2000))
        assert not wins[amounts < 9900].any()
        costs.append(int(wins.sum()) * rule.prize_fen)
    assert np.mean(costs) == pytest.approx(200_000, rel=0.02)
    # too few entries for the budget: everyone wins, cost = entries x prize
    wins, p = draw_lottery(np.array([10_000, 10_000]), rule, np.random.default_rng(0))
    assert p == 1.0 and wins.all()


def test_campaign_loads_from_dict_and_finds_enabled_mechanics() -> None:
    c = Campaign.from_dict(
        {
            "name": "t",
            "mechanics": [
                {"kind": "invite_coupon", "inviter_fen": 300, "enabled": False},
                {"kind": "group_buy"},
            ],
        }
    )
    assert isinstance(c.active("group_buy"), GroupBuy)
    assert c.active("invite_coupon") is None
    assert isinstance(c.mechanics[0], InviteCoupon)
    with pytest.raises(ConfigError):
        Campaign.from_dict({"mechanics": [{"kind": "group_buy", "discount": 1.5}]})
    with pytest.raises(ConfigError):
        Campaign.from_dict({"mechanics": [{"kind": "flash_sale"}]})
