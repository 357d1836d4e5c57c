"""Feature builder: own price in one column, no target leakage, row order kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainmall.datasets import load_orange_juice
from chainmall.exceptions import (
    ColumnNotFoundError,
    ConfigError,
    DataValidationError,
    NotFittedError,
)
from chainmall.pricing import DemandFeatureBuilder, SyntheticMarket, oj_market_frame

OJ_COLUMNS = {"store_id": "store", "item_id": "brand", "ds": "week"}
"""The builder's canonical names -> the orange-juice (and simulated market) columns."""


def _history(market: SyntheticMarket) -> pd.DataFrame:
    return market.history.rename(columns={"price_fen": "price", "product": "brand"})


def test_transform_before_fit_raises(market: SyntheticMarket) -> None:
    with pytest.raises(NotFittedError):
        DemandFeatureBuilder(columns=OJ_COLUMNS).transform(_history(market))


def test_rows_keep_order_and_lags_are_per_series(market: SyntheticMarket) -> None:
    history = _history(market).sample(frac=1.0, random_state=0)
    feats = DemandFeatureBuilder(columns=OJ_COLUMNS).fit(history).transform(history)
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
    builder = DemandFeatureBuilder(columns=OJ_COLUMNS).fit(history[history.week < 40])
    test = history[history.week >= 40]
    a = builder.transform(test)
    b = builder.transform(test.assign(units=test["units"] * 7 + 3))
    pd.testing.assert_frame_equal(a, b)


def test_competitor_columns_mask_own_price(market: SyntheticMarket) -> None:
    history = _history(market)
    builder = DemandFeatureBuilder(columns=OJ_COLUMNS).fit(history)
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
        DemandFeatureBuilder(columns=OJ_COLUMNS).fit(bad)
    with pytest.raises(ColumnNotFoundError, match="units"):
        DemandFeatureBuilder(columns=OJ_COLUMNS).fit(history.drop(columns="units"))


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
    builder = DemandFeatureBuilder(columns=OJ_COLUMNS).fit(oj[oj.week <= 135])
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
    builder = DemandFeatureBuilder(columns=OJ_COLUMNS, season_length=20).fit(
        history[history.week < 40]
    )
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


def test_columns_name_the_keys_and_old_spellings_warn(market: SyntheticMarket, tmp_path) -> None:  # type: ignore[no-untyped-def]
    history = market.history  # store, product, week, price_fen (integer fen)
    columns = {"store_id": "store", "item_id": "product", "ds": "week", "price": "price_fen"}
    builder = DemandFeatureBuilder(columns=columns).fit(history)
    feats = builder.transform(history)
    assert list(feats.columns[:3]) == ["store_id", "item_id", "ds"]
    np.testing.assert_array_equal(feats["item_id"], history["product"])
    # the same features as a frame already under the canonical names
    canonical = history.rename(columns={v: k for k, v in columns.items()})
    plain = DemandFeatureBuilder().fit(canonical).transform(canonical)
    pd.testing.assert_frame_equal(feats, plain)
    with pytest.warns(FutureWarning, match="columns="):
        old = DemandFeatureBuilder(
            store="store", product="product", period="week", price="price_fen"
        )
    assert old.get_params()["columns"] == columns
    pd.testing.assert_frame_equal(old.fit(history).transform(history), feats)
    with pytest.warns(FutureWarning, match="earlier default names"):
        DemandFeatureBuilder().fit(_history(market))  # the orange-juice names store/brand/week
    again = DemandFeatureBuilder.load(builder.save(tmp_path / "builder"))
    pd.testing.assert_frame_equal(again.transform(history), feats)
    with pytest.raises(ConfigError, match="no parameter"):
        DemandFeatureBuilder(brand="brand")
