"""RFM-L summaries, scores and segments over Dask partitions, equal to ``chainmall.segment``.

The plan (details in ``docs/distributed.md``):

1. **partial aggregates, one read.** Each input partition is read once and
   reduced to its net fen per customer-day, split into customer buckets
   (:mod:`chainmall.distributed.rfml_days`); the tables are persisted on the
   workers (spilled to disk under memory pressure) together with each
   partition's first / last local day, which a tree reduction turns into the
   global as-of day (``RFMLConfig.as_of=None``: the last day in the data).
2. **buckets, not a row shuffle.** Bucket ``b`` of every partition meets in one
   task that runs the single-machine kernel on those customer-days. A customer
   lives in one bucket, so its summary is complete there; only the partial
   tables travel between workers, never the raw rows.
3. **global score edges.** Distinct values per measure are counted per bucket and
   merged in a tree (:mod:`chainmall.distributed.scores`).

Rows come back grouped by bucket: sort by ``user_id`` to compare with the
single-machine frame, which is then equal column for column (string ids come
back with the input's dtype, e.g. pandas ``string`` for Dask's text columns).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from chainmall._columns import column_mapping
from chainmall._validation import check_frame
from chainmall.distributed._buckets import meet_buckets
from chainmall.distributed._dask import dask_dataframe, dask_module, delayed, tree_reduce
from chainmall.distributed._sources import as_dask
from chainmall.distributed.rfml_days import (
    DayInfo,
    customer_days,
    customer_summaries,
    merge_info,
)
from chainmall.distributed.scores import (
    ScoreEdges,
    ValueCounts,
    apply_scores,
    edges_from_counts,
    merge_counts,
    score_edges,
    value_counts,
)
from chainmall.exceptions import DataValidationError
from chainmall.segment import RFMLConfig, RFMLSummary, summarize
from chainmall.segment.rfml import (
    TRANSACTION_COLUMNS,
    legacy_transaction_keywords,
    transaction_columns,
)
from chainmall.segment.rules import measure_columns

__all__ = [
    "DaskRFMLSummary",
    "ScoreEdges",
    "apply_scores",
    "score_edges",
    "segment_customers_partitioned",
    "summarize_partitioned",
]

_DAY_ZERO = pd.Timestamp("1970-01-01")


@dataclass(frozen=True)
class DaskRFMLSummary:
    """Result of :func:`summarize_partitioned` / :func:`segment_customers_partitioned`.

    Attributes:
        customers: dask DataFrame, one row per customer (columns of
            :class:`chainmall.segment.RFMLSummary`, plus scores and segments from
            :func:`segment_customers_partitioned`); lazy.
        rejected: dask DataFrame ``user_id, reason``; lazy.
        as_of: the as-of day used for every customer (naive date).
        n_rows_after_as_of: rows ignored because they fall after ``as_of``.
        held: the persisted intermediate results the lazy frames read
            (customer-day tables, or the bucket summaries); they stay on the
            workers while this object lives (Dask frames built from delayed
            tasks do not hold them).
    """

    customers: Any
    rejected: Any
    as_of: pd.Timestamp
    n_rows_after_as_of: int
    held: tuple[Any, ...] = field(default=(), repr=False)

    def compute(self, sort_by: str | None = None) -> RFMLSummary:
        """Gather into a pandas :class:`~chainmall.segment.RFMLSummary` in one pass.

        Args:
            sort_by: column to sort customers and rejected rows by (e.g. the id
                column), with a fresh 0..n-1 index; ``None`` keeps bucket order.
        """
        customers, rejected = dask_module().compute(self.customers, self.rejected)
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
            n_rows_after_as_of=self.n_rows_after_as_of,
        )


def _names(
    columns: Mapping[str, str] | None, customer_id: str | None, ts: str | None, amount: str | None
) -> tuple[str, str, str]:
    """The caller's id, timestamp and amount column names (``columns=`` and the
    deprecated keywords folded together, warning at the entry point's caller)."""
    mapping = column_mapping(
        columns,
        accepted=TRANSACTION_COLUMNS,
        name="transactions",
        legacy=legacy_transaction_keywords(customer_id, ts, amount),
        stacklevel=4,
    )
    user_id, at, fen = (mapping.get(name, name) for name in TRANSACTION_COLUMNS)
    return user_id, at, fen


def _explicit_as_of_day(cfg: RFMLConfig) -> int | None:
    """The configured as-of day number, or ``None`` for "the last day in the data"."""
    if cfg.as_of is None:
        return None
    try:
        stamp = pd.Timestamp(cfg.as_of)
    except ValueError as exc:
        raise DataValidationError(f"as_of {cfg.as_of!r} is not a date: {exc}") from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(cfg.timezone).tz_localize(None)
    return int((stamp.normalize() - _DAY_ZERO) // pd.Timedelta(days=1))


def _global_as_of(cfg: RFMLConfig, info: DayInfo) -> int:
    first, last, _ = info
    if first > last:
        raise DataValidationError("transactions is empty; pass at least one purchase")
    day = _explicit_as_of_day(cfg)
    if day is None:
        return last
    if day < first:
        raise DataValidationError(
            f"as_of {cfg.as_of} is before the first transaction "
            f"({_DAY_ZERO + pd.Timedelta(days=first):%Y-%m-%d}); choose a later as_of"
        )
    return day


def _metas(frame: Any, cfg: RFMLConfig, names: tuple[str, str, str]) -> tuple[Any, Any]:
    """Empty customers / rejected frames with the output dtypes (no data read)."""
    from dask.dataframe.dispatch import meta_nonempty

    sample = meta_nonempty(frame._meta).iloc[:1]
    example = summarize(
        sample, cfg.replace(as_of=None), columns=dict(zip(TRANSACTION_COLUMNS, names, strict=True))
    )
    return example.customers.iloc[:0], example.rejected.iloc[:0]


@dataclass(frozen=True)
class _DayTables:
    """The persisted customer-day tables of a transaction log and what the buckets need."""

    pieces: list[tuple[Any, ...]]  # per input partition, its delayed bucket tables
    config: RFMLConfig  # as_of fixed to the global as-of date
    as_of: pd.Timestamp
    n_rows_after_as_of: int
    meta: tuple[pd.DataFrame, pd.DataFrame]


def _day_tables(
    transactions: Any, cfg: RFMLConfig, names: tuple[str, str, str], npartitions: int | None
) -> _DayTables:
    """Read and reduce every partition once; fix the global as-of day."""
    if isinstance(transactions, pd.DataFrame):  # check before Dask converts object columns
        check_frame(
            transactions,
            transaction_columns(*names, cfg),
            name="transactions",
            id_column=names[0],
            allow_empty=True,
        )
    frame = as_dask(transactions, names, name="transactions")
    if any(c not in frame.columns for c in names):  # same message as one machine
        whole = as_dask(transactions)._meta
        summarize(whole, cfg, columns=dict(zip(TRANSACTION_COLUMNS, names, strict=True)))
    meta = _metas(frame, cfg, names)
    n_buckets = npartitions or frame.npartitions
    reduce = delayed(customer_days, nout=n_buckets + 1, pure=True)
    cut = _explicit_as_of_day(cfg)
    partials = [tuple(reduce(part, cfg, names, cut, n_buckets)) for part in frame.to_delayed()]
    (partials,) = dask_module().persist(partials)  # one read; the tables stay on the workers
    info: DayInfo = dask_module().compute(tree_reduce([p[0] for p in partials], merge_info))[0]
    as_of = _DAY_ZERO + pd.Timedelta(days=_global_as_of(cfg, info))
    fixed = cfg.replace(as_of=f"{as_of:%Y-%m-%d}")
    return _DayTables([p[1:] for p in partials], fixed, as_of, int(info[2]), meta)


def _frames(outputs: list[Any], meta: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[Any, Any]:
    dd = dask_dataframe()
    customers = dd.from_delayed([o[0] for o in outputs], meta=meta[0], verify_meta=False)
    rejected = dd.from_delayed([o[1] for o in outputs], meta=meta[1], verify_meta=False)
    return customers, rejected


def summarize_partitioned(
    transactions: Any,
    config: RFMLConfig | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    customer_id: str | None = None,
    ts: str | None = None,
    amount: str | None = None,
    npartitions: int | None = None,
) -> DaskRFMLSummary:
    """:func:`chainmall.segment.summarize` on Dask, from per-partition customer-day sums.

    Args:
        transactions: dask or pandas DataFrame, or Parquet path(s), with
            ``user_id``, ``ts`` (tz-aware), ``amount_fen`` (integer fen).
        config: engine settings; ``as_of=None`` becomes the global last local day.
        columns: your column names where they differ, ``{canonical: yours}``
            (customer buckets are a hash of the ``user_id`` column).
        customer_id, ts, amount: deprecated; use ``columns=``.
        npartitions: customer buckets of the result (default: as many as the
            input has partitions).

    Returns:
        :class:`DaskRFMLSummary`. The read-and-reduce pass has run (its tables
        stay on the workers while the result is referenced); the per-customer
        summaries are lazy.

    Raises:
        ColumnNotFoundError, DataValidationError: the engine's messages, for the
            first partition that breaks its contract.
    """
    names = _names(columns, customer_id, ts, amount)
    days = _day_tables(transactions, config or RFMLConfig(), names, npartitions)
    outputs = meet_buckets(days.pieces, customer_summaries, days.config, names, days.meta, nout=2)
    customers, rejected = _frames(outputs, days.meta)
    return DaskRFMLSummary(
        customers, rejected, days.as_of, days.n_rows_after_as_of, tuple(days.pieces)
    )


def _summaries_and_counts(
    tables: list[pd.DataFrame],
    cfg: RFMLConfig,
    names: tuple[str, str, str],
    meta: tuple[pd.DataFrame, pd.DataFrame],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, ValueCounts]]:
    """One bucket's summaries and the value counts of its scored measures."""
    customers, rejected = customer_summaries(tables, cfg, names, meta)
    return customers, rejected, value_counts(customers, tuple(measure_columns(cfg).values()))


def segment_customers_partitioned(
    transactions: Any,
    config: RFMLConfig | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    customer_id: str | None = None,
    ts: str | None = None,
    amount: str | None = None,
    npartitions: int | None = None,
) -> DaskRFMLSummary:
    """:func:`chainmall.segment.segment_customers` on Dask: summary, global scores, segments.

    ``transactions`` and ``columns`` are as in :func:`summarize_partitioned`
    (``customer_id``, ``ts``, ``amount`` are its deprecated keywords).

    With quantile binning each bucket task also counts its measures' distinct
    values; the bucket summaries are persisted (kept in worker memory, spilled
    under pressure) while a tree merges the counts into the global edges, and
    are scored lazily.
    """
    cfg = config or RFMLConfig()
    names = _names(columns, customer_id, ts, amount)
    if cfg.binning == "fixed":  # scores need no global pass
        summary = summarize_partitioned(
            transactions,
            cfg,
            columns=dict(zip(TRANSACTION_COLUMNS, names, strict=True)),
            npartitions=npartitions,
        )
        scored_meta = apply_scores(summary.customers._meta, None, cfg)
        scored = summary.customers.map_partitions(apply_scores, None, cfg, meta=scored_meta)
        return replace(summary, customers=scored)
    days = _day_tables(transactions, cfg, names, npartitions)
    as_of, n_after, meta = days.as_of, days.n_rows_after_as_of, days.meta
    outputs = meet_buckets(days.pieces, _summaries_and_counts, days.config, names, meta, nout=3)
    (outputs,) = dask_module().persist([tuple(o) for o in outputs])
    del days  # the customer-day tables are released once the summaries exist
    counts = tree_reduce([o[2] for o in outputs], merge_counts)
    edges = edges_from_counts(dask_module().compute(counts)[0], cfg)
    customers, rejected = _frames(outputs, meta)
    scored = customers.map_partitions(
        apply_scores, edges, cfg, meta=apply_scores(meta[0], edges, cfg)
    )
    return DaskRFMLSummary(scored, rejected, as_of, n_after, tuple(outputs))
