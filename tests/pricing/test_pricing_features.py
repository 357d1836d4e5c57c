"""Feature builder: own price in one column, no target leakage, row order kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainmall.datasets import load_orange_juice
from chainmall.exceptions import ColumnNotFoundError, DataValidationError, NotFittedError
from chainmall.pricing import DemandFeatureBuilder, SyntheticMarket, oj_market_frame


def _history(market: SyntheticMarket) -> pd.DataFrame:
    return market.history.rename(columns={"price_fen": "price", "product": "brand"})


def test_transform_before_fit_raises(market: SyntheticMarket) -> None:
    with pytest.raises(NotFittedError):
        DemandFeatureBuilder().transform(_history(market))


def test_rows_keep_order_and_lags_are_per_series(market: SyntheticMarket) -> None:
    history = _history(market).sample(frac=1.0, random_state=0)
    feats = DemandFeatureBuilder().fit(history).transform(history)
    assert feats.index.equals(history.index)
    np.testing.assert_allclose(feats["log_price"], np.log(history["price"]))
    row = history.iloc[0]
    prev = history[
        (history.store == row.store) & (history.brand == row.brand) & (history.week == row.week - 1)
    ]
    if len(prev):
        assert feats["lag_log_price"].iloc[0] == pytest.approx(np.log(prev["price"].iloc[0]))


def test_transform_ignores_units_of_transformed_rows(market: SyntheticMarket) -> None:
    history = _history(market)
    builder = DemandFeatureBuilder().fit(history[history.week < 40])
    test = history[history.week >= 40]
    a = builder.transform(test)
    b = builder.transform(test.assign(units=test["units"] * 7 + 3))
    pd.testing.assert_frame_equal(a, b)


def test_competitor_columns_mask_own_price(market: SyntheticMarket) -> None:
    history = _history(market)
    builder = DemandFeatureBuilder().fit(history)
    feats = builder.transform(history, market=history[["store", "week", "brand", "price", "feat"]])
    for product in history["brand"].unique():
        own = history["brand"] == product
        col = f"comp_log_price__{product}"
        assert feats.loc[own, col].isna().all()
        assert feats.loc[~own, col].notna().all()


def test_bad_price_is_refused(market: SyntheticMarket) -> None:
    history = _history(market)
    bad = history.assign(price=history["price"].where(history.index != 3, 0))
    with pytest.raises(DataValidationError, match="price must be > 0"):
        DemandFeatureBuilder().fit(bad)
    with pytest.raises(ColumnNotFoundError, match="units"):
        DemandFeatureBuilder().fit(history.drop(columns="units"))


@pytest.mark.realdata
def test_oj_competitor_prices_never_carry_own_price(data_home) -> None:  # type: ignore[no-untyped-def]
    yx_path = data_home / "dominicks_oj" / "orangeJuice_yx.csv"
    if not yx_path.is_file():
        pytest.skip("dominicks_oj/orangeJuice_yx.csv not found under CHAINMALL_DATA")
    oj = load_orange_juice(data_home=data_home)
    market = oj_market_frame(pd.read_csv(yx_path))
    own = oj.merge(market, on=["store", "week", "brand"], suffixes=("", "_mkt"))
    assert len(own) == len(oj)
    assert np.abs(own["price"] - own["price_mkt"]).max() <= 0.011  # same prices, rounded
    builder = DemandFeatureBuilder().fit(oj[oj.week <= 135])
    feats = builder.transform(oj, market=market)
    comp = [c for c in feats.columns if c.startswith("comp_log_price__")]
    assert len(comp) == 11
    gaps = np.abs(feats[comp].to_numpy() - feats[["log_price"]].to_numpy())
    # the own-brand column is NaN on every row: no competitor column equals own price everywhere
    for col in (
        "comp_log_price__tropicana",
        "comp_log_price__dominicks",
        "comp_log_price__minute_maid",
    ):
        brand = col.split("__")[1].replace("_", ".")
        assert feats.loc[oj.brand == brand, col].isna().all()
    assert not np.all(np.nan_to_num(gaps, nan=1.0) < 0.005, axis=0).any()


def test_seasonal_lag_reads_only_training_targets_a_season_earlier(
    market: SyntheticMarket,
) -> None:
    history = _history(market)
    builder = DemandFeatureBuilder(season_length=20).fit(history[history.week < 40])
    feats = builder.transform(history)
    y = np.log1p(history.set_index(["store", "brand", "week"])["units"])
    row = history[(history.store == 2) & (history.brand == 1) & (history.week == 45)].iloc[0]
    expected = np.mean([y[(2, 1, w)] for w in (24, 25, 26)])
    assert feats.loc[row.name, "seasonal_lag_log_units"] == pytest.approx(expected)
    # rows a season past the training history have no lag; early rows have none either
    assert feats.loc[history.week >= 61, "seasonal_lag_log_units"].isna().all()
    assert feats.loc[history.week < 19, "seasonal_lag_log_units"].isna().all()
    # changing test-period units (weeks >= 40) cannot move any feature
    shuffled = history.assign(units=np.where(history.week >= 40, 0, history["units"]))
    pd.testing.assert_frame_equal(builder.transform(shuffled), feats)
    np.testing.assert_allclose(np.hypot(feats["season_sin"], feats["season_cos"]), 1.0)
