# %% [markdown]
# # RFM-L segmentation quickstart
#
# Summarise a purchase log, score and segment customers, forecast purchases
# and value, and emit churn warnings. Uses the CDNOW sample when the shared
# data is present (``CHAINMALL_DATA``), else a small synthetic log.

# %%
import numpy as np
import pandas as pd

from chainmall.exceptions import DataFileNotFoundError
from chainmall.segment import (
    GammaGamma,
    ParetoNBD,
    RFMLConfig,
    customer_lifetime_value,
    segment_customers,
)
from chainmall.segment.alerts import churn_alerts
from chainmall.segment.tags import Condition, TagRule, tag_customers

try:
    from chainmall.datasets import load_cdnow

    raw = load_cdnow("sample")
    log = raw.assign(amount=np.rint(raw.amount * 100).astype("int64"))  # US$ -> cents
    as_of, horizon = "1997-09-30", 39.0
except DataFileNotFoundError:
    rng = np.random.default_rng(0)
    n = 5_000
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 800, n),
            "ts": pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h"),
            "amount": rng.integers(500, 20_000, n),
        }
    )
    as_of, horizon = "2024-09-30", 13.0

# %% [markdown]
# ## Summary, scores and segments (calibration window ends at ``as_of``)

# %%
cfg = RFMLConfig(as_of=as_of, timezone="UTC", time_unit="week")
result = segment_customers(log, cfg)
customers = result.customers
print(customers[["customer_id", "x", "t_x", "T", "r_score", "fm_score", "segment"]].head())
print(customers.segment_class.value_counts())

# %% [markdown]
# ## Expected purchases, P(alive) and lifetime value

# %%
purchases = ParetoNBD().fit(customers)
spend = GammaGamma().fit(customers)
print("Pareto/NBD", {k: round(v, 3) for k, v in purchases.params_.items()})
customers = customers.assign(
    expected=purchases.expected_purchases(horizon, customers),
    p_alive=purchases.p_alive(customers),
    clv_fen=customer_lifetime_value(purchases, spend, customers, periods=12),
)
print(customers.nlargest(5, "clv_fen")[["customer_id", "x", "expected", "p_alive", "clv_fen"]])

# %% [markdown]
# ## Tags and churn warnings

# %%
rules = [
    TagRule(
        name="big spender",
        conditions=(Condition(column="mean_spend_fen", op=">=", value=5_000),),
    )
]
print(tag_customers(customers, rules).tag.value_counts())
alerts = churn_alerts(log, as_of, cfg, model=purchases)
print(alerts.reason.value_counts())
print(alerts.head())
