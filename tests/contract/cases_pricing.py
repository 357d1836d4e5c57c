"""Contract cases of ``chainmall.pricing``."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from chainmall.pricing import (
    DemandFeatureBuilder,
    ElasticityConfig,
    FeatureSpec,
    GuardRailConfig,
    LogLogModel,
    SyntheticMarket,
    apply_benefits,
    blocked_reason,
    candidate_grid,
    estimate_elasticity,
    oj_market_frame,
    optimize_prices,
    oracle_prices,
    realised_profit,
    simulate_market,
    trailing_max_price,
)
from tests.contract.spec import Arg, Case, Col

OJ_COLUMNS = {"store_id": "store", "item_id": "brand", "ds": "week"}
"""The builder's canonical names -> the orange-juice (and simulated market) columns."""

FRAME = Arg("frame")
RAILS = GuardRailConfig()
OFFER_COLUMNS = {
    "store_id": Col("label"),
    "item_id": Col("label"),
    "current_price_fen": Col("money", gt=0),
    "unit_cost_fen": Col("money", ge=0),
    "baseline_units": Col("number", ge=0),
    "elasticity": Col("number", lt=0),
    "max_price_lookback_fen": Col("money", gt=0, nullable=True),
}


def offers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store_id": [1, 1, 2, 2],
            "item_id": ["oj", "milk", "oj", "milk"],
            "current_price_fen": np.array([297, 450, 310, 420], dtype=np.int64),
            "unit_cost_fen": np.array([180, 300, 180, 300], dtype=np.int64),
            "baseline_units": [40.0, 12.0, 35.5, 9.0],
            "elasticity": [-2.2, -1.4, -2.6, -1.1],
            "max_price_lookback_fen": pd.array([329, 480, None, 460], dtype="Int64"),
        }
    )


def _check_prices(result: Any, args: dict[str, Any]) -> None:
    prices = result.prices
    assert prices["price_fen"].dtype == np.int64
    cap = args["offers"]["max_price_lookback_fen"].to_numpy(dtype=float, na_value=np.inf)
    assert (prices["price_fen"].to_numpy() <= cap).all(), "price above the emergency cap"
    assert (prices["price_fen"] >= args["offers"]["unit_cost_fen"]).all(), "price below cost"


def history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store": [1, 1, 1, 2, 2],
            "product": ["oj", "oj", "milk", "oj", "oj"],
            "week": np.array([1, 2, 2, 1, 3], dtype=np.int64),
            "price": np.array([297, 329, 450, 310, 305], dtype=np.int64),
        }
    )


@cache
def _market() -> SyntheticMarket:
    return simulate_market(n_stores=3, n_products=2, n_weeks=20, seed=2)


def _market_week() -> pd.DataFrame:
    h = _market().history
    return h[h["week"] == 5].reset_index(drop=True)


def _market_offers() -> pd.DataFrame:
    week = _market_week()
    return week.assign(
        current_price_fen=week["price_fen"],
        unit_cost_fen=np.rint(_market().unit_cost_fen[week["product"]]).astype(np.int64),
    )


def lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2"],
            "user_id": ["c1", "c1", "c2"],
            "quantity": np.array([1, 3, 6], dtype=np.int64),
            "list_price_fen": np.array([1990, 450, 300], dtype=np.int64),
        }
    )


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["c1", "c2"],
            "membership_tier": ["gold", None],
            "is_new_user": [False, True],
            "rfml_segment": ["potential", None],
        }
    )


def dml_frame(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    control = rng.normal(size=n)
    log_price = 0.3 * control + rng.normal(scale=0.2, size=n)
    return pd.DataFrame(
        {
            "log_units": 2.0 - 1.8 * log_price + control + rng.normal(scale=0.1, size=n),
            "log_price": log_price,
            "control": control,
            "brand": np.repeat(["a", "b"], n // 2),
        }
    )


def oj_yx() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = [(s, b, w) for s in (2, 5) for b in range(1, 12) for w in (40, 41)]
    store, brand, week = (np.array(v) for v in zip(*rows, strict=True))
    prices = {f"price{k}": rng.uniform(0.02, 0.06, len(rows)) for k in range(1, 12)}
    return pd.DataFrame(
        {"store": store, "brand": brand, "week": week, "feat": 0.0, "deal": 0, **prices}
    )


def feature_history() -> pd.DataFrame:
    h = _market().history.rename(columns={"price_fen": "price", "product": "brand"})
    return h[["store", "brand", "week", "price", "units", "feat"]].copy()


CASES = [
    Case(
        "pricing.optimize_prices",
        build=lambda: {"offers": offers()},
        call=lambda a: optimize_prices(a["offers"], RAILS),
        columns={"offers": OFFER_COLUMNS},
        args={"offers": FRAME},
        check=_check_prices,
    ),
    Case(
        "pricing.candidate_grid",
        build=lambda: {"offers": offers()},
        call=lambda a: candidate_grid(a["offers"], RAILS),
        columns={
            "offers": {
                "current_price_fen": Col("money", gt=0),
                "unit_cost_fen": Col("money", ge=0),
                "max_price_lookback_fen": Col("money", gt=0, nullable=True),
            }
        },
        args={"offers": FRAME},
    ),
    Case(
        "pricing.trailing_max_price",
        build=lambda: {"history": history(), "at": 3, "window": 2},
        call=lambda a: trailing_max_price(
            a["history"],
            columns={"store_id": "store", "item_id": "product", "ds": "week", "price_fen": "price"},
            at=a["at"],
            window=a["window"],
        ),
        columns={
            "history": {
                "store": Col("label"),
                "product": Col("label"),
                "week": Col("count"),
                "price": Col("money", gt=0),
            }
        },
        args={
            "history": Arg("frame", empty_ok=True),
            "at": Arg("count"),
            "window": Arg("count", ge=1),
        },
    ),
    Case(
        "pricing.apply_benefits",
        build=lambda: {"lines": lines(), "customers": customers()},
        call=lambda a: apply_benefits(a["lines"], a["customers"]),
        columns={
            "lines": {
                "order_id": Col("id"),
                "user_id": Col("id"),
                "quantity": Col("count", ge=0),
                "list_price_fen": Col("money", ge=0),
            },
            "customers": {
                "user_id": Col("id", unique=True),
                "membership_tier": Col("label", nullable=True),
                "is_new_user": Col("flag"),
                "rfml_segment": Col("label", nullable=True),
            },
        },
        args={"lines": FRAME, "customers": FRAME},
        check=lambda r, a: (
            None
            if (r["pay_fen"] >= 0).all() and r["pay_fen"].dtype == np.int64
            else _fail("bad pay_fen")
        ),
    ),
    Case(
        "pricing.estimate_elasticity",
        build=lambda: {"frame": dml_frame()},
        call=lambda a: estimate_elasticity(
            a["frame"],
            controls=["control"],
            by=["brand"],
            config=ElasticityConfig(learner="ridge", n_folds=2, min_rows=20),
        ),
        columns={
            "frame": {
                "log_units": Col("number"),
                "log_price": Col("number"),
                "control": Col("number", nullable=True),
                "brand": Col("label"),
            }
        },
        args={"frame": FRAME},
    ),
    Case(
        "pricing.LogLogModel.fit",
        build=lambda: {"frame": dml_frame(), "log_units": dml_frame()["log_units"].to_numpy()},
        call=lambda a: LogLogModel(group="brand", controls=["control"], price="log_price").fit(
            a["frame"], a["log_units"]
        ),
        columns={
            "frame": {
                "brand": Col("label"),
                "log_price": Col("number"),
                "control": Col("number", nullable=True),
            }
        },
        args={"frame": FRAME, "log_units": Arg("numbers")},
    ),
    Case(
        "pricing.DemandFeatureBuilder.fit",
        build=lambda: {"history": feature_history()},
        call=lambda a: DemandFeatureBuilder(columns=OJ_COLUMNS, promo_columns=("feat",)).fit(
            a["history"]
        ),
        columns={
            "history": {
                "store": Col("label"),
                "brand": Col("label"),
                "week": Col("count"),
                "price": Col("number", gt=0),
                "units": Col("number", ge=0),
                "feat": Col("number"),
            }
        },
        args={"history": FRAME},
    ),
    Case(
        "pricing.simulate_market",
        build=lambda: {"n_stores": 2, "n_products": 2, "n_weeks": 4, "noise_sd": 0.2, "seed": 1},
        call=lambda a: simulate_market(**a),
        args={
            "n_stores": Arg("count", ge=1),
            "n_products": Arg("count", ge=1),
            "n_weeks": Arg("count", ge=1),
            "noise_sd": Arg("number", ge=0),
            "seed": Arg("count", ge=0),
        },
    ),
    Case(
        "pricing.SyntheticMarket.expected_units",
        build=lambda: {"frame": _market_week()},
        call=lambda a: _market().expected_units(a["frame"]),
        columns={
            "frame": {
                "store": Col("count", ge=0),
                "product": Col("count", ge=0),
                "week": Col("number"),
                "price_fen": Col("money", gt=0),
                "feat": Col("number", ge=0),
            }
        },
        args={"frame": FRAME},
    ),
    Case(
        "pricing.realised_profit",
        build=lambda: {"prices": _market_week()},
        call=lambda a: realised_profit(_market(), a["prices"]),
        columns={"prices": {"price_fen": Col("money", gt=0), "product": Col("count", ge=0)}},
        args={"prices": FRAME},
    ),
    Case(
        "pricing.oracle_prices",
        build=lambda: {"offers": _market_offers(), "sweeps": 2},
        call=lambda a: oracle_prices(
            _market(), a["offers"], GuardRailConfig(emergency_cap=False), sweeps=a["sweeps"]
        ),
        columns={
            "offers": {
                "current_price_fen": Col("money", gt=0),
                "unit_cost_fen": Col("money", ge=0),
                "feat": Col("number", ge=0),
            }
        },
        args={"offers": FRAME, "sweeps": Arg("count", ge=1)},
    ),
    Case(
        "pricing.oj_market_frame",
        build=lambda: {"yx": oj_yx()},
        call=lambda a: oj_market_frame(a["yx"]),
        columns={
            "yx": {
                "store": Col("label"),
                "brand": Col("count", ge=1),
                "week": Col("count"),
                "feat": Col("number", ge=0),
                "price3": Col("number", gt=0),
            }
        },
        args={"yx": FRAME},
    ),
    Case(
        "pricing.blocked_reason",
        build=lambda: {"name": "store_age_share"},
        call=lambda a: blocked_reason(a["name"]),
        args={"name": Arg("text")},
    ),
    Case(
        "pricing.FeatureSpec",
        build=lambda: {"name": "store_traffic", "group": "market", "layer": "list_price"},
        call=lambda a: FeatureSpec(a["name"], a["group"], a["layer"]),
        args={"name": Arg("text"), "group": Arg("text"), "layer": Arg("text")},
    ),
]


def _fail(text: str) -> None:
    raise AssertionError(text)


RESULT_TYPES = {
    "MonotoneReport": "result of DemandModel.check_monotone",
    "PriceDecision": "result of optimize_prices",
}
EXEMPT = {
    "AuditSink": "a protocol (Ledger satisfies it)",
    "DemandModel": "fit reads DemandFeatureBuilder output (covered); save/load in "
    "test_model_files.py; its feature checks are in tests/pricing/test_pricing_demand.py",
    "FeatureCatalog": "built from FeatureSpec (covered)",
    "offers_from_history": "composes DemandFeatureBuilder.transform, trailing_max_price "
    "(covered) and a fitted DemandModel; its own refusals are in tests/pricing/test_offers.py",
}
