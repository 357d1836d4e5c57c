# %% [markdown]
# # DDPG slate recommendation in a user simulator
#
# Build simulated users from a ratings frame, compare a greedy item-kNN with a
# small DDPG agent (a learned residual over greedy EASE scores, kept only if it
# wins on validation users) on the test users, and test the per-user difference.
# Simulated CTR is a hit-rate proxy (shown items the user rated >= 4), not real CTR.

# %%
import numpy as np
import torch

from chainmall.datasets import load_movielens_100k
from chainmall.exceptions import DataFileNotFoundError
from chainmall.recommend import (
    DDPGRecommender,
    ItemKNNPolicy,
    SimulatorConfig,
    build_simulation,
    paired_difference,
    per_user_metrics,
    run_episodes,
    summarize_episodes,
)

torch.set_num_threads(1)
try:
    frame = load_movielens_100k()
    frame = frame[frame.user_id <= 300]  # a quick subset
except DataFileNotFoundError:  # no shared data: a small synthetic frame
    import pandas as pd

    rng = np.random.default_rng(0)
    u, i = np.nonzero(rng.random((200, 150)) < 0.2)
    frame = pd.DataFrame(
        {
            "user_id": u,
            "item_id": i,
            "rating": rng.integers(1, 6, len(u)).astype(float),
            "ts": pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.permutation(len(u)), "s"),
        }
    )

data = build_simulation(frame, SimulatorConfig(click_model="logged"))

# %% Greedy item-kNN on what agents may see (train users + visible histories)
logged = data.logged()
positives = (logged.matrix >= 4).astype(float)
knn = ItemKNNPolicy.from_matrix(positives, k=50)
knn_log = run_episodes(data, knn, "test")

# %% A small DDPG agent (behaviour cloning, critic pre-training, DDPG fine-tuning)
agent = DDPGRecommender(bc_steps=300, critic_pretrain_steps=50, rl_steps=150, seed=0).fit(data)
ddpg_log = run_episodes(data, agent, "test")

# %%
for log in (knn_log, ddpg_log):
    m = summarize_episodes(log, n_items=data.n_items)
    print(f"{m.policy:>9}: CTR {m.ctr:.3f} [{m.ctr_low:.3f}, {m.ctr_high:.3f}]")
diff = paired_difference(
    per_user_metrics(ddpg_log)["ctr"].to_numpy(), per_user_metrics(knn_log)["ctr"].to_numpy()
)
print(f"DDPG - kNN: {diff.mean:+.4f} [{diff.low:+.4f}, {diff.high:+.4f}], p={diff.p_value:.2f}")
