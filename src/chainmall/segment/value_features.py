"""Per-customer features and window labels at a cut-off day, for the time-split value model.

Every feature is read from :func:`~chainmall.segment.summarize` summaries of the
same log at the cut-off and at days before it, so purchases and refunds follow
the summary's rules (a purchase = a customer-day with a non-negative net).
Features are chosen to mean the same thing at any cut-off (recency, counts in
fixed recent windows, rank-based RFM scores, the purchase model's own
forecast), because the model is trained at an earlier cut-off than the one it
scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainmall.segment.btyd import _PurchaseModel
from chainmall.segment.config import UNIT_DAYS, RFMLConfig
from chainmall.segment.rfml import summarize
from chainmall.segment.rules import score

__all__ = ["FEATURES", "RECENT_DAYS", "Cut", "add_model_features", "cut_at", "purchases_between"]

RECENT_DAYS = (28, 56, 91)
"""Windows before the cut-off whose purchase counts are features (days)."""

FEATURES = (
    "x",
    "recency",
    "t_x_share",
    "rate",
    "monetary_fen",
    "mean_spend_fen",
    "mean_repeat_spend_fen",
    *(f"purchases_last_{days}d" for days in RECENT_DAYS),
    "rfm_sum",
    "p_alive",
    "expected",
    "p_buy",
)
"""Columns the gradient-boosted ranker reads (``expected``/``p_buy`` over the window)."""


@dataclass(frozen=True)
class Cut:
    """Customers summarised at one cut-off day.

    Attributes:
        day: the cut-off (timezone-naive date, inclusive).
        customers: the summary at ``day`` (one row per customer).
        features: model-free features, one row per customer, same order.
    """

    day: pd.Timestamp
    customers: pd.DataFrame
    features: pd.DataFrame


def _summary(transactions: pd.DataFrame, cfg: RFMLConfig, day: pd.Timestamp) -> pd.DataFrame | None:
    """Summary at ``day``; None when ``day`` is before the first purchase.

    ``transactions`` carries the canonical names (``user_id``, ``ts``, ``amount_fen``).
    """
    first = transactions["ts"].min().tz_convert(cfg.timezone).tz_localize(None)
    if day < first.normalize():
        return None
    return summarize(transactions, cfg.replace(as_of=day.strftime("%Y-%m-%d"))).customers


def purchases_between(
    transactions: pd.DataFrame,
    cfg: RFMLConfig,
    ids: pd.Index,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> np.ndarray:
    """Purchases of each of ``ids`` on days in ``(start, end]`` (int64, 0 if none)."""
    later = _n_purchases(transactions, cfg, ids, end)
    return np.asarray(later - _n_purchases(transactions, cfg, ids, start))


def _n_purchases(
    transactions: pd.DataFrame, cfg: RFMLConfig, ids: pd.Index, day: pd.Timestamp
) -> np.ndarray:
    summary = _summary(transactions, cfg, day)
    if summary is None:
        return np.zeros(len(ids), dtype=np.int64)
    counts = pd.Series(summary["n_purchases"].to_numpy(), index=pd.Index(summary["user_id"]))
    return counts.reindex(ids, fill_value=0).to_numpy(dtype=np.int64)


def cut_at(transactions: pd.DataFrame, cfg: RFMLConfig, day: pd.Timestamp) -> Cut | None:
    """Summary and model-free features at ``day``; None when nobody has bought by then."""
    customers = _summary(transactions, cfg, day)
    if customers is None or len(customers) == 0:
        return None
    ids = pd.Index(customers["user_id"])
    T = customers["T"].to_numpy(dtype=np.float64)
    t_x = customers["t_x"].to_numpy(dtype=np.float64)
    x = customers["x"].to_numpy(dtype=np.float64)
    scored = score(customers, cfg)
    features = {
        "x": x,
        "recency": T - t_x,
        "t_x_share": np.divide(t_x, T, out=np.ones_like(T), where=T > 0),
        "rate": x / np.maximum(T, 1.0 / UNIT_DAYS[cfg.time_unit]),
        "monetary_fen": customers["monetary_fen"].to_numpy(dtype=np.float64),
        "mean_spend_fen": customers["mean_spend_fen"].to_numpy(dtype=np.float64),
        "mean_repeat_spend_fen": customers["mean_repeat_spend_fen"].to_numpy(dtype=np.float64),
        "rfm_sum": (scored.r_score + scored.f_score + scored.m_score).to_numpy(np.float64),
    }
    for days in RECENT_DAYS:
        start = day - pd.Timedelta(days=days)
        features[f"purchases_last_{days}d"] = purchases_between(
            transactions, cfg, ids, start, day
        ).astype(np.float64)
    return Cut(day=day, customers=customers, features=pd.DataFrame(features))


def add_model_features(cut: Cut, model: _PurchaseModel, horizon: float) -> pd.DataFrame:
    """The cut's features plus the purchase model's ``p_alive``, ``expected`` and ``p_buy``.

    ``horizon`` is in the summary's time unit.
    """
    customers = cut.customers
    return cut.features.assign(
        p_alive=model.p_alive(customers).to_numpy(),
        expected=model.expected_purchases(horizon, customers).to_numpy(),
        p_buy=1.0 - model.p_no_purchase(horizon, customers).to_numpy(),
    )
