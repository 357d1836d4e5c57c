"""Contract cases of ``chainmall.replenish``."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from chainmall.replenish import (
    AutoARIMA,
    CombinationForecaster,
    ConformalSafetyStock,
    Croston,
    ErrorPaths,
    LSTMForecaster,
    Naive,
    ReplenishConfig,
    SeasonalNaive,
    XGBoostForecaster,
    ZhangHybrid,
    conformal_quantile,
    cross_validation,
    cumulative_errors,
    empirical_pmf,
    eoq,
    eoq_cost,
    error_paths,
    evaluate_cv,
    evaluate_forecasts,
    mixture_quantile,
    newsvendor_quantity,
    optimal_ss_policy,
    protection_pmf,
    reorder_points,
    rolling_safety_stock,
    safety_stock,
    simulate_order_up_to,
    simulate_service_feedback,
    ss_policy_cost,
    suggest_orders,
)
from tests.contract.data import demand
from tests.contract.spec import Arg, Case, Col

FRAME = Arg("frame")
CFG = ReplenishConfig(season_length=4)
DEMAND = {"unique_id": Col("id"), "y": Col("number")}
PMF = [0.2, 0.5, 0.3]


@cache
def _cv(step: int | None = None) -> pd.DataFrame:
    return cross_validation([Naive(data_config=CFG)], demand(), h=2, n_windows=12, step=step)


@cache
def _paths() -> ErrorPaths:
    return error_paths(_cv(1), "Naive")


@cache
def _naive() -> Naive:
    return Naive(data_config=CFG).fit(demand())


TINY = {"horizon": 2, "input_size": 4, "hidden_size": 3, "epochs": 1, "seasonal": False}


def _forecasters() -> list[tuple[Any, tuple[str, ...]]]:
    """Every forecaster, small, with the optional packages it needs."""
    return [
        (Naive(data_config=CFG), ()),
        (SeasonalNaive(data_config=CFG), ()),
        (Croston(data_config=CFG), ()),
        (AutoARIMA(data_config=CFG), ()),
        (
            CombinationForecaster(
                [Naive(data_config=CFG), SeasonalNaive(data_config=CFG)],
                horizon=2,
                n_windows=1,
                data_config=CFG,
            ),
            (),
        ),
        (XGBoostForecaster(horizon=2, n_estimators=5, data_config=CFG), ("xgboost",)),
        (LSTMForecaster(**TINY, data_config=CFG), ("torch",)),
        (
            ZhangHybrid(AutoARIMA(data_config=CFG), LSTMForecaster(**TINY), data_config=CFG),
            ("torch",),
        ),
    ]


def _fit_case(model: Any, requires: tuple[str, ...]) -> Case:
    return Case(
        f"replenish.{type(model).__name__}.fit",
        build=lambda: {"df": demand()},
        call=lambda a: model.clone().fit(a["df"]),
        columns={"df": DEMAND},
        args={"df": FRAME},
        requires=requires,
    )


def _lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": ["a", "b", "c"],
            "level": [40.0, 12.5, 0.0],
            "inventory_position": [10.0, 20.0, -3.0],
            "unit_cost_fen": np.array([250, 1200, 99], dtype=np.int64),
            "moq": np.array([6, 1, 0], dtype=np.int64),
            "pack_size": np.array([6, 1, 1], dtype=np.int64),
            "shelf_capacity": [60.0, 100.0, 10.0],
        }
    )


def _check_orders(result: pd.DataFrame, args: dict[str, Any]) -> None:
    assert (result["order_qty"] >= 0).all() and (
        result["order_qty"] % args["lines"]["pack_size"] == 0
    ).all()


CV_COLUMNS = {"unique_id": Col("id"), "y": Col("number"), "Naive": Col("number")}
LEAD = Arg("count", ge=0)
SCALAR_SIMULATION = {
    "review": Arg("count", ge=1),
    "period_days": Arg("number", gt=0),
    "slow_days": Arg("number", gt=0),
    "lead_time": LEAD,
}

CASES = [
    *(_fit_case(model, requires) for model, requires in _forecasters()),
    Case(
        "replenish.Naive.predict",
        build=lambda: {"h": 3},
        call=lambda a: _naive().predict(a["h"], level=[80]),
        args={"h": Arg("count", ge=1)},
        check=lambda r, a: None if (r["Naive-lo-80"] >= 0).all() else _fail("negative bound"),
    ),
    Case(
        "replenish.cross_validation",
        build=lambda: {"df": demand(), "h": 2, "n_windows": 2},
        call=lambda a: cross_validation([Naive()], a["df"], h=a["h"], n_windows=a["n_windows"]),
        columns={"df": DEMAND},
        args={"df": FRAME, "h": Arg("count", ge=1), "n_windows": Arg("count", ge=1)},
    ),
    Case(
        "replenish.cumulative_errors",
        build=lambda: {"cv": _cv().copy(), "cover": 2},
        call=lambda a: cumulative_errors(a["cv"], "Naive", a["cover"]),
        columns={"cv": CV_COLUMNS},
        args={"cv": FRAME, "cover": Arg("count", ge=1)},
    ),
    Case(
        "replenish.error_paths",
        build=lambda: {"cv": _cv(1).copy()},
        call=lambda a: error_paths(a["cv"], "Naive"),
        columns={"cv": CV_COLUMNS},
        args={"cv": FRAME},
    ),
    Case(
        "replenish.safety_stock",
        build=lambda: {"errors": cumulative_errors(_cv(), "Naive", 2), "service_level": 0.9},
        call=lambda a: safety_stock(a["errors"], a["service_level"]),
        columns={
            "errors": {"unique_id": Col("id"), "forecast": Col("number"), "error": Col("number")}
        },
        args={"errors": FRAME, "service_level": Arg("number", gt=0, le=1)},
    ),
    Case(
        "replenish.reorder_points",
        build=lambda: {
            "forecast": _naive().predict(3),
            "safety": pd.DataFrame(
                {"unique_id": ["sku0", "sku1", "sku2"], "safety_stock": [1.0, 2.0, 0.0]}
            ),
            "cover": 2,
            "order_quantity": 10.0,
        },
        call=lambda a: reorder_points(
            a["forecast"],
            "Naive",
            a["safety"],
            cover=a["cover"],
            order_quantity=a["order_quantity"],
        ),
        columns={
            "forecast": {"unique_id": Col("id"), "Naive": Col("number")},
            "safety": {"unique_id": Col("id", unique=True), "safety_stock": Col("number", ge=0)},
        },
        args={
            "forecast": FRAME,
            "safety": FRAME,
            "cover": Arg("count", ge=1),
            "order_quantity": Arg("number", ge=0, allow_none=True),
        },
    ),
    Case(
        "replenish.suggest_orders",
        build=lambda: {"lines": _lines(), "budget_fen": 5000},
        call=lambda a: suggest_orders(a["lines"], budget_fen=a["budget_fen"]),
        columns={
            "lines": {
                "unique_id": Col("id", unique=True),
                "level": Col("number", ge=0),
                "inventory_position": Col("number"),
                "unit_cost_fen": Col("money", ge=0),
                "moq": Col("count", ge=0, required=False),
                "pack_size": Col("count", gt=0, required=False),
                "shelf_capacity": Col("number", ge=0, required=False),
            }
        },
        args={"lines": FRAME, "budget_fen": Arg("money", ge=0, allow_none=True)},
        check=_check_orders,
    ),
    Case(
        "replenish.newsvendor_quantity",
        build=lambda: {
            "expected_demand": [10.0, 4.0],
            "errors": [-2.0, 1.0, 3.0, 0.5],
            "underage_cost": 3.0,
            "overage_cost": 1.0,
        },
        call=lambda a: newsvendor_quantity(
            a["expected_demand"], a["errors"], a["underage_cost"], a["overage_cost"]
        ),
        args={
            "expected_demand": Arg("numbers", empty_ok=True, any_shape=True),
            "errors": Arg("numbers"),
            "underage_cost": Arg("number", gt=0),
            "overage_cost": Arg("number", gt=0),
        },
    ),
    Case(
        "replenish.eoq",
        build=lambda: {"order_cost": 50.0, "holding_cost": 2.0, "demand_rate": 100.0},
        call=lambda a: eoq(a["order_cost"], a["holding_cost"], a["demand_rate"]),
        args={
            "order_cost": Arg("number", gt=0),
            "holding_cost": Arg("number", gt=0),
            "demand_rate": Arg("number", gt=0),
        },
    ),
    Case(
        "replenish.eoq_cost",
        build=lambda: {"order_quantity": 70.0, "demand_rate": 100.0},
        call=lambda a: eoq_cost(a["order_quantity"], 50.0, 2.0, a["demand_rate"]),
        args={"order_quantity": Arg("number", gt=0), "demand_rate": Arg("number", ge=0)},
    ),
    Case(
        "replenish.empirical_pmf",
        build=lambda: {"samples": [3.0, 4.5, 0.0, 7.0], "unit": 1.0},
        call=lambda a: empirical_pmf(a["samples"], a["unit"]),
        args={"samples": Arg("numbers", any_shape=True), "unit": Arg("number", gt=0)},
    ),
    Case(
        "replenish.protection_pmf",
        build=lambda: {"period_pmf": list(PMF), "periods": 2},
        call=lambda a: protection_pmf(a["period_pmf"], a["periods"]),
        args={"period_pmf": Arg("numbers", ge=0), "periods": LEAD},
    ),
    Case(
        "replenish.optimal_ss_policy",
        build=lambda: {"demand_pmf": list(PMF), "holding_cost": 1.0, "lead_time": 1},
        call=lambda a: optimal_ss_policy(
            a["demand_pmf"], a["holding_cost"], 9.0, 20.0, lead_time=a["lead_time"]
        ),
        args={
            "demand_pmf": Arg("numbers", ge=0),
            "holding_cost": Arg("number", gt=0),
            "lead_time": LEAD,
        },
    ),
    Case(
        "replenish.ss_policy_cost",
        build=lambda: {"reorder_point": 1, "order_up_to": 5, "order_cost": 20.0},
        call=lambda a: ss_policy_cost(
            a["reorder_point"], a["order_up_to"], PMF, 1.0, 9.0, a["order_cost"]
        ),
        args={
            "reorder_point": Arg("count"),
            "order_up_to": Arg("count", gt=1),
            "order_cost": Arg("number", gt=0),
        },
    ),
    Case(
        "replenish.conformal_quantile",
        build=lambda: {"scores": [1.0, -2.0, 0.5, 3.0], "level": 0.8},
        call=lambda a: conformal_quantile(a["scores"], a["level"]),
        args={"scores": Arg("numbers", any_shape=True), "level": Arg("number", gt=0, le=1)},
    ),
    Case(
        "replenish.mixture_quantile",
        build=lambda: {"weights": [0.25, 0.25, 0.5], "level": 0.8, "n_scores": 3},
        call=lambda a: mixture_quantile(
            np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]]), a["weights"], a["level"], a["n_scores"]
        ),
        args={
            "weights": Arg("numbers", ge=0),
            "level": Arg("number", gt=0, le=1),
            "n_scores": Arg("count", ge=1),
        },
    ),
    Case(
        "replenish.rolling_safety_stock",
        build=lambda: {"level": 0.9, "review": 1, "lead_time": 1, "window": 5, "min_scores": 2},
        call=lambda a: rolling_safety_stock(
            _paths(),
            a["level"],
            review=a["review"],
            lead_time=a["lead_time"],
            window=a["window"],
            min_scores=a["min_scores"],
        ),
        args={
            "level": Arg("number", gt=0, le=1),
            "review": Arg("count", ge=1),
            "lead_time": LEAD,
            "window": Arg("count", ge=1),
            "min_scores": Arg("count", ge=1),
        },
    ),
    Case(
        "replenish.ConformalSafetyStock",
        build=lambda: {"window": 5, "min_scores": 2},
        call=lambda a: ConformalSafetyStock(
            _paths(), window=a["window"], min_scores=a["min_scores"]
        ).at(8, 0.9),
        args={"window": Arg("count", ge=1), "min_scores": Arg("count", ge=1)},
    ),
    Case(
        "replenish.simulate_order_up_to",
        build=lambda: {"review": 2, "period_days": 7.0, "slow_days": 56.0, "lead_time": 1},
        call=lambda a: simulate_order_up_to(np.full((2, 6), 3.0), np.full((2, 6), 8.0), **a),
        args=SCALAR_SIMULATION,
    ),
    Case(
        "replenish.simulate_service_feedback",
        build=lambda: {
            "target": 0.9,
            "warmup": 1,
            "review": 1,
            "period_days": 7.0,
            "slow_days": 56.0,
            "lead_time": 1,
        },
        call=lambda a: simulate_service_feedback(
            np.full((2, 6), 3.0),
            np.full((2, 6), 6.0),
            lambda t, level: np.full(2, level),
            a.pop("target"),
            **a,
        ),
        args={
            **SCALAR_SIMULATION,
            "target": Arg("number", gt=0, le=1),
            "warmup": Arg("count", ge=0),
        },
    ),
    Case(
        "replenish.evaluate_forecasts",
        build=lambda: {
            "forecasts": _cv()[lambda f: f["cutoff"] == f["cutoff"].max()].copy(),
            "season": 4,
        },
        call=lambda a: evaluate_forecasts(a["forecasts"], demand(), ["Naive"], season=a["season"]),
        columns={"forecasts": CV_COLUMNS},
        args={"forecasts": FRAME, "season": Arg("count", ge=1)},
    ),
    Case(
        "replenish.evaluate_cv",
        build=lambda: {"cv": _cv().copy(), "season": 4},
        call=lambda a: evaluate_cv(a["cv"], demand(), ["Naive"], season=a["season"]),
        columns={"cv": {**CV_COLUMNS, "Naive": Col("number", nullable=True)}},
        args={"cv": FRAME, "season": Arg("count", ge=1)},
    ),
]


def _fail(text: str) -> None:
    raise AssertionError(text)


RESULT_TYPES = {
    "ErrorPaths": "result of error_paths",
    "SimulationResult": "result of the simulators",
    "SsPolicy": "result of optimal_ss_policy",
}
EXEMPT: dict[str, str] = {}
