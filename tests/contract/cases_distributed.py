"""Contract cases of ``chainmall.distributed`` (pandas inputs; Dask runs the same checks per partition)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from chainmall.distributed import (
    apply_scores,
    earner_month_totals,
    score_edges,
    summarize_partitioned,
)
from chainmall.segment import RFMLConfig, summarize
from tests.contract.cases_segment import TRANSACTIONS
from tests.contract.data import transactions
from tests.contract.spec import Arg, Case, Col

UTC = RFMLConfig(timezone="UTC")
MEASURES = {
    "recency_days": Col("number", ge=0),
    "n_purchases": Col("number", ge=0),
    "monetary_fen": Col("number"),
    "repeat_per_month": Col("number", nullable=True),
}


@cache
def _customers() -> pd.DataFrame:
    return summarize(transactions(12), UTC).customers


def entries() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2"],
            "month": ["2025-01", "2025-01", None],
            "kind": ["COMMISSION", "COMMISSION", "WITHDRAWAL"],
            "reward_type": ["direct", "direct", None],
            "amount_fen": pd.array([1200, 300, -500], dtype="Int64"),
            "gross_fen": pd.array([1500, 300, None], dtype="Int64"),
            "ratio_cut_fen": np.zeros(3, dtype=np.int64),
            "cap_cut_fen": np.zeros(3, dtype=np.int64),
        }
    )


CASES = [
    Case(
        "distributed.earner_month_totals",
        build=lambda: {"entries": entries()},
        call=lambda a: earner_month_totals(a["entries"]),
        columns={
            "entries": {
                "user_id": Col("id"),
                "kind": Col("label"),
                "amount_fen": Col("money", nullable=True),
            }
        },
        args={"entries": Arg("frame", empty_ok=True)},
    ),
    Case(
        "distributed.apply_scores",
        build=lambda: {"customers": _customers().copy()},
        call=lambda a: apply_scores(a["customers"], score_edges(_customers(), UTC), UTC),
        columns={"customers": MEASURES},
        args={"customers": Arg("frame", empty_ok=True)},
    ),
    Case(
        "distributed.summarize_partitioned",
        build=lambda: {"transactions": transactions()},
        call=lambda a: summarize_partitioned(a["transactions"], UTC).compute(),
        columns={"transactions": TRANSACTIONS},
        args={"transactions": Arg("frame", empty_ok=True)},
    ),
]

RESULT_TYPES = {
    "DaskForecast": "result of forecast_partitioned",
    "DaskRFMLSummary": "result of summarize_partitioned",
    "ScoreEdges": "result of score_edges",
}
SAME_CHECKS = "applies the covered single-machine checks to each partition"
EXEMPT = {
    "segment_customers_partitioned": SAME_CHECKS + " (summarize_partitioned, apply_scores)",
    "score_edges": "reads summarize_partitioned output (covered)",
    "earner_month_totals_partitioned": SAME_CHECKS + " (earner_month_totals)",
    "forecast_partitioned": SAME_CHECKS + " (the forecaster's fit)",
    "predict_partitioned": "scores rows with the caller's fitted model",
}
