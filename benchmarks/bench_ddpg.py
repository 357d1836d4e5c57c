"""DDPG slate recommendation in the MovieLens 100K user simulator (or any u.data file).

Protocol (docs/recommend_rl.md): users split 60/20/20 (seed 0); first 10
ratings by time visible; 10 slates of 10 per episode. Click models S1
(logged), S2 (restricted), S3 (model-based). Every baseline runs in the same
process on the same test users; DDPG is trained once per seed (train users only,
validation users to choose pre-trained vs fine-tuned weights) and judged on the
test users. Simulated CTR is a hit-rate proxy, not a real click-through rate.

    python benchmarks/bench_ddpg.py [--quick] [--no-anchors] [--seeds 5] [--data-file u.data]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _report import Report, timed

from chainmall.recommend import (
    DDPGConfig,
    DDPGRecommender,
    EASEPolicy,
    EmbeddingGreedyPolicy,
    EpsilonGreedyPolicy,
    ImplicitALS,
    Interactions,
    ItemKNNPolicy,
    LinUCBPolicy,
    OraclePolicy,
    PopularityPolicy,
    RandomPolicy,
    SimulationData,
    SimulatorConfig,
    SlatePolicy,
    build_simulation,
    paired_difference,
    per_user_metrics,
    run_episodes,
    summarize_episodes,
)

ANCHORS = {  # spec figures (S1, S2, S3)
    "random": (0.034, 0.565, 0.142),
    "popularity": (0.203, 0.605, 0.514),
    "item_knn": (0.243, 0.607, 0.562),
    "linucb": (0.202, None, None),
    "oracle": (0.445, None, None),
}
MODELS = {"S1": "logged", "S2": "restricted", "S3": "model_based"}


def read_ratings(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t", names=["user_id", "item_id", "rating", "ts"], dtype="int64")
    frame["ts"] = pd.to_datetime(frame["ts"], unit="s", utc=True)
    frame["rating"] = frame["rating"].astype(float)
    return frame


def baselines(data: SimulationData, with_anchors: bool) -> dict[str, SlatePolicy]:
    logged = data.logged()
    positives = logged.matrix.copy()
    positives.data = (positives.data >= data.config.click_threshold).astype(np.float64)
    positives.eliminate_zeros()
    popularity = np.asarray(positives.sum(axis=0)).ravel()
    policies: dict[str, SlatePolicy] = {
        "item_knn": ItemKNNPolicy.from_matrix(positives, k=50, tie_break=popularity),
        "ease_greedy": EASEPolicy.from_matrix(positives, reg=700.0, tie_break=popularity),
    }
    if with_anchors:
        als = ImplicitALS(n_factors=32).fit(
            Interactions(positives, logged.user_ids, logged.item_ids, None, logged.config)
        )
        policies.update(
            {
                "random": RandomPolicy(data.n_items, seed=0),
                "popularity": PopularityPolicy(popularity),
                "als_greedy": EmbeddingGreedyPolicy(als.item_embeddings()),
                "epsilon_greedy": EpsilonGreedyPolicy(popularity, epsilon=0.1, seed=0),
                "linucb": LinUCBPolicy(als.item_embeddings()),
                "oracle": OraclePolicy(data),
            }
        )
    return policies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-file", type=Path, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-anchors", action="store_true")
    parser.add_argument("--seeds", type=int, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    path = args.data_file or Path(os.environ.get("CHAINMALL_DATA", "../shared/data")) / (
        "ml-100k/u.data"
    )
    frame = read_ratings(path)
    n_seeds = args.seeds or (1 if args.quick else 5)
    ddpg_cfg = DDPGConfig(device="auto")
    if args.quick:
        users = np.sort(frame.user_id.unique())[:300]
        frame = frame[frame.user_id.isin(users)]
        ddpg_cfg = ddpg_cfg.replace(bc_steps=200, critic_pretrain_steps=40, rl_steps=100)
    report = Report("ddpg")
    report.add("users", float(frame.user_id.nunique()), note=f"{len(frame)} ratings, {path.name}")
    knn_users: dict[str, Any] = {}
    for label, model in MODELS.items():
        if label == "S2" and args.quick:
            continue
        data = build_simulation(frame, SimulatorConfig(click_model=model))
        emb = None
        for name, policy in baselines(data, not args.no_anchors).items():
            log = run_episodes(data, policy, "test")
            m = summarize_episodes(log, n_items=data.n_items)
            anchor = ANCHORS.get(name, (None, None, None))[int(label[1]) - 1]
            report.add(
                f"ctr_{label.lower()}_{name}",
                m.ctr,
                anchor=anchor,
                anchor_name="spec" if anchor is not None else None,
                note=f"95% CI [{m.ctr_low:.3f}, {m.ctr_high:.3f}]",
            )
            if name in ("item_knn", "ease_greedy"):
                knn_users[f"{label}_{name}"] = per_user_metrics(log)["ctr"].to_numpy()
        if label == "S2":
            continue
        per_seed = []
        selected: list[str] = []
        for seed in range(n_seeds):
            with timed() as t:
                agent = DDPGRecommender(ddpg_cfg, seed=seed).fit(data, item_embeddings=emb)
            log = run_episodes(data, agent, "test")
            m = summarize_episodes(log, n_items=data.n_items)
            per_seed.append(per_user_metrics(log)["ctr"].to_numpy())
            selected.append(str(agent.fit_report_.get("selected", "finetuned")))
            report.add(
                f"ctr_{label.lower()}_ddpg_seed{seed}",
                m.ctr,
                anchor=ANCHORS["item_knn"][int(label[1]) - 1],
                anchor_name="spec kNN",
                note=f"fit {t.cpu_s:.0f} CPU-s / {t.wall_s:.0f} s wall; p@10 first slate "
                f"{m.precision_at_slate:.3f}; coverage {m.coverage:.3f}; "
                f"validation {agent.fit_report_}",
            )
            report.add(f"fit_cpu_s_{label.lower()}_seed{seed}", t.cpu_s, target="<= 300")
        mean_ddpg = np.mean(per_seed, axis=0)
        report.add(
            f"ctr_{label.lower()}_ddpg",
            float(np.nanmean(mean_ddpg)),
            anchor=ANCHORS["item_knn"][int(label[1]) - 1],
            anchor_name="spec kNN",
            target=">= 0.27" if label == "S1" else ">= kNN",
            note=f"mean of {n_seeds} seed(s); weights kept per seed: {selected}",
        )
        test = paired_difference(mean_ddpg, knn_users[f"{label}_item_knn"])
        report.add(
            f"ctr_{label.lower()}_ddpg_minus_knn",
            test.mean,
            target="CI excludes 0, > 0",
            note=f"paired 95% CI [{test.low:.4f}, {test.high:.4f}], p={test.p_value:.3f}, "
            f"{test.n_users} users",
        )
        gain = paired_difference(mean_ddpg, knn_users[f"{label}_ease_greedy"])
        report.add(
            f"ctr_{label.lower()}_ddpg_minus_ease",
            gain.mean,
            note=f"RL gain over its own base; paired 95% CI [{gain.low:.4f}, {gain.high:.4f}], "
            f"p={gain.p_value:.3f}",
        )
    report.table()


if __name__ == "__main__":
    main()
