"""Ledger totals per earner and month: Dask partitions equal the pandas aggregation."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from chainmall.datasets import make_shop
from chainmall.distributed import earner_month_totals, earner_month_totals_partitioned
from chainmall.exceptions import ColumnNotFoundError

dd = pytest.importorskip("dask.dataframe", reason='dask is an extra: pip install "chainmall[dask]"')

referral = pytest.importorskip("chainmall.referral", reason="chainmall.referral not installed")


@pytest.fixture(scope="module")
def entries() -> pd.DataFrame:
    shop = make_shop(seed=4, n_members=800, months=6)
    return referral.settle(referral.events_from_shop(shop), referral.ReferralConfig()).entries


def test_totals_keep_every_fen(entries: pd.DataFrame) -> None:
    totals = earner_month_totals(entries)
    assert int(totals["entries"].sum()) == len(entries)
    assert int(totals["amount_fen"].sum()) == int(entries["amount_fen"].fillna(0).sum())
    commission = entries[entries["kind"] == "COMMISSION"]
    by_month = commission.groupby("month", observed=True)["amount_fen"].sum()
    got = totals[totals["kind"] == "COMMISSION"].groupby("month", observed=True)["amount_fen"].sum()
    pd.testing.assert_series_equal(got, by_month.astype("int64"), check_names=False)


def test_partitioned_totals_equal(cluster_client: Any, entries: pd.DataFrame) -> None:
    """Partial sums of 5 row ranges meet in 3 earner buckets; earners span several ranges."""
    want = earner_month_totals(entries)
    frame = dd.from_pandas(entries, npartitions=5)
    spans = pd.concat(
        [frame.get_partition(i)[["user_id"]].compute().assign(part=i) for i in range(5)]
    )
    assert spans.groupby("user_id")["part"].nunique().max() > 1
    lazy = earner_month_totals_partitioned(frame, npartitions=3)
    got = lazy.compute().sort_values(["user_id", "month", "kind", "reward_type"], ignore_index=True)
    want = want.sort_values(["user_id", "month", "kind", "reward_type"], ignore_index=True)
    pd.testing.assert_frame_equal(got, want)


def test_missing_column_is_named(cluster_client: Any, entries: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFoundError, match="cap_cut_fen"):
        earner_month_totals_partitioned(entries.drop(columns="cap_cut_fen"))
