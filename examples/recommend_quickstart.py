# %% [markdown]
# # Recommendation quickstart: ratings and top-N on MovieLens 100K
# Predict ratings with the stacked blend (MF, item-kNN, baseline), then recommend
# unseen items with EASE: hide sold-out items, update the model with a new day of
# interactions without a refit, and score brand-new items from their features.
# Falls back to a small synthetic set when the shared data is absent.

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
print("chosen on the inner validation split:", model.selected_)
print("held-out RMSE per candidate:", {k: round(v, 4) for k, v in model.validation_rmse_.items()})

# %% unknown users and items fall back to the bias baseline, and are flagged
pairs = pd.DataFrame(
    {"user_id": [train.user_id.iloc[0], -1], "item_id": [train.item_id.iloc[0], -1]}
)
print(model.predict(pairs))

# %% top-N with EASE on every interaction but the last day (recent ones weigh more)
ordered = ratings.sort_values("ts", kind="stable")
last_day = ordered.ts.dt.floor("D") == ordered.ts.dt.floor("D").max()
ease = EASE(reg=100.0, recency_half_life=20.0).fit(
    Interactions.from_frame(ordered[~last_day], rating_col=None)
)
users = ordered.user_id.unique()[:2]
sold_out = ordered.item_id.value_counts().index[:5]  # say the five best sellers ran out
print(ease.recommend(users, k=5, exclude_items=sold_out))

# %% the last day arrives: update in place; equal to a refit up to float round-off
ease.partial_fit(ordered[last_day])
refit = EASE(reg=100.0, recency_half_life=20.0).fit(
    Interactions.from_frame(ordered, rating_col=None)
)
gap = np.abs(ease.item_weights_ - refit.item_weights_).max()
print(f"largest weight gap to a refit: {gap:.1e}")

# %% two new items nobody has seen yet, described by the same features as the catalogue
# (one stand-in feature here, "on the bestseller shelf"; real catalogues give
# category, brand, price band...: see the benchmark's MovieLens genres)
catalogue = pd.DataFrame({"item_id": ordered.item_id.unique()})
catalogue["bestseller_shelf"] = catalogue.item_id.isin(ordered.item_id.value_counts().index[:100])
new_items = pd.DataFrame({"item_id": [10_001, 10_002], "bestseller_shelf": [True, False]})
ease.partial_fit(ordered.head(0), item_features=pd.concat([catalogue, new_items]))
print("cold items:", ease.cold_items())
print(ease.recommend(users, k=2, items=ease.cold_items()))
print(ease.similar_items([ordered.item_id.iloc[0]], k=5))
