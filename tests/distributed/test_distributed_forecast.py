"""Forecasting by series on partitions equals the single-machine forecast exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall.datasets import make_shop
from chainmall.distributed import forecast_partitioned
from chainmall.exceptions import ColumnNotFoundError, ConfigError, DataValidationError
from chainmall.replenish import (
    AutoARIMA,
    Croston,
    ReplenishConfig,
    SeasonalNaive,
    XGBoostForecaster,
)

dd = pytest.importorskip("dask.dataframe", reason='dask is an extra: pip install "chainmall[dask]"')

DAILY = ReplenishConfig(season_length=7, freq="D")


@pytest.fixture(scope="module")
def demand() -> pd.DataFrame:
    """Daily demand of 50 SKUs over two months; one SKU cut short (rejected by AutoARIMA)."""
    frame = make_shop(seed=3, n_members=200, months=2).demand[["unique_id", "ds", "y"]]
    short = (frame["unique_id"] == frame["unique_id"].iloc[0]) & (
        frame["ds"] > frame["ds"].min() + pd.Timedelta(days=4)
    )
    return frame[~short].reset_index(drop=True)


def _single(model: Any, demand: pd.DataFrame, level: list[float]) -> tuple[Any, Any]:
    fitted = model.clone().fit(demand)
    forecast = fitted.predict(10, level).sort_values(["unique_id", "ds"], ignore_index=True)
    return forecast, fitted.report_.sort_values("unique_id", ignore_index=True)


@pytest.mark.parametrize(
    "model",
    [AutoARIMA(data_config=DAILY), SeasonalNaive(data_config=DAILY), Croston(data_config=DAILY)],
)
def test_partitioned_forecast_equals_single_machine(
    cluster_client: Any, demand: pd.DataFrame, model: Any
) -> None:
    lazy = forecast_partitioned(
        dd.from_pandas(demand, npartitions=4), model, 10, level=[80, 95], npartitions=3
    )
    forecast, report = lazy.compute()
    want_forecast, want_report = _single(model, demand, [80, 95])
    assert list(forecast.columns) == list(want_forecast.columns)
    pd.testing.assert_frame_equal(forecast, want_forecast, check_dtype=False, rtol=0, atol=0)
    pd.testing.assert_frame_equal(report, want_report, check_dtype=False)
    assert forecast["unique_id"].nunique() == (report["status"] == "ok").sum()


def test_short_series_is_reported_not_dropped(cluster_client: Any, demand: pd.DataFrame) -> None:
    _, report = forecast_partitioned(demand, AutoARIMA(data_config=DAILY), 5).compute()
    rejected = report[report["status"] == "rejected"]
    assert rejected["unique_id"].tolist() == [demand["unique_id"].iloc[0]]
    assert "too short" in rejected["reason"].iloc[0]


def test_global_model_is_refused(cluster_client: Any, demand: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="learns across series"):
        forecast_partitioned(demand, XGBoostForecaster(data_config=DAILY), 5)


def test_missing_mapped_column_is_named(cluster_client: Any, demand: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFoundError, match="sku"):
        forecast_partitioned(
            demand, SeasonalNaive(data_config=DAILY), 5, columns={"unique_id": "sku"}
        )


def test_columns_and_the_legacy_config_read_the_callers_names_alike(
    cluster_client: Any, demand: pd.DataFrame
) -> None:
    mine = demand.rename(columns={"unique_id": "sku", "ds": "day"})
    cols = {"unique_id": "sku", "ds": "day"}
    forecast, _ = forecast_partitioned(
        mine, SeasonalNaive(data_config=DAILY), 5, columns=cols
    ).compute()
    with pytest.warns(FutureWarning, match="columns="):
        legacy = DAILY.replace(id_col="sku", time_col="day")
    old, _ = forecast_partitioned(mine, SeasonalNaive(data_config=legacy), 5).compute()
    pd.testing.assert_frame_equal(forecast, old)
    want, _ = _single(SeasonalNaive(data_config=DAILY), demand, [])
    first = want.groupby("unique_id").head(5).reset_index(drop=True)
    pd.testing.assert_frame_equal(forecast, first, check_dtype=False)


def test_parquet_sorted_by_series_needs_no_shuffle(
    cluster_client: Any, demand: pd.DataFrame, tmp_path: Path
) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    ordered = demand.sort_values(["unique_id", "ds"], ignore_index=True)
    folder = tmp_path / "demand"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(ordered)), 3)):
        table = pa.Table.from_pandas(ordered.iloc[rows], preserve_index=False)
        pq.write_table(table, folder / f"part-{i}.parquet", row_group_size=333)
    model = SeasonalNaive(data_config=DAILY)
    lazy = forecast_partitioned(str(folder), model, 10, level=[80])
    assert "shuffle" not in str(lazy.forecast.dask.keys())  # whole series read as they lie
    lazy.to_parquet(str(tmp_path / "out"))
    forecast = pd.read_parquet(tmp_path / "out" / "forecast")
    forecast = forecast.sort_values(["unique_id", "ds"], ignore_index=True)
    want, _ = _single(model, ordered, [80])
    pd.testing.assert_frame_equal(forecast, want, check_dtype=False, rtol=0, atol=0)


def test_whole_series_claim_is_checked(cluster_client: Any, demand: pd.DataFrame) -> None:
    scattered = dd.from_pandas(demand.sample(frac=1.0, random_state=0), npartitions=3)
    lazy = forecast_partitioned(scattered, Croston(data_config=DAILY), 5, whole_series=True)
    with pytest.raises(DataValidationError, match="several partitions"):
        lazy.compute()
