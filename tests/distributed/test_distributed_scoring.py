"""Row-wise model scoring on partitions equals scoring the whole frame."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall.datasets import make_shop
from chainmall.distributed import predict_partitioned
from chainmall.exceptions import ColumnNotFoundError
from chainmall.pricing import LogLogModel

dd = pytest.importorskip("dask.dataframe", reason='dask is an extra: pip install "chainmall[dask]"')


def test_loglog_demand_scores_equal(cluster_client: Any) -> None:
    demand = make_shop(seed=2, n_members=300, months=4).demand
    frame = demand.assign(
        log_price=np.log(demand["price_fen"] / 100.0), promo=demand["promo"].astype(float)
    )
    model = LogLogModel(group="unique_id", fixed_effects=("unique_id",), controls=("promo",))
    model.fit(frame, np.log1p(frame["y"]))
    lazy = predict_partitioned(
        dd.from_pandas(frame, npartitions=5), model, keep=("unique_id", "ds"), output="log_units"
    )
    got = lazy.compute()
    assert list(got.columns) == ["unique_id", "ds", "log_units"]
    np.testing.assert_array_equal(got["log_units"].to_numpy(), model.predict(frame))
    pd.testing.assert_series_equal(
        got["ds"].reset_index(drop=True), frame["ds"].reset_index(drop=True)
    )


def test_keep_names_missing_column(cluster_client: Any) -> None:
    frame = dd.from_pandas(pd.DataFrame({"x": [1.0, 2.0]}), npartitions=1)
    with pytest.raises(ColumnNotFoundError, match="sku"):
        predict_partitioned(frame, LogLogModel(group="x"), keep=("sku",))
