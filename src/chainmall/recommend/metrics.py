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

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from chainmall._columns import canonical_frame, column_mapping
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
    columns: Mapping[str, str] | None = None,
    user_col: str | None = None,
    item_col: str | None = None,
) -> tuple[float, float]:
    """Mean precision@k and recall@k over the users of ``relevant``.

    ``recommendations`` has ``[user_id, item_id, rank]`` (rank from 1);
    ``relevant`` lists each user's relevant items (``user_id``, ``item_id``);
    ``columns={canonical: yours}`` names both frames' ids where they differ
    (``user_col=`` / ``item_col=`` are deprecated). Users without recommendations
    count as zero hits.
    """
    mapping = _ids(columns, user_col=user_col, item_col=item_col)
    recommendations = canonical_frame(
        recommendations, mapping, accepted=_IDS, name="recommendations"
    )
    relevant = canonical_frame(relevant, mapping, accepted=_IDS, name="relevant")
    pair = ["user_id", "item_id"]
    top = recommendations.loc[recommendations["rank"] <= k, pair]
    hits = top.merge(relevant[pair].drop_duplicates(), on=pair)
    n_rel = relevant.drop_duplicates(pair).groupby("user_id").size()
    n_hit = hits.groupby("user_id").size().reindex(n_rel.index, fill_value=0)
    return float((n_hit / k).mean()), float((n_hit / n_rel).mean())


def catalogue_coverage(
    recommendations: pd.DataFrame,
    n_items: int,
    *,
    columns: Mapping[str, str] | None = None,
    item_col: str | None = None,
) -> float:
    """Share of the ``n_items`` catalogue recommended to at least one user
    (``columns={"item_id": yours}``; ``item_col=`` is deprecated)."""
    mapping = _ids(columns, item_col=item_col)
    recommendations = canonical_frame(
        recommendations, mapping, accepted=_IDS, name="recommendations"
    )
    if n_items <= 0:
        raise DataValidationError(f"n_items must be positive, got {n_items}")
    return recommendations["item_id"].nunique() / n_items


def long_tail_share(
    recommendations: pd.DataFrame,
    interactions: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    item_col: str | None = None,
    head_share: float = 0.2,
) -> float:
    """Share of recommendations outside the head: the most popular items that
    together account for ``head_share`` of all ``interactions`` rows
    (``columns={"item_id": yours}`` for both frames; ``item_col=`` is deprecated)."""
    mapping = _ids(columns, item_col=item_col)
    recommendations = canonical_frame(
        recommendations, mapping, accepted=_IDS, name="recommendations"
    )
    interactions = canonical_frame(interactions, mapping, accepted=_IDS, name="interactions")
    counts = interactions["item_id"].value_counts()
    cumulative = counts.cumsum() / counts.sum()
    head = set(counts.index[(cumulative - counts / counts.sum()) < head_share])
    if recommendations.empty:
        return float("nan")
    return float((~recommendations["item_id"].isin(head)).mean())


_IDS = ("user_id", "item_id")
"""Canonical ids of the frames the ranking metrics read."""


def _ids(
    columns: Mapping[str, str] | None, *, user_col: str | None = None, item_col: str | None = None
) -> dict[str, str]:
    """The checked ``columns=`` mapping, deprecated ``user_col=`` / ``item_col=`` folded in."""
    legacy = {"user_col": ("user_id", user_col), "item_col": ("item_id", item_col)}
    return column_mapping(
        columns, accepted=_IDS, name="recommendations", legacy=legacy, stacklevel=4
    )
