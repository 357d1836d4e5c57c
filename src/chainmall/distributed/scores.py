"""Global quantile score edges of RFM-L measures from customer partitions, and scoring by them.

A quantile score depends on the whole distribution (``1 + floor(bins * w / (n - 1))``
with ``w`` customers strictly worse). Each partition counts its distinct values
per measure; the counts are merged in a tree and turned into at most ``bins - 1``
thresholds per measure; each partition then scores its customers with
``searchsorted`` against them: exactly the single-machine rule, ties included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import check_frame
from chainmall.distributed._dask import dask_module, delayed, tree_reduce
from chainmall.distributed._sources import as_dask
from chainmall.exceptions import DataValidationError
from chainmall.segment import RFMLConfig, assign_segments
from chainmall.segment.rules import LOWER_IS_BETTER, measure_columns, measure_rules

__all__ = [
    "ScoreEdges",
    "ValueCounts",
    "apply_scores",
    "edges_from_counts",
    "merge_counts",
    "score_edges",
    "thresholds",
    "value_counts",
]

ValueCounts = tuple[np.ndarray, np.ndarray, int]
"""Distinct oriented values of a measure, their counts, and the count of missing values."""


@dataclass(frozen=True)
class ScoreEdges:
    """Global quantile score thresholds, one array per summary column.

    A customer's score on a measure is ``1 + searchsorted(thresholds, g, "right")``
    where ``g`` is the value oriented so that larger is better (negated for
    ``recency_days`` and ``gap_cv``); a missing value scores 1. Thresholds are
    in that oriented scale; at most ``bins - 1`` per column.

    Attributes:
        thresholds: column name -> non-decreasing thresholds.
        n_customers: customers the edges were computed from.
    """

    thresholds: dict[str, np.ndarray]
    n_customers: int


def value_counts(part: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, ValueCounts]:
    """Distinct oriented values, their counts and the missing count, per column."""
    out = {}
    for column in columns:
        goodness = _goodness(part[column].to_numpy(), column)
        missing = (
            np.isnan(goodness) if goodness.dtype.kind == "f" else np.zeros(len(goodness), bool)
        )
        values, counts = np.unique(goodness[~missing], return_counts=True)
        out[column] = (values, counts.astype(np.int64), int(missing.sum()))
    return out


def merge_counts(a: dict[str, ValueCounts], b: dict[str, ValueCounts]) -> dict[str, ValueCounts]:
    """Add two partitions' :func:`value_counts`."""
    out = {}
    for column, (values_a, counts_a, missing_a) in a.items():
        values_b, counts_b, missing_b = b[column]
        values, inverse = np.unique(np.concatenate([values_a, values_b]), return_inverse=True)
        counts = np.zeros(len(values), dtype=np.int64)
        np.add.at(counts, inverse, np.concatenate([counts_a, counts_b]))
        out[column] = (values, counts, missing_a + missing_b)
    return out


def _goodness(values: np.ndarray, column: str) -> np.ndarray:
    return -values if column in LOWER_IS_BETTER else values


def thresholds(counts: ValueCounts, n: int, bins: int) -> np.ndarray:
    """Smallest oriented value reaching each score 2..bins (same rule as one machine)."""
    values, count, missing = counts
    worse = np.cumsum(count) - count + missing
    scores = np.minimum(1 + (bins * worse) // max(n - 1, 1), bins)
    reach = np.searchsorted(scores, np.arange(2, bins + 1), side="left")
    return values[reach[reach < len(values)]]


def score_edges(customers: Any, config: RFMLConfig | None = None) -> ScoreEdges:
    """Global quantile thresholds of R, F, M, L from customer partitions (computes).

    Args:
        customers: dask or pandas frame (or Parquet path) of per-customer
            summaries, e.g. ``summarize_partitioned(...).customers``.
        config: the binning settings (``binning="quantile"``).
    """
    cfg = config or RFMLConfig()
    if cfg.binning != "quantile":
        raise DataValidationError(
            'score_edges needs binning="quantile"; fixed edges are in the config already'
        )
    columns = tuple(measure_columns(cfg).values())
    frame = as_dask(customers, columns)
    parts = [delayed(value_counts)(p, columns) for p in frame.to_delayed()]
    return edges_from_counts(dask_module().compute(tree_reduce(parts, merge_counts))[0], cfg)


def edges_from_counts(counts: dict[str, ValueCounts], cfg: RFMLConfig) -> ScoreEdges:
    """:class:`ScoreEdges` from the merged :func:`value_counts` of every customer."""
    columns = tuple(measure_columns(cfg).values())
    n = int(counts[columns[0]][1].sum()) + counts[columns[0]][2]
    return ScoreEdges(
        thresholds={c: thresholds(counts[c], n, cfg.bins) for c in columns},
        n_customers=n,
    )


def apply_scores(
    customers: pd.DataFrame, edges: ScoreEdges | None, config: RFMLConfig | None = None
) -> pd.DataFrame:
    """Scores and segments of one partition of customers (pure, pandas in and out).

    Args:
        customers: per-customer summaries (one partition).
        edges: global thresholds from :func:`score_edges`; ``None`` with
            ``binning="fixed"``.
        config: the same config the edges were computed with.

    Returns:
        A new frame with ``r_score, f_score, m_score, l_score, fm_score``,
        ``segment`` and ``segment_class``.
    """
    from chainmall.segment import score

    cfg = config or RFMLConfig()
    check_frame(customers, measure_rules(cfg), name="customers", allow_empty=True)
    if cfg.binning == "fixed":
        return assign_segments(score(customers, cfg), cfg)
    if edges is None:
        raise DataValidationError("quantile scores need the global edges: pass score_edges(...)")
    scores: dict[str, np.ndarray] = {}
    for measure, column in measure_columns(cfg).items():
        goodness = _goodness(customers[column].to_numpy(), column)
        level = 1 + np.searchsorted(edges.thresholds[column], goodness, side="right")
        if goodness.dtype.kind == "f":
            level[np.isnan(goodness)] = 1
        scores[f"{measure[0]}_score"] = level.astype(np.int8)
    f, m = scores["f_score"].astype(np.int16), scores["m_score"].astype(np.int16)
    scores["fm_score"] = ((f + m + 1) // 2).astype(np.int8)
    return assign_segments(customers.assign(**scores), cfg)
