"""Dask RFM-L results equal the single-machine engine, on a LocalCluster."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall import segment
from chainmall.datasets import load_cdnow, make_shop
from chainmall.distributed import score_edges, segment_customers_partitioned, summarize_partitioned
from chainmall.distributed.scores import merge_counts, thresholds, value_counts
from chainmall.exceptions import ColumnNotFoundError, DataValidationError
from chainmall.segment import RFMLConfig, SegmentRule
from tests.conftest import require_file

dd = pytest.importorskip("dask.dataframe", reason='dask is an extra: pip install "chainmall[dask]"')
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

COLUMNS = {"ts": "paid_at", "amount_fen": "paid_fen"}


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    shop = make_shop(seed=3, n_members=600, months=6)
    return shop.order_lines[["user_id", "paid_at", "paid_fen"]].copy()


def _single(
    frame: pd.DataFrame, cfg: RFMLConfig, columns: dict[str, str] | None = COLUMNS
) -> segment.RFMLSummary:
    result = segment.segment_customers(frame, cfg, columns=columns)
    return segment.RFMLSummary(
        customers=result.customers.sort_values("user_id", ignore_index=True),
        rejected=result.rejected.sort_values("user_id", ignore_index=True),
        as_of=result.as_of,
        n_rows_after_as_of=result.n_rows_after_as_of,
    )


def _text_ids_as(
    got: segment.RFMLSummary, want: segment.RFMLSummary, column: str
) -> segment.RFMLSummary:
    """Dask keeps text as pyarrow strings (``dataframe.convert-string``): same values."""
    assert isinstance(got.customers[column].dtype, pd.StringDtype)
    dtype = want.customers[column].dtype
    return replace(
        got,
        customers=got.customers.astype({column: dtype}),
        rejected=got.rejected.astype({column: dtype}),
    )


def _assert_equal(got: segment.RFMLSummary, want: segment.RFMLSummary) -> None:
    pd.testing.assert_frame_equal(got.customers, want.customers)
    pd.testing.assert_frame_equal(got.rejected, want.rejected, check_dtype=False)
    assert got.as_of == want.as_of
    assert got.n_rows_after_as_of == want.n_rows_after_as_of


@pytest.mark.parametrize(
    "cfg",
    [
        RFMLConfig(),
        RFMLConfig(as_of="2025-04-15", loyalty="gap_cv", monetary="mean"),
        RFMLConfig(
            loyalty="repeat_per_month",
            bins=7,
            time_unit="day",
            grid=(SegmentRule(name="All", r=(1, 7), fm=(1, 7)),),
            classes={"all": ("All",)},
        ),
    ],
    ids=["default", "as_of-gap_cv-mean", "bins7"],
)
def test_segment_customers_equals_single_machine(
    cluster_client: Any, log: pd.DataFrame, cfg: RFMLConfig
) -> None:
    got = segment_customers_partitioned(
        dd.from_pandas(log, npartitions=5), cfg, npartitions=3, columns=COLUMNS
    )
    want = _single(log, cfg)
    _assert_equal(got.compute(sort_by="user_id"), want)
    if cfg.as_of is not None:
        assert want.n_rows_after_as_of > 0  # the cut-off really dropped rows


def test_refunds_string_ids_and_rejected_customers(cluster_client: Any) -> None:
    rng = np.random.default_rng(0)
    n = 3_000
    frame = pd.DataFrame(
        {
            "user_id": [f"c{i}" for i in rng.integers(0, 400, n)],
            "ts": pd.Timestamp("2025-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 200 * 86_400, n), unit="s"),
            "amount_fen": rng.integers(-3_000, 20_000, n),
        }
    )
    only_refunds = pd.DataFrame(
        {
            "user_id": ["refund-only"],
            "ts": [pd.Timestamp("2025-03-01", tz="UTC")],
            "amount_fen": [-500],
        }
    )
    frame = pd.concat([frame, only_refunds], ignore_index=True)
    cfg = RFMLConfig(allow_refunds=True)
    want = _single(frame, cfg, None)
    assert "refund-only" in set(want.rejected["user_id"])
    got = segment_customers_partitioned(dd.from_pandas(frame, npartitions=4), cfg).compute(
        sort_by="user_id"
    )
    _assert_equal(_text_ids_as(got, want, "user_id"), want)


def test_partitioning_does_not_change_scores(cluster_client: Any, log: pd.DataFrame) -> None:
    one = segment_customers_partitioned(log, npartitions=1, columns=COLUMNS).compute(
        sort_by="user_id"
    )
    many = segment_customers_partitioned(
        dd.from_pandas(log, npartitions=7), npartitions=6, columns=COLUMNS
    )
    pd.testing.assert_frame_equal(one.customers, many.compute(sort_by="user_id").customers)


def test_fixed_binning_needs_no_edges(cluster_client: Any, log: pd.DataFrame) -> None:
    edges = {
        "recency": (7.0, 30.0, 60.0, 120.0),
        "frequency": (2.0, 3.0, 5.0, 8.0),
        "monetary": (1e4, 3e4, 1e5, 3e5),
        "loyalty": (30.0, 60.0, 120.0, 150.0),
    }
    cfg = RFMLConfig(binning="fixed", edges=edges)
    got = segment_customers_partitioned(dd.from_pandas(log, npartitions=3), cfg, columns=COLUMNS)
    _assert_equal(got.compute(sort_by="user_id"), _single(log, cfg))
    with pytest.raises(DataValidationError, match="quantile"):
        score_edges(got.customers, cfg)


def test_summary_only_is_lazy_and_equal(cluster_client: Any, log: pd.DataFrame) -> None:
    lazy = summarize_partitioned(dd.from_pandas(log, npartitions=4), columns=COLUMNS)
    assert hasattr(lazy.customers, "dask")
    want = segment.summarize(log, columns=COLUMNS).customers.sort_values(
        "user_id", ignore_index=True
    )
    pd.testing.assert_frame_equal(lazy.compute(sort_by="user_id").customers, want)


def test_errors_match_the_engine(cluster_client: Any, log: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFoundError, match="paid_at"):
        summarize_partitioned(log, columns={"ts": "paid_on", "amount_fen": "paid_fen"})
    naive = log.assign(paid_at=log["paid_at"].dt.tz_localize(None))
    with pytest.raises(DataValidationError, match=r"timezone|tz"):
        segment_customers_partitioned(
            dd.from_pandas(naive, npartitions=2), columns=COLUMNS
        ).compute()
    with pytest.raises(DataValidationError, match="before the first transaction"):
        summarize_partitioned(log, RFMLConfig(as_of="2000-01-01"), columns=COLUMNS)
    floats = log.assign(paid_fen=log["paid_fen"].astype(float) + 0.5)
    with pytest.raises(DataValidationError, match="paid_fen"):
        segment_customers_partitioned(
            dd.from_pandas(floats, npartitions=2), columns=COLUMNS
        ).compute()


def _write_parquet(frame: pd.DataFrame, folder: Path, files: int, row_group_size: int) -> Path:
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(frame)), files)):
        table = pa.Table.from_pandas(frame.iloc[part], preserve_index=False)
        pq.write_table(table, folder / f"part-{i}.parquet", row_group_size=row_group_size)
    return folder


def test_parquet_files_in_time_order_equal_single_machine(
    cluster_client: Any, log: pd.DataFrame, tmp_path: Path
) -> None:
    """Files sorted by time: whole partitions fall after as_of, customers span many files."""
    ordered = log.sort_values("paid_at", ignore_index=True)
    folder = _write_parquet(ordered, tmp_path / "lines", files=3, row_group_size=700)
    cfg = RFMLConfig(as_of="2025-04-15")
    got = segment_customers_partitioned(str(folder), cfg, npartitions=4, columns=COLUMNS)
    want = _single(ordered, cfg)
    assert want.n_rows_after_as_of > len(ordered) // 3  # more than a whole file is cut off
    _assert_equal(got.compute(sort_by="user_id"), want)


def test_cdnow_master_from_parquet(cluster_client: Any, data_home: Path, tmp_path: Path) -> None:
    """Real purchases (string ids, many same-day rows) read from Parquet files."""
    require_file(data_home, "cdnow/CDNOW_master.txt")
    cdnow = load_cdnow("master", data_home=data_home)
    cents = (cdnow["amount"] * 100).round().astype("int64")
    frame = cdnow[["customer_id", "ts"]].rename(columns={"customer_id": "user_id"})
    frame = frame.assign(amount_fen=cents)
    folder = _write_parquet(frame, tmp_path / "cdnow", files=4, row_group_size=5_000)
    cfg = RFMLConfig(time_unit="week", timezone="UTC")
    got = segment_customers_partitioned(folder, cfg, npartitions=5).compute(sort_by="user_id")
    want = _single(frame, cfg, None)
    assert len(want.customers) == 23_570
    _assert_equal(_text_ids_as(got, want, "user_id"), want)


def test_import_does_not_load_dask() -> None:
    code = "import sys, chainmall.distributed; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


values_strategy = st.lists(
    st.one_of(st.integers(0, 6).map(float), st.just(float("nan"))), min_size=1, max_size=60
)


@settings(max_examples=150, deadline=None)
@given(values=values_strategy, cut=st.integers(0, 60), bins=st.integers(2, 7))
def test_merged_edges_reproduce_engine_quantile_scores(
    values: list[float], cut: int, bins: int
) -> None:
    """Split a column in two partitions, merge counts, score: equals the one-machine score."""
    frame = pd.DataFrame({"gap_cv": values, "n_purchases": np.arange(len(values))})
    counts = merge_counts(
        value_counts(frame.iloc[:cut], ("gap_cv", "n_purchases")),
        value_counts(frame.iloc[cut:], ("gap_cv", "n_purchases")),
    )
    from chainmall.segment.rules import _quantile_score

    for column, lower in (("gap_cv", True), ("n_purchases", False)):
        edges = thresholds(counts[column], len(values), bins)
        raw = frame[column].to_numpy()
        goodness = -raw if lower else raw
        got = 1 + np.searchsorted(edges, goodness, side="right")
        got[np.isnan(goodness.astype(float))] = 1
        want = _quantile_score(raw, bins, lower)
        np.testing.assert_array_equal(got, want)
