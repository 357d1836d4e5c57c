"""Real data: a few Walmart store x department series (skips without the shared data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chainmall.datasets import load_walmart_sales
from chainmall.exceptions import DataValidationError
from chainmall.replenish import AutoARIMA, SeasonalNaive, evaluate_forecasts
from tests.conftest import require_file


@pytest.fixture(scope="module")
def walmart(data_home: Path) -> object:
    require_file(data_home, "walmart_store_sales/train.csv.zip")
    return load_walmart_sales(data_home=data_home)


def test_arima_beats_seasonal_naive_on_a_few_departments(walmart: object) -> None:
    df = walmart  # type: ignore[assignment]
    ids = ["01_01", "02_02", "10_13", "20_92"]
    part = df[df["unique_id"].isin(ids)][["unique_id", "ds", "y"]]  # type: ignore[index]
    cut = np.sort(part["ds"].unique())[-9]
    train, test = part[part["ds"] <= cut], part[part["ds"] > cut]
    table = test.merge(AutoARIMA().fit(train).predict(8), on=["unique_id", "ds"]).merge(
        SeasonalNaive().fit(train).predict(8), on=["unique_id", "ds"]
    )
    assert len(table) == 8 * len(ids)
    scores = evaluate_forecasts(table, train, ["AutoARIMA", "SeasonalNaive"]).set_index("model")
    assert scores.loc["AutoARIMA", "mase"] < scores.loc["SeasonalNaive", "mase"] + 0.05
    assert scores.loc["AutoARIMA", "mase"] < 1.5


def test_incomplete_series_gaps_are_refused_then_filled(walmart: object) -> None:
    df = walmart  # type: ignore[assignment]
    sizes = df.groupby("unique_id")["ds"].size()  # type: ignore[attr-defined]
    gappy = sizes[(sizes > 60) & (sizes < sizes.max())].index[:2]
    part = df[df["unique_id"].isin(gappy)][["unique_id", "ds", "y"]]  # type: ignore[index]
    with pytest.raises(DataValidationError, match="gap_rule"):
        SeasonalNaive().fit(part)
    from chainmall.replenish import ReplenishConfig

    model = SeasonalNaive(data_config=ReplenishConfig(gap_rule="zero")).fit(part)
    assert model.report_["n_gaps_filled"].sum() > 0


def test_conformal_stock_with_feedback_meets_its_service_target(walmart: object) -> None:
    """20 complete departments, SeasonalNaive backtest at 1-week steps, last 26 weeks simulated."""
    from chainmall.replenish import (
        ConformalSafetyStock,
        cross_validation,
        error_paths,
        simulate_service_feedback,
    )

    df = walmart  # type: ignore[assignment]
    sizes = df.groupby("unique_id")["ds"].size()  # type: ignore[attr-defined]
    ids = sorted(sizes[sizes == sizes.max()].index)[:20]
    part = df[df["unique_id"].isin(ids)][["unique_id", "ds", "y"]]  # type: ignore[index]
    cv = cross_validation([SeasonalNaive()], part, h=2, n_windows=54, step=1, refit=False)
    paths = error_paths(cv, "SeasonalNaive")
    stock = ConformalSafetyStock(paths, window=26)
    start = 9  # first origin with 8 realised 2-week errors
    weeks = slice(start, None)
    result, levels = simulate_service_feedback(
        paths.demand[:, weeks, 0],
        stock.expected[:, weeks],
        lambda t, level: stock.at(t + start, level),
        0.9,
        adapt_rate=0.5,
        warmup=54 - start - 26,
    )
    achieved = result.summary()["cycle_service"]
    assert abs(achieved - 0.9) <= 0.03, achieved
    assert not np.allclose(levels, 0.9)  # the feedback moved the level
    fc, dem = paths.totals(2)
    realised = np.column_stack([stock.at(t, 0.9) for t in range(28, 54)])
    coverage = np.mean(dem[:, 28:] - fc[:, 28:] <= realised)
    assert 0.82 <= coverage <= 0.97  # a conformal level of 0.9 on drifting real errors
