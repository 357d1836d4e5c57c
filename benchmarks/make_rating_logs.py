"""Write the two extra u.data-format rating logs the recommendation benchmark is run on.

* ``ml100k_sparse.data``: MovieLens 100K thinned per user to a heavy-tailed
  number of ratings, ``min(n_u, 1 + floor(4 · Pareto(1.1)))`` drawn with seed 0
  (a random subset of each user's ratings): every user stays, most keep a handful
  of ratings, a few keep hundreds.
* ``shop.data``: the ratings of ``chainmall.datasets.make_shop(seed=0,
  n_members=20_000, n_items=1_000)``: sparse, skewed, latent-factor ratings.

Both are tab-separated ``user_id, item_id, rating, unix seconds`` without a header.

    python benchmarks/make_rating_logs.py --out-dir /tmp/logs
    python benchmarks/bench_recommend.py --data-file /tmp/logs/ml100k_sparse.data
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from chainmall.datasets import load_movielens_100k, make_shop


def sparse_movielens(ratings: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Each user's ratings thinned to a heavy-tailed count (a seeded random subset)."""
    rng = np.random.default_rng(seed)
    users = np.sort(ratings.user_id.unique())
    keep = 1 + np.floor(4 * rng.pareto(1.1, len(users))).astype(np.int64)
    shuffled = ratings.iloc[rng.permutation(len(ratings))]
    position = shuffled.groupby("user_id").cumcount().to_numpy()
    cap = pd.Series(keep, index=users).reindex(shuffled.user_id).to_numpy()
    return shuffled[position < cap].sort_index()


def write_u_data(ratings: pd.DataFrame, path: Path) -> None:
    out = ratings[["user_id", "item_id", "rating"]].copy()
    out["ts"] = (ratings.ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(1, "s")
    out.to_csv(path, sep="\t", header=False, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    movielens = load_movielens_100k(data_home=os.environ.get("CHAINMALL_DATA"))
    sparse = sparse_movielens(movielens)
    write_u_data(sparse, args.out_dir / "ml100k_sparse.data")
    shop = make_shop(seed=0, n_members=20_000, n_items=1_000).ratings
    write_u_data(shop, args.out_dir / "shop.data")
    for name, frame in [("ml100k_sparse.data", sparse), ("shop.data", shop)]:
        per_user = frame.groupby("user_id").size()
        print(
            f"{name}: {len(frame)} ratings, {len(per_user)} users "
            f"(median {per_user.median():.0f}, max {per_user.max()} ratings per user), "
            f"{frame.item_id.nunique()} items"
        )


if __name__ == "__main__":
    main()
