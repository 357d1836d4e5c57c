# %% [markdown]
# # Recommendation quickstart: ratings and top-N on MovieLens 100K
# Predict ratings with a blend of matrix factorisation and item-kNN, then
# recommend unseen items with EASE. Falls back to a small synthetic set when
# the shared data is absent.

# %%
import numpy as np
import pandas as pd

from chainmall.datasets import load_movielens_100k
from chainmall.exceptions import DataFileNotFoundError
from chainmall.recommend import EASE, Interactions, RatingBlend, kfold_splits
from chainmall.recommend.metrics import mae, normalised_mae, rmse

try:
    ratings = load_movielens_100k()
except DataFileNotFoundError:
    rng = np.random.default_rng(0)
    n = 5_000
    ratings = pd.DataFrame(
        {
            "user_id": rng.integers(0, 200, n),
            "item_id": rng.integers(0, 300, n),
            "rating": rng.integers(1, 6, n).astype(float),
            "ts": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="min"),
        }
    ).drop_duplicates(["user_id", "item_id"])

# %% one fold of the benchmark protocol
train, test = next(iter(kfold_splits(ratings, 5, seed=0)))
model = RatingBlend().fit(Interactions.from_frame(train))
pred = model.predict(test)
print(f"RMSE {rmse(pred.prediction, test.rating):.4f}  MAE {mae(pred.prediction, test.rating):.4f}")
print(f"normalised MAE {normalised_mae(pred.prediction, test.rating, 1, 5):.1%}")
print("blend weights:", np.round(model.weights_, 3))

# %% unknown users and items fall back to the bias baseline, and are flagged
pairs = pd.DataFrame(
    {"user_id": [train.user_id.iloc[0], -1], "item_id": [train.item_id.iloc[0], -1]}
)
print(model.predict(pairs))

# %% top-N with EASE on every interaction (recent ones weigh more)
ease = EASE(reg=100.0, recency_half_life=20.0).fit(
    Interactions.from_frame(ratings, rating_col=None)
)
print(ease.recommend(ratings.user_id.unique()[:2], k=5))
print(ease.similar_items([ratings.item_id.iloc[0]], k=5))
