# %% [markdown]
# # Pricing quickstart: demand, elasticities, basket prices, audit trail
#
# A seeded synthetic market (3 substitute products in 24 stores, 2 years of weeks)
# with known demand: fit the monotone demand model, estimate own and cross
# elasticities by double ML, price next week's baskets inside the guard rails,
# record every decision in a hash-chained ledger, and compare with the oracle.

# %%
import numpy as np
import pandas as pd

from chainmall.ledger import Ledger, verify_inclusion
from chainmall.pricing import (
    DemandConfig,
    DemandFeatureBuilder,
    DemandModel,
    ElasticityConfig,
    GuardRailConfig,
    apply_benefits,
    estimate_elasticity,
    optimize_prices,
    oracle_prices,
    realised_profit,
    simulate_market,
)

market = simulate_market(n_stores=24, n_weeks=104, seed=7)
history = market.history.rename(columns={"price_fen": "price", "product": "brand"})
train = history[history["week"] < 100]
print(history.head())

# %% [markdown]
# Features are list-price eligible only (product, store, time, market); the model is
# monotone non-increasing in `log_price`, checked on a price grid after fitting.

# %%
builder = DemandFeatureBuilder(columns={"store_id": "store", "item_id": "brand", "ds": "week"})
builder = builder.fit(train)
feats = builder.transform(history, market=history[["store", "week", "brand", "price", "feat"]])
cols = builder.feature_columns(feats)
model = DemandModel(DemandConfig(n_estimators=150, learning_rate=0.1)).fit(
    feats.loc[train.index, cols],
    builder.target(train),
    catalog=builder.catalog_for(cols),
    periods=train["week"],
)
print("grid check:", model.train_report_)

# %% [markdown]
# Double ML: own price and the rivals' prices as joint treatments, per product. A
# store's weeks share shocks, so the errors are clustered by store (and the folds split
# stores); two fold splits are aggregated by the median.

# %%
rivals = [c for c in cols if c.startswith("comp_log_price__")]
elasticities = estimate_elasticity(
    feats.loc[train.index].assign(log_units=builder.target(train)),
    controls=[c for c in cols if c not in ("log_price", "comp_min_log_price", *rivals)],
    treatment=["log_price", *rivals],
    by=["item_id"],
    cluster="store_id",
    config=ElasticityConfig(max_iter=100, n_folds=3, n_repeats=2),
)
print(elasticities.round(2))
print("true own:", market.own_elasticity.round(2))

# %% [markdown]
# Price week 100 for every store: each basket (store-week) is optimised jointly, so
# cutting one product's price does not just take sales from its neighbours.

# %%
week = history[history["week"] == 100].reset_index(drop=True)
own = elasticities[elasticities["treatment"] == "log_price"].set_index("item_id")["elasticity"]
cross = (
    elasticities[elasticities["treatment"] != "log_price"]
    .assign(rival=lambda d: d["treatment"].str.removeprefix("comp_log_price__").astype(int))
    .rename(columns={"item_id": "product"})[["product", "rival", "elasticity"]]
)
offers = week.rename(columns={"brand": "product"}).assign(
    current_price_fen=week["price"],
    baseline_units=model.predict_units(feats.loc[history["week"] == 100, cols]).to_numpy(),
    elasticity=own.loc[week["brand"]].to_numpy(),
)[
    [
        "store",
        "week",
        "product",
        "current_price_fen",
        "unit_cost_fen",
        "baseline_units",
        "elasticity",
    ]
]
ledger = Ledger()
rails = GuardRailConfig(emergency_cap=False)
decision = optimize_prices(
    offers,
    rails,
    keys=("store_id", "week", "item_id"),
    columns={"store_id": "store", "item_id": "product"},
    cross_elasticity=cross,
    model_versions={"demand": model.version_},
    ledger=ledger,
)
shown = ["store_id", "item_id", "current_price_fen", "price_fen", "binding_constraint"]
print(decision.prices[shown].head(9))

# %% [markdown]
# Anyone holding the published tree head can check a single decision.

# %%
head = ledger.head()
proof = ledger.inclusion_proof(4)
print("decision 4 included:", verify_inclusion(decision.audit_records[4], proof, head))

# %% [markdown]
# Realised (true expected) profit against the oracle, which knows the demand.

# %%
keys = offers[["store", "product", "week"]].assign(feat=week["feat"])
ours = realised_profit(market, keys.assign(price_fen=decision.prices["price_fen"]))
best = realised_profit(market, oracle_prices(market, offers.assign(feat=week["feat"]), rails))
now = realised_profit(market, keys.assign(price_fen=offers["current_price_fen"]))
print(f"share of oracle: ours {ours / best:.3f}, current prices {now / best:.3f}")

# %% [markdown]
# Published benefits apply below the list price; user features never reach it.

# %%

customers = pd.DataFrame(
    {
        "user_id": [1, 2],
        "membership_tier": ["gold", None],
        "is_new_user": [False, True],
        "rfml_segment": [None, "potential"],
    }
)
list_price = int(decision.prices.loc[0, "price_fen"])
lines = pd.DataFrame(
    {"order_id": [1, 2], "user_id": [1, 2], "quantity": [12, 12], "list_price_fen": list_price}
)
paid = apply_benefits(lines, customers)
print(paid[["user_id", "list_price_fen", "discount_fen", "pay_fen"]])
assert (paid["pay_fen"] <= paid["list_amount_fen"]).all()
assert np.all(paid["list_price_fen"] == list_price)
