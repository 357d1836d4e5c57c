"""Churn warnings: alert records with evidence and a suggested action.

Three rules, each producing its own alert row (a customer can have several):

* ``inactive``: at least ``inactivity_days`` calendar days since the last
  purchase (default 3, the rule of the source paper);
* ``overdue``: days since the last purchase at least ``overdue_ratio`` times the
  customer's own mean gap between purchases (customers with >= 2 purchases);
* ``model``: a fitted purchase model's probability of no purchase in the next
  ``horizon_days`` is at least ``p_no_purchase``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chainmall.segment.config import UNIT_DAYS, RFMLConfig
from chainmall.segment.rfml import summarize

__all__ = ["ALERT_COLUMNS", "churn_alerts"]

ALERT_COLUMNS = ["reason", "value", "threshold", "evidence", "action", "coupon_fen"]
"""Columns of the alert frame after the customer id column."""


def churn_alerts(
    transactions: pd.DataFrame,
    now: str,
    config: RFMLConfig | None = None,
    *,
    model: Any = None,
    customer_id: str = "customer_id",
    ts: str = "ts",
    amount: str = "amount",
) -> pd.DataFrame:
    """Alerts for every customer who trips a churn rule at ``now``.

    Args:
        transactions: order lines (see :func:`~chainmall.segment.summarize`);
            events after ``now`` are ignored.
        now: the day the alerts are for (ISO date in ``config.timezone``).
        config: engine settings; thresholds in ``config.churn``.
        model: optional fitted :class:`~chainmall.segment.ParetoNBD` (or BG/NBD,
            MBG/NBD) for the model-based rule; fitted on the same time unit.
        customer_id: name of the customer id column.
        ts: name of the timestamp column.
        amount: name of the amount column (integer fen).

    Returns:
        One row per (customer, reason): ``customer_id`` then :data:`ALERT_COLUMNS`,
        sorted by customer id and reason.
    """
    cfg = (config or RFMLConfig()).replace(as_of=now)
    rules = cfg.churn
    customers = summarize(
        transactions, cfg, customer_id=customer_id, ts=ts, amount=amount
    ).customers
    ids = customers[customer_id].to_numpy()
    parts = []
    days = customers["recency_days"].to_numpy(dtype=np.float64)
    hit = days >= rules.inactivity_days
    parts.append(
        _alerts(
            ids[hit],
            "inactive",
            days[hit],
            float(rules.inactivity_days),
            f" days since last purchase (threshold {rules.inactivity_days})",
            "send a reminder message",
            0,
        )
    )
    overdue = customers["overdue_ratio"].to_numpy(dtype=np.float64)
    hit = np.nan_to_num(overdue, nan=0.0) >= rules.overdue_ratio
    parts.append(
        _alerts(
            ids[hit],
            "overdue",
            overdue[hit],
            rules.overdue_ratio,
            f"x own mean gap since last purchase (threshold {rules.overdue_ratio}x)",
            "offer a coupon",
            rules.coupon_fen,
        )
    )
    if model is not None:
        horizon = rules.horizon_days / UNIT_DAYS[cfg.time_unit]
        quiet = model.p_no_purchase(horizon, customers)
        hit = quiet >= rules.p_no_purchase
        parts.append(
            _alerts(
                ids[hit],
                "model",
                quiet[hit],
                rules.p_no_purchase,
                f" = P(no purchase in next {rules.horizon_days} days) "
                f"(threshold {rules.p_no_purchase})",
                "offer a win-back coupon",
                rules.coupon_fen,
            )
        )
    out = pd.concat(parts, ignore_index=True).rename(columns={"customer": customer_id})
    return out.sort_values([customer_id, "reason"], kind="stable", ignore_index=True)


def _alerts(
    ids: np.ndarray,
    reason: str,
    values: np.ndarray,
    threshold: float,
    text: str,
    action: str,
    coupon_fen: int,
) -> pd.DataFrame:
    """Alert rows; ``evidence`` is the value (2 decimals) followed by ``text``."""
    evidence = pd.Series(np.round(values, 2)).astype(str) + text
    return pd.DataFrame(
        {
            "customer": ids,
            "reason": reason,
            "value": values.astype(np.float64),
            "threshold": threshold,
            "evidence": evidence,
            "action": action,
            "coupon_fen": np.int64(coupon_fen),
        }
    )
