# %% [markdown]
# # Replenishment quickstart
# Forecast 8 weeks of Walmart department sales, keep out-of-sample errors,
# turn them into order-up-to levels (fixed and random lead times) and a
# purchase suggestion, and size lots with an order cost (EOQ, (s, S)).

# %%
import numpy as np

from chainmall.datasets import load_walmart_sales
from chainmall.replenish import (
    AutoARIMA,
    ConformalSafetyStock,
    SeasonalNaive,
    cross_validation,
    cumulative_errors,
    empirical_pmf,
    eoq,
    error_paths,
    evaluate_cv,
    optimal_ss_policy,
    reorder_points,
    safety_stock,
    suggest_orders,
)

df = load_walmart_sales(complete_only=True)
df = df[df["unique_id"].isin(sorted(df["unique_id"].unique())[:5])]

# %% Forecast with intervals
model = AutoARIMA().fit(df)
forecast = model.predict(8, level=[80, 95])
print(forecast.head())

# %% Rolling backtest: accuracy and out-of-sample errors
cv = cross_validation([AutoARIMA(), SeasonalNaive()], df, h=2, n_windows=12, step=1, refit=False)
print(evaluate_cv(cv, df, ["AutoARIMA", "SeasonalNaive"]).groupby("model")["mase"].mean())

# %% Order-up-to levels for R = L = 1 week (cover 2 weeks) at 95 % service
errors = cumulative_errors(cv, "AutoARIMA", cover=2)
levels = reorder_points(forecast, "AutoARIMA", safety_stock(errors, 0.95), cover=2)
lines = levels.assign(
    inventory_position=levels["expected_demand"] * 0.6,
    unit_cost_fen=np.int64(1_000),
    pack_size=np.int64(100),
    moq=np.int64(500),
)
print(suggest_orders(lines, budget_fen=50_000_000))

# %% Lead time 1 week (70 %) or 2 weeks (30 %): conformal levels per horizon
cv3 = cross_validation([AutoARIMA()], df, h=3, n_windows=20, step=1, refit=False)
paths = error_paths(cv3, "AutoARIMA")
stock = ConformalSafetyStock(paths, lead_time={1: 0.7, 2: 0.3}, window=16)
ahead = forecast.pivot(index="unique_id", columns="ds", values="AutoARIMA").loc[paths.ids]
expected, safety = stock.now(ahead.to_numpy()[:, :3], 0.95)
print(dict(zip(paths.ids, np.round(expected + np.maximum(safety, 0.0)).tolist(), strict=True)))

# %% Lot sizes with a fixed order cost of 500 and holding cost 2 per unit-week
weekly = df.groupby("unique_id")["y"].mean()
print({uid: round(eoq(500.0, 2.0, rate)[0]) for uid, rate in weekly.items()})
# (s, S) for one department from its 1-week demand scenarios, in buckets of 1,000 units:
# holding 2 and shortage 20 per bucket-week, 100 per order, lead time 1 week
scenarios = paths.forecast[0, -1, 0] + (paths.demand[0, :, 0] - paths.forecast[0, :, 0])
pmf = empirical_pmf(scenarios, unit=1_000.0)
print(optimal_ss_policy(pmf, 2.0, 20.0, 100.0, lead_time=1))

# %% Save and reload the fitted model (JSON + npz, no pickle)
import tempfile

with tempfile.TemporaryDirectory() as folder:
    reloaded = AutoARIMA.load(model.save(folder))
    assert np.allclose(reloaded.predict(8)["AutoARIMA"], forecast["AutoARIMA"])
