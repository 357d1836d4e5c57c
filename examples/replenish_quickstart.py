# %% [markdown]
# # Replenishment quickstart
# Forecast 8 weeks of Walmart department sales, keep out-of-sample errors,
# and turn them into order-up-to levels and a purchase suggestion.

# %%
import numpy as np

from chainmall.datasets import load_walmart_sales
from chainmall.replenish import (
    AutoARIMA,
    SeasonalNaive,
    cross_validation,
    cumulative_errors,
    evaluate_cv,
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

# %% Save and reload the fitted model (JSON + npz, no pickle)
import tempfile

with tempfile.TemporaryDirectory() as folder:
    reloaded = AutoARIMA.load(model.save(folder))
    assert np.allclose(reloaded.predict(8)["AutoARIMA"], forecast["AutoARIMA"])
