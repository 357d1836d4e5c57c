"""RFM-L on a cluster whose memory target forces spilling: same result, data spilled to disk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall import segment
from chainmall.distributed import segment_customers_partitioned

dd = pytest.importorskip("dask.dataframe", reason='dask is an extra: pip install "chainmall[dask]"')


@pytest.fixture
def small_memory_client() -> Iterator[Any]:
    """Two in-process workers that spill once their data pass 60% of 24 MB.

    The process-wide (RSS) thresholds are off: in one process they would see the
    test runner's own memory; the data-size target still spills.
    """
    import dask
    from distributed import Client, LocalCluster

    rules = {
        "distributed.worker.memory.target": 0.6,
        "distributed.worker.memory.spill": False,
        "distributed.worker.memory.pause": False,
        "distributed.worker.memory.terminate": False,
    }
    with (
        dask.config.set(rules),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            memory_limit="24MB",
            dashboard_address=":0",  # a free port: two clusters may run at once
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _spilled(dask_worker: Any) -> float:
    return float(dask_worker.data.cumulative_metrics.get(("disk-write", "bytes"), 0.0))


def _rows(index: int) -> pd.DataFrame:
    """100k seeded transactions (2.4 MB) of 100k customers over 300 days."""
    rng = np.random.default_rng([9, index])
    n = 100_000
    start = pd.Timestamp("2025-01-01", tz="UTC").value
    return pd.DataFrame(
        {
            "user_id": rng.integers(0, 100_000, n),
            "ts": pd.to_datetime(start + rng.integers(0, 300 * 86_400 * 10**9, n), utc=True),
            "amount_fen": rng.integers(100, 9_000, n),
        }
    )


def test_spilling_cluster_gives_the_single_machine_segments(small_memory_client: Any) -> None:
    import dask

    parts = [dask.delayed(_rows)(i) for i in range(12)]  # built on the workers: 29 MB
    frame = dd.from_delayed(parts, meta=_rows(0).iloc[:0], verify_meta=False)
    got = segment_customers_partitioned(frame, npartitions=10).compute(sort_by="user_id")
    spilled = sum(small_memory_client.run(_spilled).values())
    assert spilled > 10e6  # the customer-day tables alone pass the workers' target
    want = segment.segment_customers(pd.concat([_rows(i) for i in range(12)], ignore_index=True))
    pd.testing.assert_frame_equal(
        got.customers, want.customers.sort_values("user_id", ignore_index=True)
    )
