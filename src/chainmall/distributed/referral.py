"""Referral ledger totals per earner and accrual month, on one machine or on Dask partitions.

Settlement itself is sequential (the team tree changes event by event), so it
runs once with :func:`chainmall.referral.settle`; what grows with the shop is
reading the ledger: statements per earner and month. :func:`earner_month_totals`
is the pure pandas aggregation; :func:`earner_month_totals_partitioned` shuffles
entries by ``user_id`` (each earner in one partition) and runs the same
function per partition, so the rows are identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import require_columns, require_frame
from chainmall.distributed._dask import dask_dataframe

__all__ = ["TOTAL_COLUMNS", "earner_month_totals", "earner_month_totals_partitioned"]

KEYS = ("user_id", "month", "kind", "reward_type")
TOTAL_COLUMNS = ("amount_fen", "gross_fen", "ratio_cut_fen", "cap_cut_fen")
"""Money columns summed per key (integer fen)."""


def earner_month_totals(entries: pd.DataFrame) -> pd.DataFrame:
    """Sum ledger entries per ``user_id, month, kind, reward_type``.

    Args:
        entries: ``Settlement.entries`` (or any slice of it holding whole earners).

    Returns:
        One row per key with ``entries`` (count) and the sums of
        ``amount_fen, gross_fen, ratio_cut_fen, cap_cut_fen`` (int64 fen; a
        missing value counts 0), sorted by the keys; ``month`` and
        ``reward_type`` may be missing (entries without them, e.g. withdrawals).
    """
    require_frame(entries, "entries")
    require_columns(entries, [*KEYS, *TOTAL_COLUMNS], name="entries")
    money = {c: entries[c].fillna(0).to_numpy(dtype=np.int64) for c in TOTAL_COLUMNS}
    frame = pd.DataFrame(
        {**{k: entries[k] for k in KEYS}, **money, "entries": np.ones(len(entries), np.int64)}
    )
    totals = frame.groupby(list(KEYS), observed=True, dropna=False, sort=True).sum()
    out = totals.reset_index()[[*KEYS, "entries", *TOTAL_COLUMNS]]
    return out.astype({c: np.int64 for c in ("entries", *TOTAL_COLUMNS)})


def earner_month_totals_partitioned(entries: Any, npartitions: int | None = None) -> Any:
    """:func:`earner_month_totals` over a Dask frame of entries (lazy).

    Args:
        entries: dask (or pandas) DataFrame of ledger entries.
        npartitions: earner partitions after the shuffle (default: the input's).

    Returns:
        Dask DataFrame; each partition sorted by the keys, earners disjoint
        across partitions (sort by the keys after ``compute`` for one order).
    """
    dd = dask_dataframe()
    if isinstance(entries, pd.DataFrame):
        entries = dd.from_pandas(entries, npartitions=max(1, min(8, len(entries) // 200_000 + 1)))
    missing = [c for c in (*KEYS, *TOTAL_COLUMNS) if c not in entries.columns]
    if missing:
        earner_month_totals(entries._meta)  # raises the engine's message
    shuffled = entries.shuffle(on="user_id", npartitions=npartitions or entries.npartitions)
    meta = earner_month_totals(entries._meta)
    return shuffled.map_partitions(earner_month_totals, meta=meta)
