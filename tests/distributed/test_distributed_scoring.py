"""Row-wise model scoring on partitions equals scoring the whole frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall.datasets import make_shop
from chainmall.distributed import predict_partitioned
from chainmall.exceptions import ColumnNotFoundError
from chainmall.pricing import LogLogModel
from chainmall.segment import BetaGeo

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


def test_parquet_rows_scored_and_written(cluster_client: Any, tmp_path: Path) -> None:
    """Users read from Parquet (only the columns asked), scored, written back to Parquet."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = np.random.default_rng(5)
    n = 5_000
    big_t = rng.uniform(1.0, 52.0, n)
    x = rng.poisson(3.0, n)
    users = pd.DataFrame(
        {
            "customer_id": np.arange(n, dtype=np.int64),
            "x": x,
            "t_x": np.where(x > 0, rng.uniform(0.0, big_t), 0.0),
            "T": big_t,
            "unused": rng.random(n),
        }
    )
    pq.write_table(pa.Table.from_pandas(users), tmp_path / "users.parquet", row_group_size=900)
    model = BetaGeo().fit(users)
    lazy = predict_partitioned(
        tmp_path / "users.parquet",
        model,
        keep=("customer_id",),
        output="p_alive",
        method="p_alive",
        columns=("x", "t_x", "T"),
    )
    assert lazy.npartitions == 1  # 6 row groups, under the rows per partition
    lazy.to_parquet(tmp_path / "scores", write_index=False)
    got = pd.read_parquet(tmp_path / "scores").sort_values("customer_id", ignore_index=True)
    assert list(got.columns) == ["customer_id", "p_alive"]
    np.testing.assert_array_equal(got["p_alive"].to_numpy(), model.p_alive(users))
