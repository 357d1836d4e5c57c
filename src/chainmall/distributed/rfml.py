"""RFM-L summaries, scores and segments over Dask partitions, equal to ``chainmall.segment``.

The single-machine kernel (:func:`chainmall.segment.rfml.summary_columns`) runs
unchanged on each partition; what makes the result equal is the plan around it:

1. **as-of day.** ``RFMLConfig.as_of=None`` means "the last day in the data";
   one pass takes the global first and last local day and fixes ``as_of`` to a
   date before any partition is summarised.
2. **customer partitions.** Rows are shuffled by a hash of ``customer_id``, so
   all rows of one customer are in one partition and the per-customer summary
   needs no merge.
3. **global score edges.** A quantile score depends on the whole distribution
   (``1 + floor(bins * w / (n - 1))`` with ``w`` customers strictly worse).
   Each partition counts its distinct values per measure; the counts are merged
   in a tree and turned into at most ``bins - 1`` thresholds per measure; each
   partition then scores its customers with ``searchsorted`` against them.

Rows come back grouped by partition: sort by ``customer_id`` to compare with
the single-machine frame, which is then equal column for column (string ids
come back as pandas ``string`` dtype, dask's default for text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainmall.distributed._dask import dask_dataframe, delayed, tree_reduce
from chainmall.exceptions import DataValidationError
from chainmall.segment import RFMLConfig, RFMLSummary, assign_segments, summarize
from chainmall.segment.rfml import local_days, summary_columns
from chainmall.segment.rules import LOWER_IS_BETTER, measure_columns

__all__ = [
    "DaskRFMLSummary",
    "ScoreEdges",
    "apply_scores",
    "score_edges",
    "segment_customers",
    "summarize_partitioned",
]

_DAY_ZERO = pd.Timestamp("1970-01-01")
_ValueCounts = tuple[np.ndarray, np.ndarray, int]  # distinct goodness, counts, missing


@dataclass(frozen=True)
class DaskRFMLSummary:
    """Lazy result of :func:`summarize_partitioned` / :func:`segment_customers`.

    Attributes:
        customers: dask DataFrame, one row per customer (columns of
            :class:`chainmall.segment.RFMLSummary`, plus scores and segments from
            :func:`segment_customers`).
        rejected: dask DataFrame ``customer_id, reason``.
        as_of: the as-of day used by every partition (naive date).
        n_rows_after_as_of: dask scalar, rows ignored because they fall after ``as_of``.
    """

    customers: Any
    rejected: Any
    as_of: pd.Timestamp
    n_rows_after_as_of: Any

    def compute(self, sort_by: str | None = None) -> RFMLSummary:
        """Gather into a pandas :class:`~chainmall.segment.RFMLSummary` in one pass.

        Args:
            sort_by: column to sort customers and rejected rows by (e.g. the id
                column), with a fresh 0..n-1 index; ``None`` keeps partition order.
        """
        dask = _dask()
        customers, rejected, n_after = dask.compute(
            self.customers, self.rejected, self.n_rows_after_as_of
        )
        if sort_by is not None:
            customers = customers.sort_values(sort_by, kind="stable", ignore_index=True)
            rejected = rejected.sort_values(sort_by, kind="stable", ignore_index=True)
        else:
            customers = customers.reset_index(drop=True)
            rejected = rejected.reset_index(drop=True)
        return RFMLSummary(
            customers=customers,
            rejected=rejected,
            as_of=self.as_of,
            n_rows_after_as_of=int(n_after),
        )


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


def _dask() -> Any:
    dask_dataframe()
    import dask

    return dask


def _as_of_day(cfg: RFMLConfig, first: int, last: int) -> int:
    if cfg.as_of is None:
        return last
    try:
        stamp = pd.Timestamp(cfg.as_of)
    except ValueError as exc:
        raise DataValidationError(f"as_of {cfg.as_of!r} is not a date: {exc}") from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(cfg.timezone).tz_localize(None)
    day = int((stamp.normalize() - _DAY_ZERO) // pd.Timedelta(days=1))
    if day < first:
        raise DataValidationError(
            f"as_of {cfg.as_of} is before the first transaction "
            f"({_DAY_ZERO + pd.Timedelta(days=first):%Y-%m-%d}); choose a later as_of"
        )
    return day


def _day_range(part: pd.DataFrame, ts: str, timezone: str) -> tuple[int, int]:
    """(first, last) local day of a partition; (max, min) sentinels when empty or invalid."""
    stamps = part[ts].dropna()
    if len(stamps) == 0 or getattr(stamps.dtype, "tz", None) is None:
        return (np.iinfo(np.int64).max, np.iinfo(np.int64).min)
    days = local_days(stamps, timezone)
    return int(days.min()), int(days.max())


def _merge_range(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return min(a[0], b[0]), max(a[1], b[1])


def _summarize_part(
    part: pd.DataFrame,
    cfg: RFMLConfig,
    as_of_day: int,
    meta: tuple[pd.DataFrame, pd.DataFrame],
    names: tuple[str, str, str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    customer_id, ts, amount = names
    if len(part) == 0:
        return meta[0], meta[1], _count(0)
    first, _ = _day_range(part, ts, cfg.timezone)
    if first > as_of_day:  # every row is after as_of: validate them, keep nothing
        summary_columns(
            part, cfg.replace(as_of=None), customer_id=customer_id, ts=ts, amount=amount
        )
        return meta[0], meta[1], _count(len(part))
    columns, result = summary_columns(part, cfg, customer_id=customer_id, ts=ts, amount=amount)
    return pd.DataFrame(columns), result.rejected, _count(result.n_rows_after_as_of)


def _count(n: int) -> pd.DataFrame:
    return pd.DataFrame({"n_rows_after_as_of": np.array([n], dtype=np.int64)})


def summarize_partitioned(
    transactions: Any,
    config: RFMLConfig | None = None,
    *,
    customer_id: str = "customer_id",
    ts: str = "ts",
    amount: str = "amount",
    npartitions: int | None = None,
) -> DaskRFMLSummary:
    """:func:`chainmall.segment.summarize` over a Dask DataFrame (or a pandas one).

    Args:
        transactions: dask or pandas DataFrame with ``customer_id``, ``ts``
            (tz-aware), ``amount`` (integer fen).
        config: engine settings; ``as_of=None`` becomes the global last local day.
        customer_id: id column (rows are shuffled by its hash).
        ts: timestamp column.
        amount: amount column (integer minor units).
        npartitions: customer partitions after the shuffle (default: as many
            as the input has).

    Returns:
        :class:`DaskRFMLSummary`; the first/last-day pass has run, the
        summaries are lazy.
    """
    dd = dask_dataframe()
    dask = _dask()
    cfg = config or RFMLConfig()
    frame = _as_dask(transactions, dd)
    missing = [c for c in (customer_id, ts, amount) if c not in frame.columns]
    if missing:
        sample = frame._meta  # validate on the empty meta: same message as one machine
        summarize(sample, cfg, customer_id=customer_id, ts=ts, amount=amount)
    ranges = [delayed(_day_range)(p, ts, cfg.timezone) for p in frame.to_delayed()]
    first, last = dask.compute(tree_reduce(ranges, _merge_range))[0]
    if first > last:  # nothing usable: let the engine name the problem
        summarize(
            frame.head(1000, npartitions=-1), cfg, customer_id=customer_id, ts=ts, amount=amount
        )
        raise DataValidationError("transactions is empty; pass at least one purchase")
    as_of_day = _as_of_day(cfg, first, last)
    as_of = _DAY_ZERO + pd.Timedelta(days=as_of_day)
    fixed = cfg.replace(as_of=f"{as_of:%Y-%m-%d}")
    sample = frame.head(1, npartitions=-1)
    example = summarize(
        sample, cfg.replace(as_of=None), customer_id=customer_id, ts=ts, amount=amount
    )
    meta = (example.customers.iloc[:0], example.rejected.iloc[:0])
    shuffled = frame.shuffle(on=customer_id, npartitions=npartitions or frame.npartitions)
    parts = [
        delayed(_summarize_part, nout=3)(p, fixed, as_of_day, meta, (customer_id, ts, amount))
        for p in shuffled.to_delayed()
    ]
    customers = dd.from_delayed([p[0] for p in parts], meta=meta[0], verify_meta=False)
    rejected = dd.from_delayed([p[1] for p in parts], meta=meta[1], verify_meta=False)
    n_after = dd.from_delayed([p[2] for p in parts], meta=_count(0).iloc[:0], verify_meta=False)
    n_after = n_after["n_rows_after_as_of"].sum()
    return DaskRFMLSummary(customers, rejected, as_of, n_after)


def _as_dask(frame: Any, dd: Any) -> Any:
    if isinstance(frame, pd.DataFrame):
        return dd.from_pandas(frame, npartitions=max(1, min(8, len(frame) // 100_000 + 1)))
    return frame


def _value_counts(part: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, _ValueCounts]:
    out = {}
    for column in columns:
        goodness = _goodness(part[column].to_numpy(), column)
        missing = (
            np.isnan(goodness) if goodness.dtype.kind == "f" else np.zeros(len(goodness), bool)
        )
        values, counts = np.unique(goodness[~missing], return_counts=True)
        out[column] = (values, counts.astype(np.int64), int(missing.sum()))
    return out


def _merge_counts(
    a: dict[str, _ValueCounts], b: dict[str, _ValueCounts]
) -> dict[str, _ValueCounts]:
    out = {}
    for column, (values_a, counts_a, missing_a) in a.items():
        values_b, counts_b, missing_b = b[column]
        values, inverse = np.unique(np.concatenate([values_a, values_b]), return_inverse=True)
        counts = np.bincount(inverse, weights=np.concatenate([counts_a, counts_b]))
        out[column] = (values, counts.astype(np.int64), missing_a + missing_b)
    return out


def _goodness(values: np.ndarray, column: str) -> np.ndarray:
    return -values if column in LOWER_IS_BETTER else values


def _thresholds(counts: _ValueCounts, n: int, bins: int) -> np.ndarray:
    """Smallest oriented value reaching each score 2..bins (same rule as one machine)."""
    values, count, missing = counts
    worse = np.cumsum(count) - count + missing
    scores = np.minimum(1 + (bins * worse) // max(n - 1, 1), bins)
    reach = np.searchsorted(scores, np.arange(2, bins + 1), side="left")
    return values[reach[reach < len(values)]]


def score_edges(customers: Any, config: RFMLConfig | None = None) -> ScoreEdges:
    """Global quantile thresholds of R, F, M, L from customer partitions (computes).

    Args:
        customers: dask (or pandas) frame of per-customer summaries, e.g.
            ``summarize_partitioned(...).customers``.
        config: the binning settings (``binning="quantile"``).
    """
    dd = dask_dataframe()
    cfg = config or RFMLConfig()
    if cfg.binning != "quantile":
        raise DataValidationError(
            'score_edges needs binning="quantile"; fixed edges are in the config already'
        )
    columns = tuple(measure_columns(cfg).values())
    frame = _as_dask(customers, dd)
    parts = [delayed(_value_counts)(p, columns) for p in frame.to_delayed()]
    merged: dict[str, _ValueCounts] = _dask().compute(tree_reduce(parts, _merge_counts))[0]
    n = int(merged[columns[0]][1].sum()) + merged[columns[0]][2]
    return ScoreEdges(
        thresholds={c: _thresholds(merged[c], n, cfg.bins) for c in columns},
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


def segment_customers(
    transactions: Any,
    config: RFMLConfig | None = None,
    *,
    customer_id: str = "customer_id",
    ts: str = "ts",
    amount: str = "amount",
    npartitions: int | None = None,
) -> DaskRFMLSummary:
    """:func:`chainmall.segment.segment_customers` on Dask: summary, global scores, segments.

    The summaries are persisted (kept in worker memory) because they are read
    twice: once for the score edges, once for the scores.
    """
    cfg = config or RFMLConfig()
    summary = summarize_partitioned(
        transactions, cfg, customer_id=customer_id, ts=ts, amount=amount, npartitions=npartitions
    )
    customers, rejected, n_after = _dask().persist(
        summary.customers, summary.rejected, summary.n_rows_after_as_of
    )
    edges = score_edges(customers, cfg) if cfg.binning == "quantile" else None
    meta = apply_scores(summary.customers._meta, edges, cfg)
    scored = customers.map_partitions(apply_scores, edges, cfg, meta=meta)
    return DaskRFMLSummary(scored, rejected, summary.as_of, n_after)
