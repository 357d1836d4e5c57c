from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import DataValidationError
from chainmall.replenish import (
    cumulative_errors,
    newsvendor_quantity,
    reorder_points,
    safety_stock,
    simulate_order_up_to,
    simulate_service_feedback,
    suggest_orders,
)


def _cv() -> pd.DataFrame:
    rows = []
    for c, errs in enumerate([(1, 1), (2, 2), (-1, 0), (4, 0)]):
        cut = pd.Timestamp("2022-01-07") + pd.Timedelta(weeks=c)
        for k, e in enumerate(errs, start=1):
            rows.append(
                {
                    "unique_id": "a",
                    "ds": cut + pd.Timedelta(weeks=k),
                    "cutoff": cut,
                    "y": 10.0 + e,
                    "m": 10.0,
                }
            )
    return pd.DataFrame(rows)


def test_safety_stock_is_error_quantile_golden() -> None:
    errors = cumulative_errors(_cv(), "m", cover=2)
    assert errors["error"].tolist() == [2.0, 4.0, -1.0, 4.0]
    ss = safety_stock(errors, 0.5, conformal=False)
    assert ss["safety_stock"].iloc[0] == pytest.approx(3.0)  # interpolated median of -1,2,4,4
    pooled = safety_stock(errors, 0.5, pooled=True, conformal=False)
    assert pooled["safety_stock"].iloc[0] == pytest.approx(3.0)  # one series: same
    # conformal: the ceil((4 + 1) * 0.5) = 3rd smallest error
    assert safety_stock(errors, 0.5)["safety_stock"].iloc[0] == pytest.approx(4.0)
    assert safety_stock(errors, 0.2)["safety_stock"].iloc[0] == pytest.approx(0.0)  # -1 -> 0
    fc = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2022-03-04", periods=3, freq="W-FRI"),
            "m": [5.0, 6, 7],
        }
    )
    levels = reorder_points(fc, "m", ss, cover=2, order_quantity=20)  # 11 + 3
    assert levels["level"].iloc[0] == pytest.approx(14.0)
    assert levels["order_up_to"].iloc[0] == pytest.approx(34.0)
    with pytest.raises(DataValidationError):
        safety_stock(errors, 1.5)


def test_newsvendor_critical_ratio() -> None:
    errors = np.arange(-50, 51, dtype=float)
    assert newsvendor_quantity(np.array([100.0]), errors, 3.0, 1.0)[0] == pytest.approx(125.0)


def test_suggest_orders_golden() -> None:
    lines = pd.DataFrame(
        {
            "unique_id": ["a", "b", "c", "d"],
            "level": [95.0, 10.0, 50.0, 30.0],
            "inventory_position": [10.0, 20.0, 45.0, 0.0],
            "unit_cost_fen": [100, 100, 100, 100],
            "moq": [0, 0, 24, 0],
            "pack_size": [12, 1, 12, 10],
            "shelf_capacity": [1000, 1000, 1000, 25],
        }
    )
    out = suggest_orders(lines).set_index("unique_id")
    assert out.loc["a", "order_qty"] == 96  # need 85 -> 8 packs of 12
    assert out.loc["b", "order_qty"] == 0
    assert out.loc["c", "order_qty"] == 24  # need 5 -> MOQ 24
    assert out.loc["d", "order_qty"] == 20 and out.loc["d", "limited_by"] == "shelf capacity"
    budget = suggest_orders(lines, budget_fen=10_000).set_index("unique_id")
    assert budget["cost_fen"].sum() <= 10_000
    assert budget.loc["d", "order_qty"] == 20  # emptiest line funded first


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 500), st.floats(0, 300), st.integers(1, 24), st.integers(0, 50)),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 200_000),
)
def test_suggest_orders_invariants(rows: list[tuple[float, float, int, int]], budget: int) -> None:
    lines = pd.DataFrame(
        {
            "unique_id": [f"s{i}" for i in range(len(rows))],
            "level": [r[0] for r in rows],
            "inventory_position": [r[1] for r in rows],
            "pack_size": [r[2] for r in rows],
            "moq": [r[3] for r in rows],
            "unit_cost_fen": 150,
            "shelf_capacity": 400.0,
        }
    )
    out = suggest_orders(lines, budget_fen=budget)
    assert (out["order_qty"] % lines["pack_size"] == 0).all()
    assert ((out["order_qty"] == 0) | (out["order_qty"] >= lines["moq"])).all()
    assert (lines["inventory_position"] + out["order_qty"] <= 400 + 1e-9).all()
    assert out["cost_fen"].sum() <= budget


def test_simulator_golden_trajectory() -> None:
    demand = np.array([[5.0, 5, 20, 5]])
    s = np.full((1, 4), 12.0)
    res = simulate_order_up_to(demand, s, lead_time=1, ids=["a"])
    # t0: on hand 12, order 0, serve 5 -> 7; t1: IP 7 -> order 5 (arrives t2); serve 5 -> 2
    # t2: +5 = 7, IP 7 -> order 5; serve 7 of 20 -> 0; t3: +5 -> 5; IP 5 -> order 7; serve 5 -> 0
    assert res.on_hand_end[0].tolist() == [7, 2, 0, 0]
    assert res.orders[0].tolist() == [0, 5, 5, 7]
    k = res.kpis.iloc[0]
    assert k["fill_rate"] == pytest.approx(22 / 35)
    assert k["stockout_periods"] == 1
    assert k["cycle_service"] == pytest.approx(0.75)
    assert k["days_of_supply"] == pytest.approx(np.mean([7, 2, 0, 0]) / (35 / 4 / 7))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=3, max_size=30), st.floats(0, 300))
def test_simulator_invariants(demand: list[float], level: float) -> None:
    d = np.array([demand])
    res = simulate_order_up_to(d, np.full_like(d, level), lead_time=1)
    k = res.kpis.iloc[0]
    assert 0 <= k["fill_rate"] <= 1 + 1e-12
    assert (res.on_hand_end >= -1e-9).all()
    assert res.served.sum() <= d.sum() + 1e-9
    if level >= 2 * d.max() + 1e-9:
        assert k["fill_rate"] == pytest.approx(1.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=5, max_size=60), st.floats(0.5, 0.99))
def test_conformal_safety_stock_covers_its_own_errors(errs: list[float], level: float) -> None:
    frame = pd.DataFrame({"unique_id": "a", "forecast": 10.0, "error": errs})
    ss = float(safety_stock(frame, level)["safety_stock"].iloc[0])
    covered = np.mean(np.asarray(errs) <= ss)
    assert covered >= level * len(errs) / (len(errs) + 1) - 1e-12
    interpolated = float(safety_stock(frame, level, conformal=False)["safety_stock"].iloc[0])
    assert ss >= interpolated - 1e-9


def test_simulator_random_lead_times_and_crossing_orders() -> None:
    demand = np.array([[4.0, 4, 4, 4, 4]])
    lead = np.array([[3, 1, 1, 1, 1]])  # the first order arrives after the second
    res = simulate_order_up_to(demand, np.full((1, 5), 10.0), lead_time=lead, initial_on_hand=[6])
    # t0: IP 6 -> order 4 (due t3); serve 4 -> 2. t1: IP 2 + 4 -> order 4 (due t2); serve 2 of 4
    # t2: +4 -> 4, IP 4 + 4 -> order 2 (due t3); serve 4 -> 0. t3: +4 +2 -> 6, order 4; serve 4
    assert res.orders[0].tolist() == [4, 4, 2, 4, 4]
    assert res.on_hand_end[0].tolist() == [2, 0, 0, 2, 2]
    assert res.kpis["orders"].iloc[0] == 5
    with pytest.raises(DataValidationError, match="lead_time must hold integers"):
        simulate_order_up_to(demand, np.full((1, 5), 10.0), lead_time=np.ones((1, 5)))


def test_simulator_reorder_level_gives_an_s_S_policy() -> None:
    demand = np.full((1, 6), 3.0)
    res = simulate_order_up_to(
        demand,
        np.full((1, 6), 12.0),
        reorder_level=np.full((1, 6), 5.0),
        lead_time=0,
        initial_on_hand=[12],
    )
    # IP 12, 9, 6 (no order: above s = 5), 3 -> order 9 up to 12, then 9, 6
    assert res.orders[0].tolist() == [0, 0, 0, 9, 0, 0]
    assert res.summary()["orders"] == 1.0


def test_service_feedback_without_adaptation_is_the_fixed_policy() -> None:
    rng = np.random.default_rng(0)
    demand = rng.gamma(4.0, 5.0, size=(30, 40))
    expected = np.full(demand.shape, 40.0)

    def safety(t: int, level: float) -> np.ndarray:
        return np.full(30, 30.0 * level)

    fed, levels = simulate_service_feedback(demand, expected, safety, 0.9, adapt_rate=0.0)
    fixed = simulate_order_up_to(demand, expected + 27.0)
    pd.testing.assert_frame_equal(fed.kpis, fixed.kpis)
    assert (levels == 0.9).all()
    over, high = simulate_service_feedback(demand, expected, safety, 0.6, adapt_rate=2.0, warmup=10)
    assert high[-1] < 0.6 - 0.05  # over-protected at 0.6: the level is lowered
    assert len(over.kpis) == 30 and over.served.shape == (30, 30)
    with pytest.raises(DataValidationError):
        simulate_service_feedback(demand, expected, safety, 1.2)
