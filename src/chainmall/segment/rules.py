"""RFM-L scores, the segment grid (validated) and the three action classes.

Tie rule: with ``binning="quantile"`` a customer's score on a measure is
``1 + floor(bins * w / (n - 1))``, clipped to ``bins``, where ``w`` is the number
of customers strictly worse and ``n`` the number of customers (the worst gets 1,
the best ``bins``).
It depends only on the customer's own value and the distribution, so equal
customers always get equal scores, and the order of rows never matters.
Better = more recent, more purchases, more spend, more loyal (lower ``gap_cv``);
a missing value (``gap_cv`` below three purchases) scores 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import Column, check_frame
from chainmall.segment.config import RFMLConfig
from chainmall.segment.rfml import RFMLSummary, canonical_transactions, summary_columns

__all__ = [  # the module's surface, also read by chainmall.distributed's Dask twin
    "LOWER_IS_BETTER",
    "assign_segments",
    "measure_columns",
    "measure_rules",
    "score",
    "segment_customers",
]

LOWER_IS_BETTER = frozenset({"recency_days", "gap_cv"})
"""Summary columns where a smaller value earns a higher score."""


def measure_columns(cfg: RFMLConfig) -> dict[str, str]:
    """Summary column scored for each measure (recency, frequency, monetary, loyalty)."""
    monetary = "monetary_fen" if cfg.monetary == "total" else "mean_spend_fen"
    return {
        "recency": "recency_days",
        "frequency": "n_purchases",
        "monetary": monetary,
        "loyalty": cfg.loyalty,
    }


def measure_rules(cfg: RFMLConfig) -> list[Column]:
    """Declared summary columns scored by :func:`score` (a loyalty of NaN scores 1)."""
    columns = measure_columns(cfg)
    return [
        Column(columns["recency"], "number", ge=0),
        Column(columns["frequency"], "number", ge=0),
        Column(columns["monetary"], "number"),
        Column(columns["loyalty"], "number", nullable=True),
    ]


def _quantile_score(values: np.ndarray, bins: int, lower_is_better: bool) -> np.ndarray:
    goodness = -values if lower_is_better else values
    missing = np.isnan(goodness) if goodness.dtype.kind == "f" else np.zeros(len(goodness), bool)
    worse = _count_strictly_worse(goodness) + int(missing.sum())
    scores = np.minimum(1 + (bins * worse) // max(len(goodness) - 1, 1), bins)
    scores[missing] = 1
    return np.asarray(scores, dtype=np.int8)


def _count_strictly_worse(goodness: np.ndarray) -> np.ndarray:
    """For each value, how many non-NaN values are strictly smaller."""
    if goodness.dtype.kind in "iu" and len(goodness):
        low = int(goodness.min())
        if int(goodness.max()) - low <= 4 * len(goodness):  # counting, no sort
            shifted = goodness - low
            counts = np.bincount(shifted)
            return np.asarray((np.cumsum(counts) - counts)[shifted])
    order = np.argsort(goodness)  # NaN sort last; they are overwritten by the caller
    ordered = goodness[order]
    run_start = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    worse = np.empty(len(ordered), dtype=np.int64)
    worse[order] = np.maximum.accumulate(np.where(run_start, np.arange(len(ordered)), 0))
    return worse


def _fixed_score(
    values: np.ndarray, edges: Sequence[float], bins: int, lower_is_better: bool
) -> np.ndarray:
    values = values.astype(np.float64)
    level = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right") + 1
    if lower_is_better:
        level = bins + 1 - level
    level = np.where(np.isnan(values), 1, level)
    return level.astype(np.int8)


def score(customers: pd.DataFrame, config: RFMLConfig | None = None) -> pd.DataFrame:
    """Scores 1..bins for R, F, M, L plus ``fm_score`` = round-half-up mean of F and M.

    Args:
        customers: the ``customers`` frame of :func:`~chainmall.segment.summarize`.
        config: binning settings.

    Returns:
        A new frame: the input columns plus ``r_score, f_score, m_score, l_score,
        fm_score`` (int8).
    """
    cfg = config or RFMLConfig()
    check_frame(
        customers, measure_rules(cfg), name="customers", id_column="user_id", allow_empty=True
    )
    return customers.assign(**score_columns({str(k): v for k, v in customers.items()}, cfg))


def score_columns(customers: Mapping[str, Any], cfg: RFMLConfig) -> dict[str, np.ndarray]:
    """Score arrays from summary columns (a frame or a dict of arrays)."""
    out: dict[str, np.ndarray] = {}
    for measure, column in measure_columns(cfg).items():
        values = np.asarray(customers[column])
        lower = column in LOWER_IS_BETTER
        if cfg.binning == "quantile":
            scores = _quantile_score(values, cfg.bins, lower)
        else:
            scores = _fixed_score(values, cfg.edges[measure], cfg.bins, lower)  # type: ignore[index]
        out[f"{measure[0]}_score"] = scores
    f = out["f_score"].astype(np.int16)
    m = out["m_score"].astype(np.int16)
    out["fm_score"] = ((f + m + 1) // 2).astype(np.int8)
    return out


def assign_segments(scored: pd.DataFrame, config: RFMLConfig | None = None) -> pd.DataFrame:
    """Add ``segment`` and ``segment_class`` (categoricals) from ``r_score`` and ``fm_score``."""
    cfg = config or RFMLConfig()
    rules = [Column(c, "count", ge=1, le=cfg.bins) for c in ("r_score", "fm_score")]
    check_frame(scored, rules, name="scored", id_column="user_id", allow_empty=True)
    return scored.assign(**segment_columns(scored["r_score"], scored["fm_score"], cfg))


def segment_columns(r_score: Any, fm_score: Any, cfg: RFMLConfig) -> dict[str, Any]:
    """``segment`` and ``segment_class`` categoricals for score arrays."""
    lookup = np.zeros((cfg.bins + 1, cfg.bins + 1), dtype=np.int16)
    for position, rule in enumerate(cfg.grid):
        lookup[rule.r[0] : rule.r[1] + 1, rule.fm[0] : rule.fm[1] + 1] = position
    index = lookup[np.asarray(r_score, dtype=np.int64), np.asarray(fm_score, dtype=np.int64)]
    names = [rule.name for rule in cfg.grid]
    class_of = {member: cls for cls, members in cfg.classes.items() for member in members}
    class_names = list(cfg.classes)
    class_index = np.array([class_names.index(class_of[n]) for n in names], dtype=np.int16)
    return {
        "segment": pd.Categorical.from_codes(index, categories=pd.Index(names)),
        "segment_class": pd.Categorical.from_codes(
            class_index[index], categories=pd.Index(class_names)
        ),
    }


def segment_customers(
    transactions: pd.DataFrame,
    config: RFMLConfig | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    customer_id: str | None = None,
    ts: str | None = None,
    amount: str | None = None,
) -> RFMLSummary:
    """Summary, scores and segments in one call; ``customers`` carries all columns.

    ``transactions`` and ``columns`` are as in :func:`~chainmall.segment.summarize`
    (``customer_id``, ``ts``, ``amount`` are its deprecated keywords).
    """
    cfg = config or RFMLConfig()
    frame = canonical_transactions(
        transactions, columns, customer_id=customer_id, ts=ts, amount=amount
    )
    arrays, result = summary_columns(frame, cfg)
    arrays.update(score_columns(arrays, cfg))
    arrays.update(segment_columns(arrays["r_score"], arrays["fm_score"], cfg))
    return replace(result, customers=pd.DataFrame(arrays))
