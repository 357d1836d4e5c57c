# %% [markdown]
# # RFM-L segmentation quickstart
#
# Summarise a purchase log, score and segment customers, forecast purchases
# and value (the default ``CustomerValueModel`` and the BTYD models it builds
# on), emit churn warnings, and project a membership's renewals (sBG). Uses the
# CDNOW sample when the shared data is present (``CHAINMALL_DATA``), else a
# small synthetic log.

# %%
import numpy as np
import pandas as pd

from chainmall.exceptions import DataFileNotFoundError
from chainmall.segment import (
    CustomerValueModel,
    GammaGamma,
    ParetoNBD,
    RFMLConfig,
    ShiftedBetaGeometric,
    ValueConfig,
    customer_lifetime_value,
    segment_customers,
    survival_table,
)
from chainmall.segment.alerts import churn_alerts
from chainmall.segment.tags import Condition, TagRule, tag_customers

try:
    from chainmall.datasets import load_cdnow

    raw = load_cdnow("sample")
    log = raw.assign(amount_fen=np.rint(raw.amount * 100).astype("int64"))  # US$ -> cents
    log = log.rename(columns={"customer_id": "user_id"})  # the canonical id column name
    as_of, horizon = "1997-09-30", 39.0
except DataFileNotFoundError:
    rng = np.random.default_rng(0)
    n = 8_000
    log = pd.DataFrame(
        {
            "user_id": rng.integers(0, 1_200, n),
            "ts": pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h"),
            "amount_fen": rng.integers(500, 20_000, n),
        }
    )
    as_of, horizon = "2024-09-30", 13.0

# %% [markdown]
# ## Summary, scores and segments (calibration window ends at ``as_of``)

# %%
cfg = RFMLConfig(as_of=as_of, timezone="UTC", time_unit="week")
result = segment_customers(log, cfg)
customers = result.customers
print(customers[["user_id", "x", "t_x", "T", "r_score", "fm_score", "segment"]].head())
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
print(customers.nlargest(5, "clv_fen")[["user_id", "x", "expected", "p_alive", "clv_fen"]])

# %% [markdown]
# ## The default value model: who buys again, how often, for how much
#
# Its choices (BTYD family, the "buys again" score, how expected purchases
# are ordered) are made on the last ``validation_days`` of the calibration
# window only; ``selection_`` lists every candidate's inner score.

# %%
value = CustomerValueModel(ValueConfig(rfml=cfg)).fit(log)
print(
    "family",
    value.family_,
    "| buys again by",
    value.buys_method_,
    "| counts by",
    value.count_method_,
)
forecast = value.predict(horizon)
print(forecast.nlargest(5, "value_fen"))

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

# %% [markdown]
# ## A membership programme: renewals with the shifted-beta-geometric model
#
# Members of a yearly plan still in at the start of years 0..7 (Fader & Hardie
# 2007, "regular" customers); the fit projects the following years.

# %%
members = survival_table([1000, 631, 468, 382, 326, 289, 262, 241])
renewals = ShiftedBetaGeometric().fit(members, weight="count")
print({k: round(v, 3) for k, v in renewals.params_.items()})  # alpha .704, beta 1.182
print("projected members in years 8-12:", (renewals.survival(range(8, 13)) * 1000).round())
print(
    "expected discounted renewals of a 7-year member (10%/year):",
    renewals.expected_renewals(7, 0.1).iloc[0],
)
