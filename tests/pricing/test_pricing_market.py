"""Synthetic market: true demand behaves as declared; the oracle is an upper bound."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainmall.pricing import (
    GuardRailConfig,
    SyntheticMarket,
    oracle_prices,
    realised_profit,
    simulate_market,
)

CFG = GuardRailConfig(emergency_cap=False)


def test_seeded_and_reproducible() -> None:
    a = simulate_market(n_stores=3, n_weeks=20, seed=5)
    b = simulate_market(n_stores=3, n_weeks=20, seed=5)
    pd.testing.assert_frame_equal(a.history, b.history)


def test_own_price_lowers_and_rival_price_raises_demand(market: SyntheticMarket) -> None:
    week = market.history[market.history.week == 10]
    base = market.expected_units(week)
    raised = np.rint(week["price_fen"] * 1.1).astype(np.int64)  # prices stay integer fen
    own_up = week.assign(price_fen=np.where(week["product"] == 0, raised, week["price_fen"]))
    moved = market.expected_units(own_up)
    p0 = (week["product"] == 0).to_numpy()
    ratio = moved[p0] / base[p0]
    step = (raised / week["price_fen"]).to_numpy()[p0]
    np.testing.assert_allclose(ratio, step ** market.own_elasticity[0])
    assert (moved[~p0] > base[~p0]).all()


def test_oracle_beats_current_prices(market: SyntheticMarket) -> None:
    rows = market.history[market.history.week >= 55]
    offers = rows.assign(current_price_fen=rows["price_fen"])
    best = oracle_prices(market, offers, CFG, sweeps=2)
    assert realised_profit(market, best) >= realised_profit(market, rows)
    assert (
        np.abs(best["price_fen"] - rows["price_fen"].to_numpy())
        <= 0.1 * rows["price_fen"].to_numpy() + 1
    ).all()
