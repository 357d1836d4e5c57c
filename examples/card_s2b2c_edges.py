# %% [markdown]
# # The S2B2C edges: behaviour events, traceability and nearby stores

# %%
import numpy as np
import pandas as pd

from chainmall.events import funnel_report, user_features, validate_events
from chainmall.ledger import Ledger
from chainmall.stores import StoreConfig, match_stores
from chainmall.trace import issue_provenance, record_provenance, verify_provenance

# %% [markdown]
# ## Behaviour events: validate, featurise, report the funnel

# %%
rng = np.random.default_rng(0)
n = 5_000
t0 = pd.Timestamp("2024-06-01", tz="Asia/Shanghai")
kinds = rng.choice(
    ["page_view", "click", "dwell", "add_to_cart", "order"], n, p=[0.45, 0.3, 0.15, 0.07, 0.03]
)
events = pd.DataFrame(
    {
        "user_id": rng.integers(0, 300, n),
        "event_type": kinds,
        "ts": t0 + pd.to_timedelta(rng.uniform(0, 7 * 24 * 60, n), unit="min"),
        "path": rng.choice(["/home", "/item/1", "/item/2", "/cart"], n),
        "element": "button",
        "x": rng.uniform(0, 1, n),
        "y": rng.beta(2, 5, n),  # more taps near the top
        "dwell_ms": rng.integers(500, 90_000, n),
        "item_id": "sku-1",
        "quantity": 1,
        "order_id": [f"o{i}" for i in range(n)],
        "amount_fen": rng.integers(990, 29_900, n),
    }
)
events.loc[:9, "x"] = 1.7  # corrupt x: the clicks among these rows are refused, not dropped
batch = validate_events(events)
print(
    len(batch.events), "valid;", len(batch.rejected), "rejected:", batch.rejected["reason"].iloc[0]
)
features = user_features(batch)
print(features.filter(regex="user_id|n_sessions|top_path|heat_r0|funnel_depth").head())
print(funnel_report(batch))

# %% [markdown]
# ## Traceability: provenance on the ledger, a QR payload, verification

# %%
ledger = Ledger()
steps = pd.DataFrame(
    {
        "product_id": ["LOT-2024-0601"] * 3,
        "step": ["production", "transport", "quality_check"],
        "ts": pd.to_datetime(
            ["2024-06-01 06:00", "2024-06-01 12:00", "2024-06-02 09:00"]
        ).tz_localize("Asia/Shanghai"),
        "actor": ["青禾农场", "冷链物流", "质检中心"],
        "location": ["云南省昆明市", "G56", "上海市"],
        "passed": [None, None, True],
    }
)
record_provenance(ledger, steps)
payload, proof = issue_provenance(ledger, "LOT-2024-0601")
qr_text = payload.to_text()
print(f"QR payload: {len(payload.to_bytes())} bytes, {len(qr_text)} base45 characters")
verdict = verify_provenance(qr_text, proof)
print("valid:", verdict.valid, "quality passed:", verdict.quality_passed)

# %% [markdown]
# ## Nearby stores: 3 km radius, delivery bands, pickup or delivery

# %%
users = pd.DataFrame(
    {
        "user_id": range(10_000),
        "lat": 31.23 + rng.normal(0, 0.05, 10_000),
        "lon": 121.47 + rng.normal(0, 0.05, 10_000),
    }
)
stores = pd.DataFrame(
    {
        "store_id": [f"S{i}" for i in range(40)],
        "lat": 31.23 + rng.normal(0, 0.05, 40),
        "lon": 121.47 + rng.normal(0, 0.05, 40),
        "offers_delivery": rng.uniform(size=40) < 0.8,
    }
)
result = match_stores(users, stores, StoreConfig(radius_m=3000, max_stores=3))
print(result.matches.head())
print(result.matches["mode"].value_counts())
print(len(result.unmatched), "users have no store within 3 km")
