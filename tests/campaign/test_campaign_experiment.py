"""Experiment statistics against statsmodels/scipy and worked examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from chainmall.campaign import (
    compare_arms,
    cuped,
    diff_in_means,
    diff_in_proportions,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from chainmall.exceptions import ConfigError, DataValidationError


def test_diff_in_means_matches_statsmodels_and_scipy() -> None:
    rng = np.random.default_rng(3)
    t, c = rng.normal(10.5, 3, 80), rng.normal(10, 2, 120)
    d = diff_in_means(t, c)
    cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    low, high = cm.tconfint_diff(alpha=0.05, usevar="unequal")
    assert d.ci_low == pytest.approx(low, rel=1e-10)
    assert d.ci_high == pytest.approx(high, rel=1e-10)
    assert d.p_value == pytest.approx(stats.ttest_ind(t, c, equal_var=False).pvalue, rel=1e-10)


def test_diff_in_means_hand_worked() -> None:
    # t = [1, 2, 3]: mean 2, var 1; c = [0, 0, 0, 0]: mean 0, var 0 -> se = sqrt(1/3), df = 2
    d = diff_in_means([1, 2, 3], [0, 0, 0, 0])
    assert d.estimate == 2
    assert d.se == pytest.approx(math.sqrt(1 / 3))
    assert d.ci_high - d.estimate == pytest.approx(4.302652729911275 * math.sqrt(1 / 3))
    assert math.isnan(d.relative)  # control mean 0


def test_diff_in_proportions_matches_statsmodels() -> None:
    d = diff_in_proportions(130, 1000, 100, 1000)
    low, high = confint_proportions_2indep(130, 1000, 100, 1000, method="wald", compare="diff")
    assert (d.ci_low, d.ci_high) == pytest.approx((low, high), rel=1e-10)
    _, p = proportions_ztest([130, 100], [1000, 1000])
    assert d.p_value == pytest.approx(p, rel=1e-10)
    assert d.estimate == pytest.approx(0.03)
    assert d.relative == pytest.approx(0.3)


def test_bad_inputs_fail_clearly() -> None:
    with pytest.raises(DataValidationError, match="missing, infinite"):
        diff_in_means([1.0, np.nan, 2.0], [1.0, 2.0])
    with pytest.raises(DataValidationError, match="at least 2"):
        diff_in_means([1.0], [1.0, 2.0])
    with pytest.raises(DataValidationError, match="successes"):
        diff_in_proportions(5, 4, 1, 10)
    with pytest.raises(ConfigError, match="confidence"):
        diff_in_means([1, 2], [1, 2], confidence=1.5)
    with pytest.raises(DataValidationError, match="lengths differ"):
        cuped([1, 2, 3], [1, 2], [1, 2], [1, 2])
    frame = pd.DataFrame({"arm": ["a", "a"], "y": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match="lacks arm"):
        compare_arms(frame, "y")


@settings(max_examples=30, deadline=None)
@given(rho=st.floats(0.3, 0.95), seed=st.integers(0, 10_000))
def test_cuped_reduces_variance_on_correlated_pre_period(rho: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    x = rng.normal(size=2 * n)
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=2 * n) + 0.1 * (np.arange(2 * n) < n)
    plain = diff_in_means(y[:n], y[n:])
    adjusted = cuped(y[:n], x[:n], y[n:], x[n:])
    assert adjusted.se < plain.se
    assert adjusted.variance_reduction == pytest.approx(rho**2, abs=0.12)


def test_cuped_is_unbiased_in_simulation() -> None:
    rng = np.random.default_rng(7)
    effect, reps, n = 0.2, 400, 200
    estimates, covered = [], 0
    for _ in range(reps):
        x = rng.gamma(2.0, 1.0, 2 * n)
        y = 0.8 * x + rng.normal(size=2 * n)
        y[:n] += effect
        d = cuped(y[:n], x[:n], y[n:], x[n:])
        estimates.append(d.estimate)
        covered += d.ci_low <= effect <= d.ci_high
    se_mean = np.std(estimates) / math.sqrt(reps)
    assert abs(np.mean(estimates) - effect) < 3 * se_mean
    assert 0.91 <= covered / reps <= 0.99


def test_compare_arms_uses_cuped_with_a_covariate() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=300)
    frame = pd.DataFrame(
        {"arm": np.repeat(["treatment", "control"], 150), "x": x, "y": x + rng.normal(size=300)}
    )
    assert compare_arms(frame, "y").method == "welch"
    assert compare_arms(frame, "y", covariate="x").method == "cuped-welch"


def test_power_round_trips_for_means() -> None:
    n = sample_size_means(2.0, 10.0, power=0.8)
    assert power_means(2.0, 10.0, n) == pytest.approx(0.8, abs=1e-6)
    assert sample_size_means(2.0, 10.0, power=power_means(2.0, 10.0, 250)) == pytest.approx(
        250, rel=1e-4
    )
    # textbook: d = 0.2, alpha 0.05, power 0.8 -> about 393.4 per arm
    assert n == pytest.approx(393.4, abs=0.5)


def test_power_round_trips_for_proportions() -> None:
    n = sample_size_proportions(0.12, 0.10, power=0.9, ratio=2.0)
    assert power_proportions(0.12, 0.10, n, ratio=2.0) == pytest.approx(0.9, abs=1e-6)
    with pytest.raises(ConfigError, match="no effect"):
        sample_size_proportions(0.1, 0.1)
