"""Basket pricing: coordinate ascent with cross effects, against brute force and the oracle."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.pricing import (
    GuardRailConfig,
    SyntheticMarket,
    optimize_prices,
    oracle_prices,
    realised_profit,
    simulate_market,
)
from chainmall.pricing.basket import basket_ascent

NO_CAP = GuardRailConfig(emergency_cap=False)


def _basket(own: list[float], cross: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    offers = pd.DataFrame(
        {
            "store_id": 1,
            "item_id": ["a", "b"],
            "current_price_fen": [200, 300],
            "unit_cost_fen": [100, 150],
            "baseline_units": [50.0, 30.0],
            "elasticity": own,
        }
    )
    pairs = pd.DataFrame({"product": ["a", "b"], "rival": ["b", "a"], "elasticity": cross})
    return offers, pairs


def _brute_force(offers: pd.DataFrame, cross: float) -> tuple[float, tuple[int, int]]:
    p0 = offers["current_price_fen"].to_numpy(dtype=float)
    cost = offers["unit_cost_fen"].to_numpy(dtype=float)
    q0 = offers["baseline_units"].to_numpy(dtype=float)
    eps = offers["elasticity"].to_numpy(dtype=float)
    ranges = [range(int(np.ceil(p * 0.9)), int(np.floor(p * 1.1)) + 1) for p in p0]
    best = (-np.inf, (0, 0))
    for pa, pb in itertools.product(*ranges):
        step = np.log(np.array([pa, pb]) / p0)
        q = q0 * np.exp(eps * step + cross * step[::-1])
        best = max(best, (float(((np.array([pa, pb]) - cost) * q).sum()), (pa, pb)))
    return best


@settings(max_examples=15, deadline=None)
@given(st.floats(-4.0, -1.2), st.floats(-4.0, -1.2), st.floats(0.0, 0.8))
def test_basket_optimum_matches_brute_force(e_a: float, e_b: float, cross: float) -> None:
    offers, pairs = _basket([e_a, e_b], cross)
    out = optimize_prices(offers, NO_CAP, cross_elasticity=pairs)
    prices = out.prices["price_fen"].to_numpy(dtype=float)
    best_value, _ = _brute_force(offers, cross)
    assert float(out.prices["expected_profit_fen"].sum()) == pytest.approx(best_value, abs=2.0)
    # expected units include the rival's move
    step = np.log(prices / offers["current_price_fen"].to_numpy())
    q = offers["baseline_units"].to_numpy() * np.exp(
        offers["elasticity"].to_numpy() * step + cross * step[::-1]
    )
    np.testing.assert_allclose(out.prices["expected_units"], q)


def test_no_cross_effects_equals_product_by_product() -> None:
    offers, pairs = _basket([-3.0, -1.5], 0.0)
    alone = optimize_prices(offers, NO_CAP)
    joint = optimize_prices(offers, NO_CAP, cross_elasticity=pairs)
    np.testing.assert_array_equal(alone.prices["price_fen"], joint.prices["price_fen"])
    pd.testing.assert_series_equal(
        alone.prices["binding_constraint"], joint.prices["binding_constraint"]
    )


def test_substitutes_raise_prices_and_basket_profit() -> None:
    offers, pairs = _basket([-3.0, -2.5], 0.6)
    alone = optimize_prices(offers, NO_CAP).prices["price_fen"].to_numpy()
    joint = optimize_prices(offers, NO_CAP, cross_elasticity=pairs)
    assert (joint.prices["price_fen"].to_numpy() >= alone).all()
    value_alone = _brute_force(offers.assign(current_price_fen=offers["current_price_fen"]), 0.6)
    assert joint.prices["expected_profit_fen"].sum() == pytest.approx(value_alone[0], abs=2.0)


def test_basket_ascent_never_lowers_the_objective() -> None:
    rng = np.random.default_rng(3)
    cells, products, width = 40, 3, 21
    price = rng.uniform(200, 400, (cells, products))
    grid = price.reshape(-1)[:, None] * np.linspace(0.9, 1.1, width)[None, :]
    cross = rng.uniform(0, 0.5, (products, products))
    np.fill_diagonal(cross, 0)
    own = rng.uniform(-3.5, -1.5, (cells, products))
    cost = price * 0.5
    log_q = rng.normal(3, 0.5, (cells, products))
    cell = np.repeat(np.arange(cells), products)
    product = np.tile(np.arange(products), cells)

    def value(p: np.ndarray) -> np.ndarray:
        step = np.log(p / price)
        mu = log_q + own * step + step @ cross.T
        return np.asarray(((p - cost) * np.exp(mu)).sum(axis=1))

    kw = dict(log_units=log_q, own=own, cross=cross, cost=cost, grid=grid, cell=cell)
    valid = np.ones_like(grid, dtype=bool)
    one = basket_ascent(price=price, valid=valid, product=product, sweeps=1, **kw)
    assert (value(one) >= value(price) - 1e-9).all()


def test_oracle_equals_brute_force_on_a_tiny_market() -> None:
    market: SyntheticMarket = simulate_market(n_stores=1, n_products=2, n_weeks=3, seed=4)
    rows = market.history[market.history.week == 2]
    offers = rows.assign(current_price_fen=rows["price_fen"])
    best = oracle_prices(market, offers, NO_CAP, sweeps=4)
    p0 = rows["price_fen"].to_numpy()
    ranges = [range(int(np.ceil(p * 0.9)), int(np.floor(p * 1.1)) + 1) for p in p0]
    brute = max(
        realised_profit(market, rows.assign(price_fen=list(pair)))
        for pair in itertools.product(*ranges)
    )
    assert realised_profit(market, best) == brute
