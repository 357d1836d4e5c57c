"""The engines' pure functions on Dask partitions (``pip install "chainmall[dask]"``).

Per-key work never moves raw rows: each partition reduces its rows to a
partial aggregate (customer-day nets, earner-month sums), split into key
buckets; each bucket's pieces meet in one task that finishes them, and the few
global quantities (the as-of day, quantile score edges) come from tree
reductions. Per-series forecasting needs whole series per partition: Parquet
files sorted by series are read that way, other inputs are shuffled by series.
Inputs are pandas or Dask frames or Parquet paths. Results equal the
single-machine ones; see ``docs/distributed.md``.

Importing this package does not import dask; the functions do when called.
"""

from typing import Any

from chainmall._deprecation import renamed_attribute
from chainmall.distributed.forecast import DaskForecast, forecast_partitioned
from chainmall.distributed.referral import (
    earner_month_totals,
    earner_month_totals_partitioned,
)
from chainmall.distributed.rfml import (
    DaskRFMLSummary,
    ScoreEdges,
    apply_scores,
    score_edges,
    segment_customers_partitioned,
    summarize_partitioned,
)
from chainmall.distributed.scoring import predict_partitioned

__all__ = [
    "DaskForecast",
    "DaskRFMLSummary",
    "ScoreEdges",
    "apply_scores",
    "earner_month_totals",
    "earner_month_totals_partitioned",
    "forecast_partitioned",
    "predict_partitioned",
    "score_edges",
    "segment_customers_partitioned",
    "summarize_partitioned",
]

_RENAMED = {"segment_customers": "segment_customers_partitioned"}


def __getattr__(name: str) -> Any:
    """Old names of the previous release, with a ``FutureWarning``."""
    return renamed_attribute(globals(), __name__, _RENAMED, name)
