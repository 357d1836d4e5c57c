"""Churn warnings: alert records with evidence and a suggested action.

Three rules, each producing its own alert row (a customer can have several):

* ``inactive``: days since the last purchase reach the customer's inactivity
  window: by default ``rhythm_multiple`` (1.5) times their own mean gap between
  purchases, and for one-time buyers that multiple of the median mean gap of the
  repeat buyers (the shop's rhythm); or a fixed ``inactivity_days``. (The
  source paper's 3 days without a visit is a rule for mini-program visits: apply
  it to :func:`chainmall.events.visit_log` with ``inactivity_days=3``. On
  purchase data it flags nearly everyone: 99% of CDNOW customers.)
* ``overdue``: days since the last purchase at least ``overdue_ratio`` times the
  customer's own mean gap between purchases (customers with >= 2 purchases);
* ``model``: a fitted purchase model's probability of no purchase in the next
  ``horizon_days`` is at least ``p_no_purchase``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from chainmall.exceptions import DataValidationError
from chainmall.segment.config import UNIT_DAYS, ChurnConfig, RFMLConfig
from chainmall.segment.rfml import canonical_transactions, summarize

__all__ = ["ALERT_COLUMNS", "churn_alerts", "inactivity_window"]

ALERT_COLUMNS = ("reason", "value", "threshold", "evidence", "action", "coupon_fen")
"""Columns of the alert frame after the customer id column."""


def churn_alerts(
    transactions: pd.DataFrame,
    now: str,
    config: RFMLConfig | None = None,
    *,
    model: Any = None,
    columns: Mapping[str, str] | None = None,
    customer_id: str | None = None,
    ts: str | None = None,
    amount: str | None = None,
) -> pd.DataFrame:
    """Alerts for every customer who trips a churn rule at ``now``.

    Args:
        transactions: order lines (see :func:`~chainmall.segment.summarize`);
            events after ``now`` are ignored.
        now: the day the alerts are for (ISO date in ``config.timezone``).
        config: engine settings; thresholds in ``config.churn``.
        model: optional fitted :class:`~chainmall.segment.ParetoNBD` (or BG/NBD,
            MBG/NBD) for the model-based rule; fitted on the same time unit.
        columns: your column names where they differ, ``{canonical: yours}``
            (canonical: ``user_id``, ``ts``, ``amount_fen``).
        customer_id, ts, amount: deprecated; use ``columns=``.

    Returns:
        One row per (customer, reason): ``user_id`` then :data:`ALERT_COLUMNS`,
        sorted by customer id and reason.
    """
    cfg = (config or RFMLConfig()).replace(as_of=_day_text(now))
    rules = cfg.churn
    frame = canonical_transactions(
        transactions, columns, customer_id=customer_id, ts=ts, amount=amount
    )
    customers = summarize(frame, cfg).customers
    ids = customers["user_id"].to_numpy()
    days = customers["recency_days"].to_numpy(dtype=np.float64)
    window = inactivity_window(customers, rules)
    hit = days >= window
    parts = [
        _alerts(
            ids[hit],
            "inactive",
            days[hit],
            window[hit],
            " days since last purchase",
            "send a reminder message",
            0,
        )
    ]
    overdue = customers["overdue_ratio"].to_numpy(dtype=np.float64)
    hit = np.nan_to_num(overdue, nan=0.0) >= rules.overdue_ratio
    parts.append(
        _alerts(
            ids[hit],
            "overdue",
            overdue[hit],
            rules.overdue_ratio,
            "x own mean gap since last purchase",
            "offer a coupon",
            rules.coupon_fen,
        )
    )
    if model is not None:
        horizon = rules.horizon_days / UNIT_DAYS[cfg.time_unit]
        quiet = model.p_no_purchase(horizon, customers).to_numpy()
        hit = quiet >= rules.p_no_purchase
        parts.append(
            _alerts(
                ids[hit],
                "model",
                quiet[hit],
                rules.p_no_purchase,
                f" = P(no purchase in next {rules.horizon_days} days)",
                "offer a win-back coupon",
                rules.coupon_fen,
            )
        )
    out = pd.concat(parts, ignore_index=True).rename(columns={"customer": "user_id"})
    return out.sort_values(["user_id", "reason"], kind="stable", ignore_index=True)


def _day_text(now: object) -> str:
    """``now`` as an ISO date string (a date, a Timestamp or an ISO string)."""
    if isinstance(now, pd.Timestamp | datetime.date):
        return pd.Timestamp(now).strftime("%Y-%m-%d")
    if not isinstance(now, str):
        raise DataValidationError(
            f"now must be an ISO date such as '2025-03-31', got {type(now).__name__} {now!r}"
        )
    try:
        pd.Timestamp(now)
    except ValueError:
        raise DataValidationError(
            f"now must be an ISO date such as '2025-03-31', got {now!r}"
        ) from None
    return now


def inactivity_window(customers: pd.DataFrame, rules: ChurnConfig) -> np.ndarray:
    """Days without a purchase after which each customer counts as inactive.

    A fixed ``rules.inactivity_days``, or ``rules.rhythm_multiple`` times the
    customer's mean gap between purchases (one-time buyers: times the median mean
    gap of the repeat buyers; 30 days when nobody has bought twice), at least 1 day.
    """
    if rules.inactivity_days is not None:
        return np.full(len(customers), float(rules.inactivity_days))
    gaps = customers["mean_gap_days"].to_numpy(dtype=np.float64)
    repeat = ~np.isnan(gaps)
    shop = float(np.median(gaps[repeat])) if repeat.any() else _NO_RHYTHM_DAYS
    own = np.where(repeat, gaps, shop)
    return np.asarray(np.maximum(rules.rhythm_multiple * own, 1.0))


_NO_RHYTHM_DAYS = 30.0


def _alerts(
    ids: np.ndarray,
    reason: str,
    values: np.ndarray,
    threshold: float | np.ndarray,
    text: str,
    action: str,
    coupon_fen: int,
) -> pd.DataFrame:
    """Alert rows; ``evidence`` is the value (2 decimals), ``text`` and the threshold."""
    limit = np.broadcast_to(np.asarray(threshold, dtype=np.float64), values.shape)
    evidence = (
        pd.Series(np.round(values, 2)).astype(str)
        + text
        + " (threshold "
        + pd.Series(np.round(limit, 2)).astype(str)
        + ")"
    )
    return pd.DataFrame(
        {
            "customer": ids,
            "reason": reason,
            "value": values.astype(np.float64),
            "threshold": limit,
            "evidence": evidence,
            "action": action,
            "coupon_fen": np.int64(coupon_fen),
        }
    )
