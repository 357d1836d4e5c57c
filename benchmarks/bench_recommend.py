"""Collaborative-filtering benchmark on MovieLens 100K (or any u.data-format file).

Rating prediction: KFold(5, shuffle=True, random_state=0); RMSE, MAE, normalised
MAE, fit+predict seconds per fold (CPU and wall) for chainmall's RatingBlend,
MatrixFactorization, KNNBaseline, BaselinePredictor, and scikit-surprise's SVD,
SVD++, KNNBaseline (item pearson_baseline), BaselineOnly in the same run.

Top-N: leave-last-out by time (rating >= 4 positive; last positive = test, the
one before = validation); full-ranking and 100-sampled-negative HR@10/NDCG@10.
EASE's recency half-life is chosen on the validation item only, then refitted
on train_full and scored on the test item. Anchors: EASE λ=100 on positives
(same protocol), implicit's ALS and BPR.

    python benchmarks/bench_recommend.py [--quick] [--no-anchors] [--data-file u.data]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chainmall.recommend import (
    EASE,
    BaselinePredictor,
    Interactions,
    KNNBaseline,
    MatrixFactorization,
    RatingBlend,
    Recommender,
    kfold_splits,
    leave_last_out,
    rank_holdout,
)
from chainmall.recommend.metrics import hit_rate_at_k, mae, ndcg_at_k, rmse

ROWS: list[dict[str, Any]] = []


def emit(
    bench: str,
    metric: str,
    value: float | None,
    anchor: str | None = None,
    anchor_value: float | None = None,
    **extra: Any,
) -> None:
    ratio = value / anchor_value if value is not None and anchor_value else None
    row = {
        "bench": bench,
        "metric": metric,
        "value": value,
        "anchor": anchor,
        "anchor_value": anchor_value,
        "ratio": ratio,
        **extra,
    }
    ROWS.append(row)
    print(json.dumps(row), flush=True)


def read_ratings(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t", names=["user_id", "item_id", "rating", "ts"], dtype="int64")
    frame["ts"] = pd.to_datetime(frame["ts"], unit="s", utc=True)
    frame["rating"] = frame["rating"].astype(float)
    return frame


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def rating_ours(
    frame: pd.DataFrame, make: Callable[[], Recommender], n_folds: int
) -> dict[str, float]:
    errs: dict[str, list[float]] = {"rmse": [], "mae": [], "cpu": [], "wall": []}
    lo, hi = float(frame.rating.min()), float(frame.rating.max())
    for fold, (train, test) in enumerate(kfold_splits(frame, 5, seed=0)):
        if fold >= n_folds:
            break

        def run(train: pd.DataFrame = train, test: pd.DataFrame = test) -> Any:
            data = Interactions.from_frame(train, rating_min=lo, rating_max=hi)
            return make().fit(data).predict(test).prediction.to_numpy()

        pred, cpu, wall = timed(run)
        errs["rmse"].append(rmse(pred, test.rating))
        errs["mae"].append(mae(pred, test.rating))
        errs["cpu"].append(cpu)
        errs["wall"].append(wall)
    out = {k: float(np.mean(v)) for k, v in errs.items()}
    out["nmae"] = out["mae"] / (hi - lo)
    return out


def rating_surprise(frame: pd.DataFrame, name: str, n_folds: int) -> dict[str, float]:
    import surprise

    algos = {
        "surprise_svd": lambda: surprise.SVD(random_state=0),
        "surprise_svdpp": lambda: surprise.SVDpp(random_state=0),
        "surprise_knnbaseline": lambda: surprise.KNNBaseline(
            sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False
        ),
        "surprise_baselineonly": lambda: surprise.BaselineOnly(verbose=False),
    }
    reader = surprise.Reader(rating_scale=(frame.rating.min(), frame.rating.max()))
    errs: dict[str, list[float]] = {"rmse": [], "mae": [], "cpu": [], "wall": []}
    for fold, (train, test) in enumerate(kfold_splits(frame, 5, seed=0)):
        if fold >= n_folds:
            break
        trainset = surprise.Dataset.load_from_df(
            train[["user_id", "item_id", "rating"]], reader
        ).build_full_trainset()
        testset = list(zip(test.user_id, test.item_id, test.rating, strict=True))

        def run(trainset: Any = trainset, testset: Any = testset) -> Any:
            algo = algos[name]()
            algo.fit(trainset)
            return np.array([p.est for p in algo.test(testset)])

        pred, cpu, wall = timed(run)
        errs["rmse"].append(rmse(pred, test.rating))
        errs["mae"].append(mae(pred, test.rating))
        errs["cpu"].append(cpu)
        errs["wall"].append(wall)
    return {k: float(np.mean(v)) for k, v in errs.items()}


def topn_eval(
    model: Recommender, train: pd.DataFrame, holdout: pd.DataFrame, positives_only: bool
) -> tuple[dict[str, float], float]:
    fit_frame = train[train.rating >= 4] if positives_only else train
    model_fit, cpu, _ = timed(
        lambda: model.fit(Interactions.from_frame(fit_frame, rating_col=None))
    )
    full = rank_holdout(model_fit, holdout)
    sampled = rank_holdout(model_fit, holdout, n_negatives=100, seed=0)
    return {
        "hr10_full": hit_rate_at_k(full, 10),
        "ndcg10_full": ndcg_at_k(full, 10),
        "hr10_sampled": hit_rate_at_k(sampled, 10),
        "ndcg10_sampled": ndcg_at_k(sampled, 10),
    }, cpu


def topn_implicit(split: Any, name: str) -> tuple[dict[str, float], float]:
    """implicit's ALS/BPR on positives of train_full, ranked with the same rank_holdout."""
    import implicit

    train = split.train_full[split.train_full.rating >= 4]
    data = Interactions.from_frame(train, rating_col=None)

    class _Wrap(EASE):  # reuse the scoring contract with implicit's factors
        def _fit(self, matrix: Any) -> None:
            algo = (
                implicit.cpu.als.AlternatingLeastSquares(
                    factors=64, regularization=0.05, iterations=15, random_state=0
                )
                if name == "implicit_als"
                else implicit.cpu.bpr.BayesianPersonalizedRanking(
                    factors=64, iterations=100, random_state=0
                )
            )
            algo.fit(matrix.tocsr().astype(np.float32), show_progress=False)
            self.user_factors_ = np.asarray(algo.user_factors)
            self.item_factors_ = np.asarray(algo.item_factors)

        def _score_users(self, users: Any) -> Any:
            return self.user_factors_[users] @ self.item_factors_.T

    model, cpu, _ = timed(lambda: _Wrap().fit(data))
    full = rank_holdout(model, split.test)
    sampled = rank_holdout(model, split.test, n_negatives=100, seed=0)
    return {
        "hr10_full": hit_rate_at_k(full, 10),
        "ndcg10_full": ndcg_at_k(full, 10),
        "hr10_sampled": hit_rate_at_k(sampled, 10),
        "ndcg10_sampled": ndcg_at_k(sampled, 10),
    }, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-file", type=Path, default=None)
    parser.add_argument("--no-anchors", action="store_true")
    parser.add_argument("--quick", action="store_true", help="1 fold, no SVD++ (under 45 s)")
    args = parser.parse_args()
    path = (
        args.data_file
        or Path(os.environ.get("CHAINMALL_DATA", "../shared/data")) / "ml-100k" / "u.data"
    )
    frame = read_ratings(path)
    n_folds = 1 if args.quick else 5
    bench = "cf_rating"

    ours = {
        "blend": RatingBlend,
        "mf_als": MatrixFactorization,
        "knn_item": KNNBaseline,
        "baseline": BaselinePredictor,
    }
    results = {name: rating_ours(frame, make, n_folds) for name, make in ours.items()}
    anchors: dict[str, dict[str, float]] = {}
    if not args.no_anchors:
        for name in [
            "surprise_svd",
            "surprise_svdpp",
            "surprise_knnbaseline",
            "surprise_baselineonly",
        ]:
            if args.quick and name == "surprise_svdpp":
                print(
                    json.dumps(
                        {
                            "bench": bench,
                            "metric": "rmse",
                            "anchor": name,
                            "skipped": "quick mode: SVD++ takes ~11 s per fold",
                        }
                    )
                )
                continue
            try:
                anchors[name] = rating_surprise(frame, name, n_folds)
            except Exception as exc:  # an anchor failing must be visible, never silent
                print(json.dumps({"bench": bench, "anchor": name, "failed": repr(exc)}))
    ref = anchors.get("surprise_svdpp") or anchors.get("surprise_knnbaseline")
    ref_name = (
        "surprise_svdpp"
        if "surprise_svdpp" in anchors
        else ("surprise_knnbaseline" if ref else None)
    )
    suffix = "1fold" if args.quick else "5fold"
    for name, res in results.items():
        emit(
            bench, f"rmse_{suffix}", res["rmse"], ref_name, ref["rmse"] if ref else None, model=name
        )
        emit(bench, f"mae_{suffix}", res["mae"], ref_name, ref["mae"] if ref else None, model=name)
        emit(bench, f"nmae_{suffix}", res["nmae"], None, None, model=name)
        emit(
            bench,
            "fit_predict_cpu_s_per_fold",
            res["cpu"],
            ref_name,
            ref["cpu"] if ref else None,
            model=name,
        )
        emit(
            bench,
            "fit_predict_wall_s_per_fold",
            res["wall"],
            ref_name,
            ref["wall"] if ref else None,
            model=name,
        )
    for name, res in anchors.items():
        emit(bench, f"rmse_{suffix}", res["rmse"], None, None, model=name)
        emit(bench, f"mae_{suffix}", res["mae"], None, None, model=name)
        emit(bench, "fit_predict_cpu_s_per_fold", res["cpu"], None, None, model=name)
        emit(bench, "fit_predict_wall_s_per_fold", res["wall"], None, None, model=name)

    # ------------------------------------------------------------------ top-N
    bench = "cf_topn"
    split = leave_last_out(frame)
    grid = [None, 5.0, 20.0, 50.0] if not args.quick else [None, 20.0]
    val = {
        hl: topn_eval(EASE(recency_half_life=hl), split.train, split.validation, False)[0][
            "hr10_full"
        ]
        for hl in grid
    }
    best = max(grid, key=lambda hl: (val[hl], hl is None))
    emit(
        bench,
        "ease_half_life_chosen_on_validation",
        best if best is not None else 0.0,
        None,
        None,
        validation_hr10=val,
    )
    ours_top, ours_cpu = topn_eval(
        EASE(recency_half_life=best), split.train_full, split.test, False
    )
    ease_pos, ease_cpu = topn_eval(EASE(reg=100.0), split.train_full, split.test, True)
    topn_anchor: dict[str, tuple[dict[str, float], float]] = {
        "ease_lambda100_positives": (ease_pos, ease_cpu)
    }
    if not args.no_anchors:
        for name in ["implicit_als", "implicit_bpr"]:
            try:
                topn_anchor[name] = topn_implicit(split, name)
            except Exception as exc:
                print(json.dumps({"bench": bench, "anchor": name, "failed": repr(exc)}))
    for metric, value in ours_top.items():
        emit(
            bench, metric, value, "ease_lambda100_positives", ease_pos[metric], model="ease_recency"
        )
    emit(bench, "fit_cpu_s", ours_cpu, "ease_lambda100_positives", ease_cpu, model="ease_recency")
    for name, (res, cpu) in topn_anchor.items():
        for metric, value in res.items():
            emit(bench, metric, value, None, None, model=name)
        emit(bench, "fit_cpu_s", cpu, None, None, model=name)

    table = pd.DataFrame(ROWS)
    table = table[table.anchor_value.isna() | table.model.notna()]
    print()
    print(
        table.pivot_table(
            index=["bench", "model"], columns="metric", values="value", aggfunc="first"
        )
        .round(4)
        .to_string()
    )


if __name__ == "__main__":
    main()
