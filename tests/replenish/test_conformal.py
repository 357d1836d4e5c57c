"""Conformal safety stock: quantile, error paths, rolling use of realised errors, lead times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import DataValidationError
from chainmall.replenish import (
    ConformalSafetyStock,
    ErrorPaths,
    conformal_quantile,
    error_paths,
    mixture_quantile,
    rolling_safety_stock,
)

SCORES = st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=40)


def test_conformal_quantile_golden() -> None:
    scores = np.arange(9.0, 0.0, -1.0)  # 9..1, unsorted on purpose
    assert conformal_quantile(scores, 0.5) == pytest.approx(5.0)  # rank 0.5 * 10 = 5
    assert conformal_quantile(scores, 0.55) == pytest.approx(5.5)  # between ranks 5 and 6
    assert conformal_quantile(scores, 0.95) == pytest.approx(9.0)  # rank 9.5: the maximum
    assert conformal_quantile(scores, 0.05) == pytest.approx(1.0)  # rank 0.5: the minimum
    rows = np.vstack([scores, 10 * scores])
    np.testing.assert_allclose(conformal_quantile(rows, 0.55, axis=1), [5.5, 55.0])
    with pytest.raises(DataValidationError):
        conformal_quantile(scores, 1.0)


@settings(max_examples=60, deadline=None)
@given(SCORES, st.floats(0.01, 0.99), st.floats(0.01, 0.99))
def test_conformal_quantile_is_monotone_and_inside_the_data(
    scores: list[float], a: float, b: float
) -> None:
    lo, hi = sorted((a, b))
    q_lo, q_hi = conformal_quantile(np.array(scores), lo), conformal_quantile(np.array(scores), hi)
    assert min(scores) - 1e-9 <= q_lo <= q_hi + 1e-9 <= max(scores) + 2e-9


def test_conformal_quantile_covers_a_new_score_at_the_level() -> None:
    """Exchangeable scores: a new one falls below the quantile of 26 about ``level`` of the time."""
    rng = np.random.default_rng(0)
    draws = rng.standard_normal((40_000, 27))
    for level in (0.8, 0.9, 0.95):
        q = conformal_quantile(draws[:, :26], level, axis=1)
        assert np.mean(draws[:, 26] <= q) == pytest.approx(level, abs=0.006)


@settings(max_examples=60, deadline=None)
@given(SCORES, st.floats(0.01, 0.99))
def test_mixture_with_equal_weights_is_the_conformal_quantile(
    scores: list[float], level: float
) -> None:
    values = np.array([scores])
    weights = np.full(len(scores), 1.0 / len(scores))
    mixed = mixture_quantile(values, weights, level, n_scores=len(scores))
    assert mixed[0] == pytest.approx(float(conformal_quantile(values[0], level)), abs=1e-6)


def _cv(errors: dict[str, list[tuple[float, float]]]) -> pd.DataFrame:
    """Backtest rows with forecast 10 and demand 10 + error, horizons 1..2, weekly origins."""
    rows = []
    for uid, per_origin in errors.items():
        for c, errs in enumerate(per_origin):
            cutoff = pd.Timestamp("2024-01-05") + pd.Timedelta(weeks=c)
            for k, e in enumerate(errs, start=1):
                rows.append(
                    {
                        "unique_id": uid,
                        "ds": cutoff + pd.Timedelta(weeks=k),
                        "cutoff": cutoff,
                        "y": 10.0 + e,
                        "m": 10.0,
                    }
                )
    return pd.DataFrame(rows)


def test_error_paths_shape_and_clipping() -> None:
    paths = error_paths(_cv({"b": [(1, 2), (-20, 0)], "a": [(0, 0), (3, 4)]}), "m")
    assert paths.ids == ["a", "b"] and paths.horizon == 2 and len(paths.cutoffs) == 2
    assert paths.demand[1, 1].tolist() == [0.0, 10.0]  # 10 - 20 clipped at 0
    fc, dem = paths.totals(2)
    assert fc[0].tolist() == [20.0, 20.0] and dem[0].tolist() == [20.0, 27.0]
    with pytest.raises(DataValidationError, match="h=2"):
        paths.totals(3)
    holes = _cv({"a": [(0, 0), (1, 1)], "b": [(0, 0), (1, 1)]}).iloc[:-1]
    with pytest.raises(DataValidationError, match=r"e\.g\. \['b'\]"):
        error_paths(holes, "m")


def test_rolling_safety_stock_uses_only_realised_errors() -> None:
    # cumulative 2-week errors 1, 2, ..., 8, then a huge one at origin 8
    errs = [(float(i), 0.0) for i in range(1, 9)] + [(1000.0, 0.0), (0.0, 0.0), (0.0, 0.0)]
    paths = error_paths(_cv({"a": errs}), "m")
    expected, ss = rolling_safety_stock(paths, 0.5, window=4, min_scores=4)
    assert np.isnan(ss[0, :5]).all()  # origins 0..3 realised only from origin 5 on
    # at origin 5 the realised origins are 0..3 (errors 1..4): rank 2.5 -> 2.5
    assert ss[0, 5] == pytest.approx(2.5)
    # at origin 10 the window holds origins 5..8 (errors 6, 7, 8, 1000): rank 2.5 -> 7.5
    assert ss[0, 10] == pytest.approx(7.5)
    # origin 9 must not see origin 8's error yet (known only 2 weeks later)
    assert ss[0, 9] == pytest.approx(6.5)
    assert expected[0, 0] == pytest.approx(20.0)


def test_degenerate_lead_time_distribution_equals_a_fixed_lead_time() -> None:
    rng = np.random.default_rng(1)
    shape = (3, 30, 3)
    paths = ErrorPaths(
        ["a", "b", "c"],
        pd.date_range("2024-01-05", periods=30, freq="W-FRI"),
        np.full(shape, 10.0),
        10.0 + rng.normal(0, 2, shape),
    )
    fixed = ConformalSafetyStock(paths, lead_time=1, window=12)
    mixed = ConformalSafetyStock(paths, lead_time={1: 5}, window=12)
    longer = ConformalSafetyStock(paths, lead_time=2, window=12)
    both = ConformalSafetyStock(paths, lead_time={1: 0.5, 2: 0.5}, window=12)
    for t in (20, 29):
        np.testing.assert_allclose(fixed.at(t, 0.9), mixed.at(t, 0.9))
        level_1 = fixed.expected[:, t] + fixed.at(t, 0.9)
        level_2 = longer.expected[:, t] + longer.at(t, 0.9)
        level_mix = both.expected[:, t] + both.at(t, 0.9)
        assert (level_1 - 1e-9 <= level_mix).all() and (level_mix <= level_2 + 1e-9).all()
    np.testing.assert_allclose(both.expected[:, 0], 25.0)  # 0.5 * 20 + 0.5 * 30
    with pytest.raises(DataValidationError):
        ConformalSafetyStock(paths, lead_time={-1: 1.0})


def test_safety_stock_now_uses_every_realised_origin() -> None:
    errs = [(float(i), 0.0) for i in range(1, 10)]  # cumulative 2-week errors 1..9
    stock = ConformalSafetyStock(error_paths(_cv({"a": errs}), "m"), window=4, min_scores=4)
    expected, safety = stock.now(np.array([[12.0, 13.0, 99.0]]), 0.5)
    assert expected[0] == pytest.approx(25.0)  # the first L + R = 2 periods
    assert safety[0] == pytest.approx(7.5)  # the 4 latest origins: errors 6..9, rank 2.5
    with pytest.raises(DataValidationError, match="forecast must be"):
        stock.now(np.array([[12.0]]), 0.5)
