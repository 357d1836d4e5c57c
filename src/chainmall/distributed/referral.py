"""Referral ledger totals per earner and accrual month, on one machine or on Dask partitions.

Settlement itself is sequential (the team tree changes event by event), so it
runs once with :func:`chainmall.referral.settle`; what grows with the shop is
reading the ledger: statements per earner and month. :func:`earner_month_totals`
is the pure pandas aggregation. :func:`earner_month_totals_partitioned` runs it
on each input partition (partial sums, one row per key), splits the partial
sums into earner buckets and adds each bucket's pieces in one task: sums of
sums, so the rows equal the single-machine ones, and no ledger entry leaves the
worker that read it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import Column, check_frame
from chainmall.distributed._buckets import bucket_of, meet_buckets, split_by_bucket
from chainmall.distributed._dask import dask_dataframe, delayed
from chainmall.distributed._sources import as_dask

__all__ = ["TOTAL_COLUMNS", "earner_month_totals", "earner_month_totals_partitioned"]

KEYS = ("user_id", "month", "kind", "reward_type")
TOTAL_COLUMNS = ("amount_fen", "gross_fen", "ratio_cut_fen", "cap_cut_fen")
"""Money columns summed per key (integer fen)."""
_SUMMED = ("entries", *TOTAL_COLUMNS)


def earner_month_totals(entries: pd.DataFrame) -> pd.DataFrame:
    """Sum ledger entries per ``user_id, month, kind, reward_type``.

    Args:
        entries: ``Settlement.entries`` (or any slice of it).

    Returns:
        One row per key with ``entries`` (count) and the sums of
        ``amount_fen, gross_fen, ratio_cut_fen, cap_cut_fen`` (int64 fen; a
        missing value counts 0), sorted by the keys; ``month`` and
        ``reward_type`` may be missing (entries without them, e.g. withdrawals).
    """
    columns = [
        Column("user_id", "id"),
        Column("month", "label", nullable=True),
        Column("kind", "label"),
        Column("reward_type", "label", nullable=True),
        *(Column(c, "money", nullable=True) for c in TOTAL_COLUMNS),
    ]
    check_frame(entries, columns, name="entries", id_column="user_id", allow_empty=True)
    money = {c: entries[c].fillna(0).to_numpy(dtype=np.int64) for c in TOTAL_COLUMNS}
    frame = pd.DataFrame(
        {**{k: entries[k] for k in KEYS}, "entries": np.ones(len(entries), np.int64), **money}
    )
    return _sum_per_key(frame)


def _sum_per_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the ``entries`` and money columns of rows sharing a key, sorted by the keys."""
    totals = frame.groupby(list(KEYS), observed=True, dropna=False, sort=True)[list(_SUMMED)]
    return totals.sum().reset_index().astype({c: np.int64 for c in _SUMMED})


def _partial_totals(part: pd.DataFrame, n_buckets: int) -> tuple[pd.DataFrame, ...]:
    """One partition's totals, split into earner buckets."""
    totals = earner_month_totals(part)
    return split_by_bucket(totals, bucket_of(totals["user_id"], n_buckets), n_buckets)


def _bucket_totals(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    """One earner bucket's totals from every partition's partial totals."""
    return _sum_per_key(pd.concat(pieces, ignore_index=True))


def earner_month_totals_partitioned(entries: Any, npartitions: int | None = None) -> Any:
    """:func:`earner_month_totals` over a Dask frame of entries (lazy).

    Args:
        entries: dask or pandas DataFrame, or Parquet path(s), of ledger entries.
        npartitions: earner buckets of the result (default: the input's partitions).

    Returns:
        Dask DataFrame; each partition sorted by the keys, earners disjoint
        across partitions (sort by the keys after ``compute`` for one order).
    """
    frame = as_dask(entries, [*KEYS, *TOTAL_COLUMNS])
    if frame.columns.size < len(KEYS) + len(TOTAL_COLUMNS):  # the engine's message
        earner_month_totals(as_dask(entries)._meta)
    meta = earner_month_totals(frame._meta)
    n_buckets = npartitions or frame.npartitions
    split = delayed(_partial_totals, nout=n_buckets, pure=True)
    pieces = [tuple(split(part, n_buckets)) for part in frame.to_delayed()]
    buckets = meet_buckets(pieces, _bucket_totals)
    return dask_dataframe().from_delayed(buckets, meta=meta, verify_meta=False)
