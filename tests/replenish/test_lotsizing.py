"""EOQ and cost-optimal (s, S): closed forms, stockpyl where it overlaps, and simulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from chainmall.exceptions import DataValidationError
from chainmall.replenish import (
    empirical_pmf,
    eoq,
    eoq_cost,
    optimal_ss_policy,
    protection_pmf,
    simulate_order_up_to,
    ss_policy_cost,
)


def _poisson(mean: float, hi: int) -> np.ndarray:
    pmf = stats.poisson(mean).pmf(np.arange(hi + 1))
    return np.asarray(pmf / pmf.sum())


def test_eoq_golden() -> None:
    # K = 8 per order, h = 0.225 per unit-year, 1,300 units a year
    quantity, cost = eoq(8.0, 0.225, 1300.0)
    assert quantity == pytest.approx(304.0467800, rel=1e-9)
    assert cost == pytest.approx(np.sqrt(2 * 8 * 1300 * 0.225))
    assert eoq_cost(2 * quantity, 8.0, 0.225, 1300.0) > cost  # any other lot costs more
    with pytest.raises(DataValidationError):
        eoq(0.0, 0.225, 1300.0)


def test_ss_policy_golden_poisson() -> None:
    # Poisson(6) demand, h = 1, p = 4, K = 5: optimum s = 4, S = 10, cost 8.0341
    policy = optimal_ss_policy(_poisson(6, 40), 1.0, 4.0, 5.0)
    assert (policy.reorder_point, policy.order_up_to) == (4, 10)
    assert policy.cost == pytest.approx(8.034111561, rel=1e-8)
    assert ss_policy_cost(4, 10, _poisson(6, 40), 1.0, 4.0, 5.0) == pytest.approx(policy.cost)
    with pytest.raises(DataValidationError):
        ss_policy_cost(10, 4, _poisson(6, 40), 1.0, 4.0, 5.0)


@pytest.mark.parametrize(
    ("mean", "holding", "stockout", "order"),
    [(6, 1, 4, 5), (6, 1, 9, 80), (3.5, 0.5, 10, 20), (15, 2, 20, 60), (1.2, 1, 3, 2)],
)
def test_ss_policy_matches_stockpyl(
    mean: float, holding: float, stockout: float, order: float
) -> None:
    ss = pytest.importorskip("stockpyl.ss")
    pmf = _poisson(mean, int(mean * 6 + 30))
    ours = optimal_ss_policy(pmf, holding, stockout, order)
    s, big_s, cost = ss.s_s_discrete_exact(holding, stockout, order, True, mean)
    assert (ours.reorder_point, ours.order_up_to) == (int(s), int(big_s))
    assert ours.cost == pytest.approx(float(cost), rel=1e-7)
    for s_try, big_try in ((int(s) - 1, int(big_s) + 3), (0, 2 * int(big_s) + 1)):
        expected = ss.s_s_cost_discrete(s_try, big_try, holding, stockout, order, True, mean)
        got = ss_policy_cost(s_try, big_try, pmf, holding, stockout, order)
        assert got == pytest.approx(float(expected), rel=1e-7)
        assert got >= ours.cost - 1e-9


def test_ss_policy_custom_pmf_matches_stockpyl() -> None:
    ss = pytest.importorskip("stockpyl.ss")
    pmf = np.array([0.05, 0.1, 0.3, 0.1, 0.05, 0.0, 0.2, 0.2])  # lumpy, bimodal demand
    ours = optimal_ss_policy(pmf, 1.0, 6.0, 12.0)
    padded = np.r_[pmf, np.zeros(60)]  # stockpyl indexes the pmf up to S - s
    s, big_s, cost = ss.s_s_discrete_exact(
        1.0, 6.0, 12.0, False, demand_hi=len(padded) - 1, demand_pmf=list(padded)
    )
    assert (ours.reorder_point, ours.order_up_to) == (int(s), int(big_s))
    assert ours.cost == pytest.approx(float(cost), rel=1e-7)


def test_eoq_matches_stockpyl() -> None:
    eoq_ref = pytest.importorskip("stockpyl.eoq")
    for k, h, rate in ((8.0, 0.225, 1300.0), (50.0, 2.0, 90.0), (1.0, 10.0, 5.0)):
        q_ref, cost_ref = eoq_ref.economic_order_quantity(k, h, rate)
        assert eoq(k, h, rate) == pytest.approx((q_ref, cost_ref), rel=1e-12)
        assert eoq_cost(2.0, k, h, rate) == pytest.approx(
            eoq_ref.economic_order_quantity(k, h, rate, order_quantity=2.0)[1]
        )


def _simulated_cost(
    pmf: np.ndarray, s: int, big_s: int, lead: np.ndarray, h: float, p: float, k: float
) -> float:
    """Mean cost per period of (s, S) with backorders, from the simulator (seeded demand)."""
    rng = np.random.default_rng(3)
    demand = rng.choice(len(pmf), p=pmf, size=lead.shape).astype(float)
    res = simulate_order_up_to(
        demand,
        np.full(demand.shape, float(big_s)),
        reorder_level=np.full(demand.shape, float(s)),
        lead_time=lead,
        lost_sales=False,
        initial_on_hand=np.full(len(demand), float(big_s)),
    )
    net = res.on_hand_end[:, 200:]  # after a burn-in
    orders = (res.orders[:, 200:] > 0).mean()
    return float(h * np.maximum(net, 0).mean() + p * np.maximum(-net, 0).mean() + k * orders)


def test_ss_cost_with_lead_times_matches_simulation() -> None:
    pmf = _poisson(4, 30)
    h, p, k = 1.0, 9.0, 40.0
    fixed = optimal_ss_policy(pmf, h, p, k, lead_time=2)
    lead = np.full((100, 1200), 2)
    simulated = _simulated_cost(pmf, fixed.reorder_point, fixed.order_up_to, lead, h, p, k)
    assert simulated == pytest.approx(fixed.cost, rel=0.02)
    # empirical lead times 1 or 3 periods; orders this far apart rarely cross
    random = optimal_ss_policy(pmf, h, p, k, lead_time={1: 0.5, 3: 0.5})
    draws = np.random.default_rng(4).choice([1, 3], size=(100, 1200))
    simulated = _simulated_cost(pmf, random.reorder_point, random.order_up_to, draws, h, p, k)
    assert simulated == pytest.approx(random.cost, rel=0.02)
    assert random.cost > fixed.cost  # lead-time uncertainty costs money


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6).filter(lambda w: sum(w) > 0),
    st.integers(0, 4),
)
def test_protection_pmf_is_a_distribution_with_the_right_mean(
    weights: list[float], periods: int
) -> None:
    pmf = np.asarray(weights) / sum(weights)
    cover = protection_pmf(pmf, {periods: 1.0, periods + 1: 1.0})
    assert cover.sum() == pytest.approx(1.0)
    mean = float(np.arange(pmf.size) @ pmf)
    assert float(np.arange(cover.size) @ cover) == pytest.approx(mean * (periods + 0.5))


def test_empirical_pmf_buckets_and_validation() -> None:
    pmf = empirical_pmf(np.array([-3.0, 0.4, 10.0, 19.0, 21.0]), unit=10.0)
    np.testing.assert_allclose(pmf, [0.4, 0.2, 0.4])
    with pytest.raises(DataValidationError):
        empirical_pmf(np.array([np.nan]))
    with pytest.raises(DataValidationError, match="all mass on zero"):
        optimal_ss_policy(np.array([1.0]), 1.0, 2.0, 3.0)
    with pytest.raises(DataValidationError, match="summing to 1"):
        optimal_ss_policy(np.array([0.5, 0.2]), 1.0, 2.0, 3.0)
