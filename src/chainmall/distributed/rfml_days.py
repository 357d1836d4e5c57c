"""RFM-L partial aggregates: net fen per customer-day, and the summaries they finish into.

Every RFM-L measure is a function of a customer's *purchase days* and their net
amounts (``chainmall.segment.rfml``: a purchase is a customer-day, refunds net
against the same day). So a partition's partial aggregate is its table of
``(customer, local day) -> net fen``, computed once from its raw rows (validate,
local day, drop rows after ``as_of``, one sort of packed keys, sums per run) and
split into customer buckets. A bucket's tables from all partitions are then
concatenated and handed to the single-machine kernel
(:func:`chainmall.segment.rfml.summary_columns`), which sums a customer-day
present in several partitions and computes the summary: the same arithmetic on
the same customer-day nets, hence the same columns. The table is the exact form
of the "day sets" the loyalty measures need (``gap_cv`` depends on the order of
the days); no sketch or approximation is involved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import check_frame
from chainmall.distributed._buckets import bucket_of, split_by_bucket
from chainmall.segment import RFMLConfig
from chainmall.segment.rfml import (
    TRANSACTION_COLUMNS,
    local_days,
    summary_columns,
    transaction_columns,
)

__all__ = ["NO_DAYS", "DayInfo", "customer_days", "customer_summaries", "merge_info"]

_NS_PER_DAY = 86_400_000_000_000
_NO_PURCHASE = "no day with a non-negative net amount"  # chainmall.segment's reason

DayInfo = tuple[int, int, int]
"""(first local day, last local day, rows after ``as_of``) of a partition's rows."""

NO_DAYS: DayInfo = (np.iinfo(np.int64).max, np.iinfo(np.int64).min, 0)
"""The :data:`DayInfo` of an empty partition (neutral for :func:`merge_info`)."""


def merge_info(a: DayInfo, b: DayInfo) -> DayInfo:
    """Combine two partitions' :data:`DayInfo`."""
    return min(a[0], b[0]), max(a[1], b[1]), a[2] + b[2]


def customer_days(
    part: pd.DataFrame,
    cfg: RFMLConfig,
    names: tuple[str, str, str],
    as_of_day: int | None,
    n_buckets: int,
) -> tuple[Any, ...]:
    """A partition's :data:`DayInfo`, then its ``n_buckets`` customer-day tables.

    Args:
        part: raw rows (``names`` = customer id, timestamp, amount columns).
        cfg: engine settings (time zone, refund rule).
        names: the id, timestamp and amount column names.
        as_of_day: drop rows after this local day (``None``: keep all).
        n_buckets: customer buckets.

    Returns:
        ``(info, table_0, ..., table_{n-1})``; a table has columns ``id``,
        ``day`` (local day number, int32) and ``net`` (int64 fen), one row per
        customer-day.
    """
    empty = pd.DataFrame(
        {
            "id": part[names[0]].iloc[:0],
            "day": np.empty(0, dtype=np.int32),
            "net": np.empty(0, dtype=np.int64),
        }
    )
    if len(part) == 0:
        return (NO_DAYS, *(empty,) * n_buckets)
    _validate(part, cfg, names)
    day = local_days(part[names[1]], cfg.timezone)
    info = (int(day.min()), int(day.max()), 0)
    ids, money = part[names[0]], part[names[2]].to_numpy(dtype=np.int64)
    if as_of_day is not None and info[1] > as_of_day:
        keep = day <= as_of_day
        info = (info[0], info[1], int(len(day) - np.count_nonzero(keep)))
        ids, day, money = ids[keep], day[keep], money[keep]
        if len(day) == 0:
            return (info, *(empty,) * n_buckets)
    code, id_of = _codes(ids)
    day0 = int(day.min())
    span = int(day.max()) - day0 + 1
    key, net = _sum_per_key(code * span + (day - day0), money)
    code, offset = np.divmod(key, span)
    table = pd.DataFrame({"id": id_of(code), "day": (offset + day0).astype(np.int32), "net": net})
    return (info, *split_by_bucket(table, bucket_of(table["id"], n_buckets), n_buckets))


def customer_summaries(
    tables: list[pd.DataFrame],
    cfg: RFMLConfig,
    names: tuple[str, str, str],
    meta: tuple[pd.DataFrame, pd.DataFrame],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(customers, rejected)`` of one bucket from its customer-day tables.

    ``cfg.as_of`` must be the fixed global as-of date; the days are already
    local, so the kernel reads them in UTC.
    """
    days = pd.concat([t for t in tables if len(t)] or [tables[0]], ignore_index=True)
    if days.empty:
        return meta
    user_id, ts, amount_fen = TRANSACTION_COLUMNS
    nanoseconds = days["day"].to_numpy(dtype=np.int64) * _NS_PER_DAY
    frame = pd.DataFrame(
        {
            user_id: days["id"],
            ts: pd.Series(nanoseconds.view("datetime64[ns]")).dt.tz_localize("UTC"),
            amount_fen: days["net"].to_numpy(dtype=np.int64),
        }
    )
    try:
        columns, result = summary_columns(frame, cfg.replace(timezone="UTC"))
    except IndexError:
        # the kernel fails when no customer-day has a non-negative net (every customer
        # of the bucket refunded only); the log as a whole may still have purchases
        if (days.groupby(["id", "day"])["net"].sum() >= 0).any():
            raise
        ids = days["id"].drop_duplicates().reset_index(drop=True)
        return meta[0], pd.DataFrame({user_id: ids, "reason": _NO_PURCHASE})
    return pd.DataFrame(columns), result.rejected


def _validate(part: pd.DataFrame, cfg: RFMLConfig, names: tuple[str, str, str]) -> None:
    """Raise the engine's own message when the rows break its input contract."""
    customer_id, ts, amount = names
    check_frame(
        part,
        transaction_columns(customer_id, ts, amount, cfg),
        name="transactions",
        id_column=customer_id,
    )


def _codes(ids: pd.Series) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """Dense int64 codes for ids, and the function mapping codes back to ids."""
    dtype = ids.dtype
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = ids.to_numpy(dtype=np.int64)
        low = int(values.min())
        if int(values.max()) - low <= 4 * len(values) + 1024:

            def from_offset(codes: np.ndarray) -> Any:
                return pd.Series(codes + low).astype(dtype)

            return values - low, from_offset
    values = ids.to_numpy() if isinstance(dtype, np.dtype) else ids.array  # plain arrays
    codes, uniques = pd.factorize(values, sort=False)

    def from_uniques(codes: np.ndarray) -> Any:
        return pd.Series(uniques.take(codes))

    return codes.astype(np.int64), from_uniques


def _sum_per_key(key: np.ndarray, money: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (ascending) and the int64 sum of ``money`` per key.

    Sorts ``key`` in place with the row position packed into its low bits when
    that fits 62 bits (one ``sort`` of int64 instead of an ``argsort``).
    """
    index_bits = max(len(key) - 1, 1).bit_length()
    if int(key.max()).bit_length() + index_bits <= 62:
        key <<= index_bits
        key |= np.arange(len(key), dtype=np.int64)
        key.sort()
        order = key & ((1 << index_bits) - 1)
        key >>= index_bits
    else:
        order = np.argsort(key, kind="stable")
        key = key[order]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    return key[starts], np.add.reduceat(money[order], starts)
