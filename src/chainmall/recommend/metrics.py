"""Accuracy and ranking metrics.

Rating error: ``RMSE = sqrt(mean((r̂ − r)²))``, ``MAE = mean(|r̂ − r|)`` and the
normalised MAE ``NMAE = MAE / (r_max − r_min)`` (a share of the rating scale;
quoted as a percentage, NMAE 0.18 on a 1-5 scale is "18%", i.e. MAE 0.72).

Ranking with one held-out item per user, whose 0-based position among the
candidates is ``rank``: ``HR@k = mean(rank < k)``,
``NDCG@k = mean(1 / log2(rank + 2) if rank < k else 0)`` (the ideal DCG is 1).
For lists against sets of relevant items: precision@k, recall@k; catalogue
coverage is the share of items recommended to anyone; long-tail share is the
share of recommendations outside the most popular items that make up
``head_share`` of the interactions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from chainmall.exceptions import DataValidationError

__all__ = [
    "catalogue_coverage",
    "hit_rate_at_k",
    "long_tail_share",
    "mae",
    "ndcg_at_k",
    "normalised_mae",
    "precision_recall_at_k",
    "rmse",
]


def _pair(predicted: Any, actual: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    p = np.asarray(predicted, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if p.shape != a.shape or p.size == 0:
        raise DataValidationError(
            f"predicted and actual must be non-empty and equally long, got {p.shape} and {a.shape}"
        )
    return p, a


def rmse(predicted: Any, actual: Any) -> float:
    """Root mean squared error (rating units)."""
    p, a = _pair(predicted, actual)
    return float(np.sqrt(np.mean((p - a) ** 2)))


def mae(predicted: Any, actual: Any) -> float:
    """Mean absolute error (rating units)."""
    p, a = _pair(predicted, actual)
    return float(np.mean(np.abs(p - a)))


def normalised_mae(predicted: Any, actual: Any, rating_min: float, rating_max: float) -> float:
    """``MAE / (rating_max − rating_min)``: MAE as a share of the rating scale."""
    if rating_max <= rating_min:
        raise DataValidationError(
            f"rating_max ({rating_max}) must exceed rating_min ({rating_min})"
        )
    return mae(predicted, actual) / (rating_max - rating_min)


def hit_rate_at_k(ranks: Any, k: int) -> float:
    """Share of users whose held-out item has 0-based ``rank < k``."""
    r = np.asarray(ranks)
    return float(np.mean(r < k)) if r.size else float("nan")


def ndcg_at_k(ranks: Any, k: int) -> float:
    """Mean NDCG@k with one relevant item per user at 0-based ``ranks``."""
    r = np.asarray(ranks, dtype=np.float64)
    if r.size == 0:
        return float("nan")
    return float(np.mean(np.where(r < k, 1.0 / np.log2(r + 2.0), 0.0)))


def precision_recall_at_k(
    recommendations: pd.DataFrame,
    relevant: pd.DataFrame,
    k: int,
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
) -> tuple[float, float]:
    """Mean precision@k and recall@k over the users of ``relevant``.

    ``recommendations`` has ``[user_col, item_col, rank]`` (rank from 1);
    ``relevant`` lists each user's relevant items. Users without
    recommendations count as zero hits.
    """
    top = recommendations.loc[recommendations["rank"] <= k, [user_col, item_col]]
    hits = top.merge(relevant[[user_col, item_col]].drop_duplicates(), on=[user_col, item_col])
    n_rel = relevant.drop_duplicates([user_col, item_col]).groupby(user_col).size()
    n_hit = hits.groupby(user_col).size().reindex(n_rel.index, fill_value=0)
    return float((n_hit / k).mean()), float((n_hit / n_rel).mean())


def catalogue_coverage(
    recommendations: pd.DataFrame, n_items: int, *, item_col: str = "item_id"
) -> float:
    """Share of the ``n_items`` catalogue recommended to at least one user."""
    if n_items <= 0:
        raise DataValidationError(f"n_items must be positive, got {n_items}")
    return recommendations[item_col].nunique() / n_items


def long_tail_share(
    recommendations: pd.DataFrame,
    interactions: pd.DataFrame,
    *,
    item_col: str = "item_id",
    head_share: float = 0.2,
) -> float:
    """Share of recommendations outside the head: the most popular items that
    together account for ``head_share`` of all ``interactions`` rows."""
    counts = interactions[item_col].value_counts()
    cumulative = counts.cumsum() / counts.sum()
    head = set(counts.index[(cumulative - counts / counts.sum()) < head_share])
    if recommendations.empty:
        return float("nan")
    return float((~recommendations[item_col].isin(head)).mean())
