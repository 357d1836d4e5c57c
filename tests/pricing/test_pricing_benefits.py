"""Published benefits: golden example, nobody pays above list, blocked attributes refused."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ComplianceConfigError, DataValidationError
from chainmall.pricing import BenefitConfig, apply_benefits

CUSTOMERS = pd.DataFrame(
    {
        "user_id": ["a", "b"],
        "membership_tier": ["gold", None],
        "is_new_user": [False, True],
        "rfml_segment": ["churning", None],
    }
)


def test_golden_stacked_benefits() -> None:
    lines = pd.DataFrame(
        {
            "order_id": [1, 1, 2],
            "user_id": ["a", "a", "b"],
            "quantity": [3, 1, 1],
            "list_price_fen": [1000, 2000, 4000],
        }
    )
    out = apply_benefits(lines, CUSTOMERS)
    # a: gold 5% of 3000 = 150 and 5% quantity break = 150 on line 1; 5% of 2000 = 100 on line 2;
    # segment coupon 800 split 2700:1900 -> 469.56 / 330.43 -> 470 / 330 (largest remainder).
    assert out["tier_discount_fen"].tolist() == [150, 100, 0]
    assert out["quantity_discount_fen"].tolist() == [150, 0, 0]
    assert out["segment_coupon_fen"].tolist() == [470, 330, 0]
    # b: new user, order 4000 >= 3000 -> 500 coupon.
    assert out["new_user_coupon_fen"].tolist() == [0, 0, 500]
    assert out["pay_fen"].tolist() == [3000 - 770, 2000 - 430, 3500]


def test_best_single_keeps_largest() -> None:
    lines = pd.DataFrame(
        {"order_id": [1], "user_id": ["a"], "quantity": [1], "list_price_fen": [10000]}
    )
    out = apply_benefits(lines, CUSTOMERS, BenefitConfig(stacking="best_single"))
    assert out["discount_fen"].tolist() == [800]  # segment 800 beats gold 5% = 500
    assert out["tier_discount_fen"].tolist() == [0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.integers(0, 9), st.integers(0, 20000)),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["stack", "best_single"]),
)
def test_nobody_pays_above_list(rows: list[tuple[int, int, int]], stacking: str) -> None:
    lines = pd.DataFrame(
        {
            "order_id": [r[0] for r in rows],
            "user_id": ["a" if r[0] % 2 else "b" for r in rows],
            "quantity": [r[1] for r in rows],
            "list_price_fen": [r[2] for r in rows],
        }
    )
    out = apply_benefits(lines, CUSTOMERS, BenefitConfig(stacking=stacking))  # type: ignore[arg-type]
    assert (out["pay_fen"] >= 0).all()
    assert (out["pay_fen"] <= out["list_amount_fen"]).all()
    parts = out[
        ["tier_discount_fen", "quantity_discount_fen", "new_user_coupon_fen", "segment_coupon_fen"]
    ].sum(axis=1)
    assert (parts == out["discount_fen"]).all()


def test_refusals() -> None:
    lines = pd.DataFrame(
        {"order_id": [1], "user_id": ["z"], "quantity": [1], "list_price_fen": [100]}
    )
    with pytest.raises(DataValidationError, match="missing from customers"):
        apply_benefits(lines, CUSTOMERS)
    with pytest.raises(ComplianceConfigError, match="blocked"):
        apply_benefits(lines, CUSTOMERS.assign(device_type="ios"))
    with pytest.raises(DataValidationError, match="integers"):
        apply_benefits(lines.assign(list_price_fen=1.5, user_id="a"), CUSTOMERS)
