"""Contract cases of ``chainmall.campaign`` (statistics and mechanics; the simulator reads configs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainmall.campaign import (
    EnergyPoints,
    SpendLottery,
    compare_arms,
    cuped,
    diff_in_means,
    diff_in_proportions,
    draw_lottery,
    group_price,
    power_means,
    power_proportions,
    redeem_coupons,
    redeem_points,
    sample_size_means,
    sample_size_proportions,
)
from tests.contract.spec import Arg, Case, Col

SAMPLE = Arg("numbers", any_shape=True)
LEVEL = Arg("number", gt=0, le=1)


def arms() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "arm": np.repeat(["treatment", "control"], 6),
            "spend": rng.normal(100, 10, 12),
            "pre": rng.normal(90, 10, 12),
        }
    )


CASES = [
    Case(
        "campaign.diff_in_means",
        build=lambda: {"treatment": [3.0, 4.0, 5.5], "control": [2.0, 3.5, 3.0], "confidence": 0.9},
        call=lambda a: diff_in_means(a["treatment"], a["control"], confidence=a["confidence"]),
        args={"treatment": SAMPLE, "control": SAMPLE, "confidence": LEVEL},
    ),
    Case(
        "campaign.cuped",
        build=lambda: {
            "y_treatment": [3.0, 4.0, 5.5],
            "x_treatment": [2.5, 3.0, 5.0],
            "y_control": [2.0, 3.5, 3.0],
            "x_control": [2.2, 3.0, 2.5],
        },
        call=lambda a: cuped(**a),
        args={name: SAMPLE for name in ("y_treatment", "x_treatment", "y_control", "x_control")},
    ),
    Case(
        "campaign.diff_in_proportions",
        build=lambda: {"successes_treatment": 30, "n_treatment": 100, "successes_control": 20},
        call=lambda a: diff_in_proportions(
            a["successes_treatment"], a["n_treatment"], a["successes_control"], 100
        ),
        args={
            "successes_treatment": Arg("count", ge=0),
            "n_treatment": Arg("count", gt=0),
            "successes_control": Arg("count", ge=0),
        },
    ),
    Case(
        "campaign.compare_arms",
        build=lambda: {"frame": arms()},
        call=lambda a: compare_arms(a["frame"], "spend", covariate="pre"),
        columns={"frame": {"arm": Col("label"), "spend": Col("number"), "pre": Col("number")}},
        args={"frame": Arg("frame")},
    ),
    Case(
        "campaign.power_means",
        build=lambda: {"effect": 2.0, "sd": 10.0, "n_control": 400.0},
        call=lambda a: power_means(a["effect"], a["sd"], a["n_control"]),
        args={
            "effect": Arg("number"),
            "sd": Arg("number", gt=0),
            "n_control": Arg("number", gt=1),
        },
    ),
    Case(
        "campaign.sample_size_means",
        build=lambda: {"effect": 2.0, "sd": 10.0, "power": 0.8},
        call=lambda a: sample_size_means(a["effect"], a["sd"], power=a["power"]),
        args={"effect": Arg("number"), "sd": Arg("number", gt=0), "power": LEVEL},
    ),
    Case(
        "campaign.power_proportions",
        build=lambda: {"p_treatment": 0.12, "p_control": 0.1, "n_control": 2000.0},
        call=lambda a: power_proportions(a["p_treatment"], a["p_control"], a["n_control"]),
        args={"p_treatment": LEVEL, "p_control": LEVEL, "n_control": Arg("number", gt=0)},
    ),
    Case(
        "campaign.sample_size_proportions",
        build=lambda: {"p_treatment": 0.12, "p_control": 0.1, "alpha": 0.05},
        call=lambda a: sample_size_proportions(a["p_treatment"], a["p_control"], alpha=a["alpha"]),
        args={"p_treatment": LEVEL, "p_control": LEVEL, "alpha": LEVEL},
    ),
    Case(
        "campaign.redeem_coupons",
        build=lambda: {
            "amount_fen": np.array([5000, 800, 12000]),
            "wallet_fen": np.array([1000, 1000, 0]),
            "min_spend_fen": 3000,
        },
        call=lambda a: redeem_coupons(a["amount_fen"], a["wallet_fen"], a["min_spend_fen"]),
        args={
            "amount_fen": Arg("counts", ge=0, any_shape=True, empty_ok=True),
            "wallet_fen": Arg("counts", ge=0, any_shape=True, empty_ok=True),
            "min_spend_fen": Arg("money", ge=0),
        },
        check=lambda d, a: None if (d <= a["amount_fen"]).all() else _fail(),
    ),
    Case(
        "campaign.group_price",
        build=lambda: {"list_price_fen": np.array([10000, 1999]), "discount": 0.2},
        call=lambda a: group_price(a["list_price_fen"], a["discount"]),
        args={
            "list_price_fen": Arg("counts", ge=0, any_shape=True, empty_ok=True),
            "discount": Arg("number", ge=0, le=1),
        },
    ),
    Case(
        "campaign.draw_lottery",
        build=lambda: {"order_amount_fen": np.array([5000, 20000, 100])},
        call=lambda a: draw_lottery(
            a["order_amount_fen"], SpendLottery(), np.random.default_rng(0)
        ),
        args={"order_amount_fen": Arg("counts", ge=0, any_shape=True, empty_ok=True)},
    ),
    Case(
        "campaign.redeem_points",
        build=lambda: {"amount_fen": np.array([5000, 800]), "points": np.array([300, 50])},
        call=lambda a: redeem_points(a["amount_fen"], a["points"], EnergyPoints()),
        args={
            "amount_fen": Arg("counts", ge=0, any_shape=True, empty_ok=True),
            "points": Arg("counts", ge=0, any_shape=True, empty_ok=True),
        },
    ),
]


def _fail() -> None:
    raise AssertionError("a coupon discounts more than the order amount")


RESULT_TYPES = {
    "ArmRun": "result of simulate_arm",
    "Difference": "result of the experiment statistics",
    "Experiment": "result of run_experiment",
    "Replication": "result of replicate",
}
SIMULATION = "input is configs (covered by test_configs.py); runs in tests/campaign"
EXEMPT = {
    "run_experiment": SIMULATION,
    "replicate": SIMULATION,
    "simulate_arm": SIMULATION,
    "arm_metrics": "reads the frames simulate_arm builds",
}
