"""Contract cases of ``chainmall.events`` (one event type per case, so every row reads
the mutated column)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from chainmall.events import (
    funnel_report,
    funnel_stage_times,
    path_transitions,
    user_features,
    validate_events,
    visit_log,
)
from tests.contract.spec import Arg, Case, Col

KEYS = {
    "user_id": Col("id", rows_rejected=True),
    "event_type": Col("label", rows_rejected=True),
    "ts": Col("time", rows_rejected=True),
}
EXTRA: dict[str, tuple[str, dict[str, Col]]] = {
    "orders": ("order", {"amount_fen": Col("count", ge=0, rows_rejected=True)}),
    "clicks": (
        "click",
        {
            "x": Col("number", ge=0, rows_rejected=True),
            "y": Col("number", ge=0, rows_rejected=True),
        },
    ),
    "dwells": ("dwell", {"dwell_ms": Col("count", ge=0, rows_rejected=True)}),
    "carts": ("add_to_cart", {"quantity": Col("count", ge=0, rows_rejected=True)}),
}


def events(kind: str, n: int = 8) -> pd.DataFrame:
    """``n`` valid events of one type over three users, every optional column filled."""
    rng = np.random.default_rng(len(kind))
    return pd.DataFrame(
        {
            "user_id": [f"u{i % 3}" for i in range(n)],
            "event_type": EXTRA[kind][0],
            "ts": pd.Timestamp("2024-03-01", tz="Asia/Shanghai")
            + pd.to_timedelta(np.arange(n) * 7, unit="min"),
            "path": "/item/1",
            "element": "buy",
            "x": rng.uniform(0, 1, n),
            "y": rng.uniform(0, 1, n),
            "dwell_ms": rng.integers(0, 5000, n),
            "item_id": "i1",
            "quantity": rng.integers(1, 4, n),
            "order_id": [f"o{i}" for i in range(n)],
            "amount_fen": rng.integers(100, 10_000, n),
        }
    )


def _strict(name: str, func: Callable[[pd.DataFrame], Any]) -> Case:
    columns = {key: Col(col.kind) for key, col in KEYS.items()}
    columns["amount_fen"] = Col("count", ge=0)
    return Case(
        f"events.{name}",
        build=lambda: {"events": events("orders")},
        call=lambda a: func(a["events"]),
        columns={"events": columns},
        args={"events": Arg("frame", empty_ok=True)},
    )


CASES = [
    *(
        Case(
            f"events.validate_events.{kind}",
            build=lambda kind=kind: {"events": events(kind)},
            call=lambda a: validate_events(a["events"]),
            columns={"events": {**KEYS, **EXTRA[kind][1]}},
            args={"events": Arg("frame", empty_ok=True)},
            rejected=lambda result: result.rejected,
        )
        for kind in EXTRA
    ),
    _strict("user_features", user_features),
    _strict("funnel_report", funnel_report),
    _strict("funnel_stage_times", funnel_stage_times),
    _strict("path_transitions", path_transitions),
    _strict("visit_log", visit_log),
]

RESULT_TYPES = {"EventBatch": "result of validate_events"}
EXEMPT: dict[str, str] = {}
