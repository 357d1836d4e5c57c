"""The engines' pure functions on Dask partitions (``pip install "chainmall[dask]"``).

Work is partitioned by key (customer, earner, series) so each partition runs
the single-machine function unchanged, and the few global quantities (the
as-of day, quantile score edges) are computed in a separate reduction. Results
equal the single-machine ones; see ``docs/distributed.md``.

Importing this package does not import dask; the functions do when called.
"""

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
    segment_customers,
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
    "segment_customers",
    "summarize_partitioned",
]
