"""Per-customer RFM-L summary of a transaction log, vectorised with numpy.

Rules (documented in ``docs/segment.md``):

* A *purchase* is a customer's calendar day (in ``config.timezone``) with activity:
  all rows of one customer on one day merge into one transaction (the BTYD
  convention; an ``order_id`` column is therefore not needed).
* Refunds: with ``allow_refunds=True`` negative amounts are netted against the
  same customer-day. A day whose net amount is negative is not a purchase; its
  net is reported as ``refund_fen`` and is not subtracted from spend. A customer
  with no purchase at all is returned in ``rejected`` with the reason.
* Events after ``as_of`` are ignored (their count is in ``n_rows_after_as_of``).

Kernel: factorize ids, one sort of ``customer * span + day`` keys, then
``np.add.reduceat`` / ``np.bincount`` over run boundaries. No groupby.apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from chainmall._columns import canonical_frame
from chainmall._validation import Column, check_frame
from chainmall.exceptions import DataValidationError
from chainmall.segment.config import UNIT_DAYS, RFMLConfig

__all__ = [
    "TRANSACTION_COLUMNS",
    "RFMLSummary",
    "canonical_transactions",
    "legacy_transaction_keywords",
    "local_days",
    "summarize",
    "summary_columns",
    "transaction_columns",
]

TRANSACTION_COLUMNS = ("user_id", "ts", "amount_fen")
"""Canonical columns of a transaction log: buyer, tz-aware instant, integer fen."""

_OLD_DEFAULTS = {"user_id": "customer_id", "amount_fen": "amount"}

_NS_PER_DAY = 86_400_000_000_000
_DAY_ZERO = pd.Timestamp("1970-01-01")


@dataclass(frozen=True)
class RFMLSummary:
    """Result of :func:`summarize`.

    Attributes:
        customers: one row per customer with at least one purchase (columns in
            ``docs/segment.md``: ``user_id, first_day, last_day, n_purchases, x, t_x, T,
            recency_days, tenure_days, relationship_days, monetary_fen,
            mean_spend_fen, mean_repeat_spend_fen, repeat_per_month, mean_gap_days,
            gap_cv, overdue_ratio, refund_fen``).
        rejected: customers with rows but no purchase (``user_id, reason``).
        as_of: the last observed calendar day (timezone-naive date).
        n_rows_after_as_of: rows ignored because they fall after ``as_of``.
    """

    customers: pd.DataFrame
    rejected: pd.DataFrame
    as_of: pd.Timestamp
    n_rows_after_as_of: int


def local_days(ts: pd.Series, timezone: str) -> np.ndarray:
    """Calendar day numbers (days since 1970-01-01) of tz-aware ``ts`` in ``timezone``."""
    local = ts.dt.tz_convert(timezone).dt.tz_localize(None)
    nanoseconds: np.ndarray = local.to_numpy().astype("datetime64[ns]").view("int64")
    return nanoseconds // _NS_PER_DAY


def legacy_transaction_keywords(
    customer_id: str | None, ts: str | None, amount: str | None
) -> dict[str, tuple[str, str | None]]:
    """The deprecated per-column keywords as ``{keyword: (canonical, value)}``."""
    return {
        "customer_id": ("user_id", customer_id),
        "ts": ("ts", ts),
        "amount": ("amount_fen", amount),
    }


def canonical_transactions(
    transactions: pd.DataFrame,
    columns: Mapping[str, str] | None,
    *,
    customer_id: str | None = None,
    ts: str | None = None,
    amount: str | None = None,
    stacklevel: int = 5,
) -> pd.DataFrame:
    """``transactions`` under the canonical names :data:`TRANSACTION_COLUMNS`.

    ``customer_id=``/``ts=``/``amount=`` are the deprecated per-column keywords, and a
    log still named ``customer_id``/``amount`` (the earlier defaults) is read with a
    :class:`FutureWarning`.
    """
    return canonical_frame(
        transactions,
        columns,
        accepted=TRANSACTION_COLUMNS,
        name="transactions",
        legacy=legacy_transaction_keywords(customer_id, ts, amount),
        old_defaults=_OLD_DEFAULTS,
        stacklevel=stacklevel,
    )


def transaction_columns(
    id_col: str, ts_col: str, amount_col: str, cfg: RFMLConfig
) -> tuple[Column, ...]:
    """The declared columns of a transaction log (amounts >= 0 unless refunds are allowed)."""
    refunds = (
        ""
        if cfg.allow_refunds
        else "negative amounts are refunds: pass allow_refunds=True to net them against the "
        "same customer-day, or remove them"
    )
    return (
        Column(id_col, "id"),
        Column(ts_col, "time"),
        Column(amount_col, "money", ge=None if cfg.allow_refunds else 0, range_fix=refunds),
    )


def _validate(
    frame: pd.DataFrame, id_col: str, ts_col: str, amount_col: str, cfg: RFMLConfig
) -> None:
    check_frame(
        frame,
        transaction_columns(id_col, ts_col, amount_col, cfg),
        name="transactions",
        id_column=id_col,
    )


def _as_of_day(cfg: RFMLConfig, days: np.ndarray) -> int:
    if cfg.as_of is None:
        return int(days.max())
    try:
        stamp = pd.Timestamp(cfg.as_of)
    except ValueError as exc:
        raise DataValidationError(f"as_of {cfg.as_of!r} is not a date: {exc}") from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(cfg.timezone).tz_localize(None)
    day = int((stamp.normalize() - _DAY_ZERO) // pd.Timedelta(days=1))
    first = int(days.min())
    if day < first:
        raise DataValidationError(
            f"as_of {cfg.as_of} is before the first transaction "
            f"({_DAY_ZERO + pd.Timedelta(days=first):%Y-%m-%d}); choose a later as_of"
        )
    return day


def summarize(
    transactions: pd.DataFrame,
    config: RFMLConfig | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    customer_id: str | None = None,
    ts: str | None = None,
    amount: str | None = None,
) -> RFMLSummary:
    """Summarise a transaction log into one RFM-L row per customer.

    Args:
        transactions: one row per order line: ``user_id``, ``ts`` (tz-aware),
            ``amount_fen`` (integer fen; negative = refund when allowed).
        config: engine settings (as-of day, time unit, time zone, refund rule).
        columns: your column names where they differ, ``{canonical: yours}``, e.g.
            ``{"user_id": "openid", "ts": "paid_at", "amount_fen": "paid_fen"}``.
        customer_id, ts, amount: deprecated; use ``columns=``.

    Returns:
        :class:`RFMLSummary` keyed by ``user_id``; measures in days, fen, and
        ``config.time_unit`` for the model axis ``t_x`` and ``T``.
    """
    frame = canonical_transactions(
        transactions, columns, customer_id=customer_id, ts=ts, amount=amount
    )
    arrays, result = summary_columns(frame, config or RFMLConfig())
    return replace(result, customers=pd.DataFrame(arrays))


def summary_columns(
    transactions: pd.DataFrame, cfg: RFMLConfig
) -> tuple[dict[str, Any], RFMLSummary]:
    """The summary as a dict of column arrays, and the result without ``customers``.

    ``transactions`` carries the canonical names (:func:`canonical_transactions`).
    """
    user_id, ts, amount = TRANSACTION_COLUMNS
    _validate(transactions, user_id, ts, amount, cfg)
    day = local_days(transactions[ts], cfg.timezone)
    as_of = _as_of_day(cfg, day)
    keep = day <= as_of
    n_after = int(len(day) - np.count_nonzero(keep))
    codes, decode = _encode_ids(transactions[user_id], as_of - int(day.min()) + 1)
    money = transactions[amount].to_numpy(dtype=np.int64)
    if n_after:
        codes, day, money = codes[keep], day[keep], money[keep]
    columns, rejected = _kernel(codes, day, money, as_of, cfg)
    columns = {user_id: decode(columns.pop("code")), **columns}
    rejected_frame = pd.DataFrame(
        {user_id: decode(rejected), "reason": "no day with a non-negative net amount"}
    )
    result = RFMLSummary(
        customers=pd.DataFrame(),
        rejected=rejected_frame,
        as_of=_DAY_ZERO + pd.Timedelta(days=as_of),
        n_rows_after_as_of=n_after,
    )
    return columns, result


def _encode_ids(ids: pd.Series, span: int) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """Integer codes for customer ids and the function mapping codes back to ids.

    Integer ids whose range times ``span`` days fits the packed sort key are used
    as codes directly (offset by the minimum), which skips hashing; other ids are
    factorized.
    """
    if pd.api.types.is_integer_dtype(ids.dtype) and not pd.api.types.is_bool_dtype(ids.dtype):
        values = ids.to_numpy(dtype=np.int64)
        low, high = int(values.min()), int(values.max())
        if ((high - low + 1) * span).bit_length() + len(values).bit_length() <= 62:
            dtype = ids.dtype

            def decode_int(codes: np.ndarray) -> Any:
                return pd.Series(codes + low).astype(dtype).to_numpy()

            return values - low, decode_int
    codes, uniques = pd.factorize(ids, sort=False)

    def decode(codes: np.ndarray) -> Any:
        return uniques.take(codes)

    return codes.astype(np.int64), decode


def _run_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Positions where a run of equal values begins in a sorted array."""
    change = np.empty(len(sorted_values), dtype=bool)
    change[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=change[1:])
    return np.flatnonzero(change)


def _sorted_keys(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sorted key, order)``; sorts ``key`` in place (it must be a private array).

    The row index is packed into the key's low bits when it fits: sorting one
    int64 array is ~3x faster than ``argsort``.
    """
    index_bits = max(len(key) - 1, 1).bit_length()
    if int(key.max()).bit_length() + index_bits > 62:
        order = np.argsort(key, kind="stable")
        return key[order], order
    key <<= index_bits
    key |= np.arange(len(key), dtype=np.int64)
    key.sort()
    order = key & ((1 << index_bits) - 1)
    key >>= index_bits
    return key, order


def _kernel(
    codes: np.ndarray, day: np.ndarray, money: np.ndarray, as_of: int, cfg: RFMLConfig
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Aggregate (customer code, day, fen) rows; returns (customer columns, rejected codes)."""
    day0 = int(day.min())
    span = as_of - day0 + 1
    key = codes * span
    key += day
    key -= day0
    key, order = _sorted_keys(key)
    starts = _run_starts(key)
    day_key = key[starts]
    net = np.add.reduceat(money[order], starts)
    tx_code, tx_day = np.divmod(day_key, span)
    tx_day += day0
    refund_day = net < 0
    all_codes = tx_code[_run_starts(tx_code)]
    refund = np.zeros(len(all_codes), dtype=np.int64)
    if refund_day.any():
        refund = np.bincount(
            np.searchsorted(all_codes, tx_code[refund_day]),
            weights=-net[refund_day],
            minlength=len(all_codes),
        ).astype(np.int64)
        keep = ~refund_day
        tx_code, tx_day, net = tx_code[keep], tx_day[keep], net[keep]
    cust_start = _run_starts(tx_code)
    code = tx_code[cust_start]
    has_purchase = np.isin(all_codes, code, assume_unique=True)
    rejected = all_codes[~has_purchase]
    refund_fen = refund[has_purchase]
    n = np.diff(np.append(cust_start, len(tx_code)))
    first = tx_day[cust_start]
    last = tx_day[np.append(cust_start[1:], len(tx_code)) - 1]
    spend = np.add.reduceat(net, cust_start)
    first_spend = net[cust_start]
    # squared gaps between consecutive purchase days, zeroed across customers
    gap_sq = np.empty(len(tx_day), dtype=np.int64)
    np.subtract(tx_day[1:], tx_day[:-1], out=gap_sq[1:])
    gap_sq *= gap_sq
    gap_sq[cust_start] = 0
    gap_sq = np.add.reduceat(gap_sq, cust_start)
    unit = UNIT_DAYS[cfg.time_unit]
    x = n - 1
    relationship = (last - first).astype(np.int64)
    tenure = (as_of - first).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_gap = np.where(x > 0, relationship / np.maximum(x, 1), np.nan)
        var_gap = np.where(x > 1, gap_sq / np.maximum(x, 1) - mean_gap**2, np.nan)
        gap_cv = np.sqrt(np.maximum(var_gap, 0.0)) / mean_gap
        recency_days = (as_of - last).astype(np.int64)
        overdue = recency_days / mean_gap
    columns = {
        "code": code,
        "first_day": (first.astype("datetime64[D]")).astype("datetime64[ns]"),
        "last_day": (last.astype("datetime64[D]")).astype("datetime64[ns]"),
        "n_purchases": n.astype(np.int64),
        "x": x.astype(np.int64),
        "t_x": relationship / unit,
        "T": tenure / unit,
        "recency_days": recency_days,
        "tenure_days": tenure,
        "relationship_days": relationship,
        "monetary_fen": spend.astype(np.int64),
        "mean_spend_fen": spend / n,
        "mean_repeat_spend_fen": np.where(x > 0, (spend - first_spend) / np.maximum(x, 1), 0.0),
        "repeat_per_month": x / np.maximum(tenure, 1) * UNIT_DAYS["month"],
        "mean_gap_days": mean_gap,
        "gap_cv": gap_cv,
        "overdue_ratio": overdue,
        "refund_fen": refund_fen,
    }
    return columns, rejected
