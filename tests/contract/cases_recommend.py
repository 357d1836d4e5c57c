"""Contract cases of ``chainmall.recommend``."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from chainmall.recommend import (
    EASE,
    BaselinePredictor,
    EpsilonGreedyPolicy,
    ImplicitALS,
    Interactions,
    KNNBaseline,
    MatrixFactorization,
    PopularityPolicy,
    RandomPolicy,
    RatingBlend,
    SimulationData,
    SimulatorConfig,
    bootstrap_ci,
    build_simulation,
    kfold_splits,
    leave_last_out,
    paired_difference,
    rank_holdout,
    run_episodes,
    summarize_episodes,
)
from tests.contract.data import ratings
from tests.contract.spec import Arg, Case, Col

FRAME = Arg("frame")
RATINGS = {
    "user_id": Col("id"),
    "item_id": Col("id"),
    "rating": Col("number", ge=0),
    "ts": Col("time"),
}
SIMULATION = SimulatorConfig(n_visible=3, n_steps=2, slate_size=3)


@cache
def _ease() -> EASE:
    return EASE().fit(Interactions.from_frame(ratings()))


@cache
def _simulation() -> SimulationData:
    return build_simulation(ratings(30, 12), SIMULATION)


@cache
def _log() -> Any:
    return run_episodes(_simulation(), RandomPolicy(_simulation().n_items), "test")


def _fit_case(cls: type) -> Case:
    return Case(
        f"recommend.{cls.__name__}.fit",
        build=lambda: {"interactions": ratings()},
        call=lambda a: cls().fit(Interactions.from_frame(a["interactions"])),
        columns={"interactions": RATINGS},
        args={"interactions": FRAME},
    )


def _holdout() -> Any:
    frame = ratings()
    return frame.drop_duplicates("user_id")[["user_id", "item_id"]].reset_index(drop=True)


CASES = [
    Case(
        "recommend.Interactions.from_frame",
        build=lambda: {"interactions": ratings()},
        call=lambda a: Interactions.from_frame(a["interactions"]),
        columns={"interactions": RATINGS},
        args={"interactions": FRAME},
    ),
    *(
        _fit_case(cls)
        for cls in (BaselinePredictor, KNNBaseline, MatrixFactorization, EASE, ImplicitALS)
    ),
    _fit_case(RatingBlend),
    Case(
        "recommend.EASE.predict",
        build=lambda: {"pairs": ratings()[["user_id", "item_id"]]},
        call=lambda a: _ease().predict(a["pairs"]),
        columns={"pairs": {"user_id": Col("id"), "item_id": Col("id")}},
        args={"pairs": Arg("frame", empty_ok=True)},
    ),
    Case(
        "recommend.EASE.recommend",
        build=lambda: {"users": [0, 1, 99], "k": 3, "exclude_seen": True},
        call=lambda a: _ease().recommend(a["users"], a["k"], exclude_seen=a["exclude_seen"]),
        args={"k": Arg("count", ge=1), "exclude_seen": Arg("flag")},
    ),
    Case(
        "recommend.EASE.similar_items",
        build=lambda: {"items": [0, 1], "k": 2},
        call=lambda a: _ease().similar_items(a["items"], a["k"]),
        args={"k": Arg("count", ge=1)},
    ),
    Case(
        "recommend.leave_last_out",
        build=lambda: {"frame": ratings(), "min_rating": 4.0},
        call=lambda a: leave_last_out(a["frame"], min_rating=a["min_rating"]),
        columns={"frame": {"user_id": Col("id"), "rating": Col("number", ge=0), "ts": Col("time")}},
        args={"frame": FRAME, "min_rating": Arg("number")},
    ),
    Case(
        "recommend.kfold_splits",
        build=lambda: {"frame": ratings(), "n_splits": 3, "seed": 0},
        call=lambda a: list(kfold_splits(a["frame"], a["n_splits"], seed=a["seed"])),
        args={"n_splits": Arg("count", ge=2), "seed": Arg("count", ge=0)},
    ),
    Case(
        "recommend.rank_holdout",
        build=lambda: {"holdout": _holdout(), "n_negatives": 3, "seed": 0},
        call=lambda a: rank_holdout(
            _ease(), a["holdout"], n_negatives=a["n_negatives"], seed=a["seed"]
        ),
        columns={"holdout": {"user_id": Col("id", unique=True), "item_id": Col("id")}},
        args={
            "holdout": FRAME,
            "n_negatives": Arg("count", ge=1, allow_none=True),
            "seed": Arg("count", ge=0),
        },
    ),
    Case(
        "recommend.bootstrap_ci",
        build=lambda: {"values": [0.1, 0.4, np.nan, 0.3], "n_boot": 50, "level": 0.9},
        call=lambda a: bootstrap_ci(a["values"], n_boot=a["n_boot"], level=a["level"]),
        args={
            "values": Arg("numbers", allow_nan=True),
            "n_boot": Arg("count", ge=1),
            "level": Arg("number", gt=0, le=1),
        },
    ),
    Case(
        "recommend.paired_difference",
        build=lambda: {"a": [0.1, 0.4, 0.2, 0.3], "b": [0.0, 0.5, 0.1, 0.3], "n_boot": 50},
        call=lambda a: paired_difference(a["a"], a["b"], n_boot=a["n_boot"]),
        args={
            "a": Arg("numbers", allow_nan=True),
            "b": Arg("numbers", allow_nan=True),
            "n_boot": Arg("count", ge=1),
        },
    ),
    Case(
        "recommend.build_simulation",
        build=lambda: {"frame": ratings(30, 12)},
        call=lambda a: build_simulation(a["frame"], SIMULATION),
        columns={"frame": RATINGS},
        args={"frame": FRAME},
    ),
    Case(
        "recommend.run_episodes",
        build=lambda: {"users": [0, 1, 2], "batch_size": 2, "seed": 0},
        call=lambda a: run_episodes(
            _simulation(),
            PopularityPolicy(np.ones(_simulation().n_items)),
            a["users"],
            batch_size=a["batch_size"],
            seed=a["seed"],
        ),
        args={
            "users": Arg("counts", ge=0, empty_ok=True),
            "batch_size": Arg("count", ge=1),
            "seed": Arg("count", ge=0),
        },
    ),
    Case(
        "recommend.summarize_episodes",
        build=lambda: {"n_items": 12, "n_boot": 20},
        call=lambda a: summarize_episodes(_log(), n_items=a["n_items"], n_boot=a["n_boot"]),
        args={"n_items": Arg("count", ge=1), "n_boot": Arg("count", ge=1)},
    ),
    Case(
        "recommend.RandomPolicy",
        build=lambda: {"n_items": 5, "seed": 0},
        call=lambda a: RandomPolicy(a["n_items"], seed=a["seed"]),
        args={"n_items": Arg("count", ge=1), "seed": Arg("count", ge=0)},
    ),
    Case(
        "recommend.PopularityPolicy",
        build=lambda: {"popularity": [3.0, 1.0, 2.0]},
        call=lambda a: PopularityPolicy(a["popularity"]),
        args={"popularity": Arg("numbers")},
    ),
    Case(
        "recommend.EpsilonGreedyPolicy",
        build=lambda: {"prior": [3.0, 1.0, 2.0], "epsilon": 0.1, "strength": 10.0},
        call=lambda a: EpsilonGreedyPolicy(
            a["prior"], epsilon=a["epsilon"], strength=a["strength"]
        ),
        args={
            "prior": Arg("numbers", ge=0),
            "epsilon": Arg("number", ge=0, le=1),
            "strength": Arg("number", ge=0),
        },
    ),
]

RESULT_TYPES = {
    "EpisodeLog": "result of run_episodes",
    "EpisodeState": "state the simulator hands to policies",
    "LeaveLastOut": "result of leave_last_out",
    "PairedTest": "result of paired_difference",
    "PolicyMetrics": "result of summarize_episodes",
    "SimulationData": "result of build_simulation",
}
LIBRARY_INPUT = "built from library outputs (SimulationData, fitted factors), not raw user data"
EXEMPT = {
    "Recommender": "abstract base; its fit/predict/recommend are covered through EASE",
    "RatingModel": "abstract base of the rating models, covered through their fit cases",
    "SlatePolicy": "abstract base of the policies",
    "DDPGRecommender": "fit reads SimulationData (build_simulation is covered); save/load in "
    "test_model_files.py",
    "per_user_metrics": "reads an EpisodeLog from run_episodes",
    "EASEPolicy": LIBRARY_INPUT,
    "EmbeddingGreedyPolicy": LIBRARY_INPUT,
    "ItemKNNPolicy": LIBRARY_INPUT,
    "LinUCBPolicy": LIBRARY_INPUT,
    "OraclePolicy": LIBRARY_INPUT,
    "RecommendationEnv": LIBRARY_INPUT,
    "SlateSimulator": LIBRARY_INPUT,
}
