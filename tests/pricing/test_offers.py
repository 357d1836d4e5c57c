"""offers_from_history: the offers frame optimize_prices reads, from a history in one call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import DataValidationError
from chainmall.pricing import (
    DemandConfig,
    DemandFeatureBuilder,
    DemandModel,
    GuardRailConfig,
    offers_from_history,
    optimize_prices,
    simulate_market,
)

pytest.importorskip("xgboost")


@pytest.fixture(scope="module")
def fitted() -> tuple[pd.DataFrame, DemandFeatureBuilder, DemandModel]:
    market = simulate_market(n_stores=6, n_weeks=40, seed=3)
    history = market.history.rename(columns={"price_fen": "price"})
    train = history[history["week"] < 39]
    builder = DemandFeatureBuilder(
        columns={"store_id": "store", "item_id": "product", "ds": "week"}
    ).fit(train)
    features = builder.transform(train)
    columns = builder.feature_columns(features)
    model = DemandModel(DemandConfig(n_estimators=20)).fit(
        features[columns], builder.target(train), catalog=builder.catalog_for(columns)
    )
    return history, builder, model


def _elasticities(products: pd.Series) -> pd.DataFrame:
    names = sorted(products.unique())
    return pd.DataFrame(
        {"product": names, "treatment": "log_price", "elasticity": -2.0 - np.arange(len(names))}
    )


def test_offers_hold_the_week_rows_with_cost_baseline_elasticity_and_cap(
    fitted: tuple[pd.DataFrame, DemandFeatureBuilder, DemandModel],
) -> None:
    history, builder, model = fitted
    elasticities = _elasticities(history["product"])
    offers = offers_from_history(history, builder, model, elasticities, at=39, cap_periods=4)
    week = history[history["week"] == 39].reset_index(drop=True)
    assert offers[["store_id", "item_id"]].equals(
        week[["store", "product"]].set_axis(["store_id", "item_id"], axis=1)
    )
    assert offers["current_price_fen"].tolist() == week["price"].tolist()
    assert offers["unit_cost_fen"].tolist() == week["unit_cost_fen"].tolist()
    want_el = elasticities.set_index("product")["elasticity"].loc[week["product"]].to_numpy()
    np.testing.assert_array_equal(offers["elasticity"].to_numpy(), want_el)
    window = history[(history["week"] >= 35) & (history["week"] < 39)]
    caps = window.groupby(["store", "product"])["price"].max()
    assert offers["max_price_lookback_fen"].tolist() == [
        caps.loc[(s, p)] for s, p in zip(offers["store_id"], offers["item_id"], strict=True)
    ]
    features = builder.transform(history[history["week"] == 39])
    np.testing.assert_allclose(
        offers["baseline_units"], model.predict_units(features[builder.feature_columns(features)])
    )
    decision = optimize_prices(offers, GuardRailConfig())
    assert len(decision.prices) == len(offers)


def test_a_week_without_rows_or_a_product_without_elasticity_is_refused(
    fitted: tuple[pd.DataFrame, DemandFeatureBuilder, DemandModel],
) -> None:
    history, builder, model = fitted
    elasticities = _elasticities(history["product"])
    with pytest.raises(DataValidationError, match="no row in period 99"):
        offers_from_history(history, builder, model, elasticities, at=99)
    with pytest.raises(DataValidationError, match="no own-price row for product"):
        offers_from_history(history, builder, model, elasticities.iloc[1:], at=39)
    doubled = pd.concat([elasticities, elasticities])
    with pytest.raises(DataValidationError, match="several own-price rows"):
        offers_from_history(history, builder, model, doubled, at=39)
    floats = history.assign(unit_cost_fen=history["unit_cost_fen"] / 100)
    with pytest.raises(DataValidationError, match="unit_cost_fen"):
        offers_from_history(floats, builder, model, elasticities, at=39)
