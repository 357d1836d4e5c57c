"""Small seeded fixtures shared by the pricing tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainmall.pricing import (
    DemandConfig,
    DemandFeatureBuilder,
    DemandModel,
    SyntheticMarket,
    simulate_market,
)

OJ_COLUMNS = {"store_id": "store", "item_id": "brand", "ds": "week"}
"""The builder's canonical names -> the orange-juice (and simulated market) columns."""

SMALL = DemandConfig(n_estimators=60, learning_rate=0.1, max_depth=3, monotone_grid=7)


@pytest.fixture(scope="session")
def market() -> SyntheticMarket:
    return simulate_market(n_stores=8, n_products=3, n_weeks=60, seed=1)


@pytest.fixture(scope="session")
def fitted(market: SyntheticMarket) -> tuple[DemandFeatureBuilder, pd.DataFrame, DemandModel]:
    history = market.history.rename(columns={"price_fen": "price", "product": "brand"})
    train = history[history["week"] < 50]
    builder = DemandFeatureBuilder(columns=OJ_COLUMNS).fit(train)
    feats = builder.transform(history, market=history[["store", "week", "brand", "price", "feat"]])
    cols = builder.feature_columns(feats)
    model = DemandModel(SMALL).fit(
        feats.loc[train.index, cols],
        builder.target(train),
        catalog=builder.catalog_for(cols),
        periods=train["week"],
    )
    return builder, feats.assign(log_units=np.log1p(history["units"])), model
