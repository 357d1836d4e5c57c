"""Replenishment: demand forecasts and purchase suggestions.

Forecasters share one contract (``fit(df)`` on a long ``[unique_id, ds, y]``
frame, ``predict(h, level=[80, 95])`` returning a long frame); the backtest
keeps out-of-sample errors, from which safety stocks, order-up-to levels and
purchase suggestions are derived and checked in an inventory simulator.
torch, xgboost and statsmodels are imported only when a model needs them.
"""

from chainmall.replenish.arima import AutoARIMA
from chainmall.replenish.baselines import Croston, Naive, SeasonalNaive
from chainmall.replenish.config import ReplenishConfig

__all__ = ["AutoARIMA", "Croston", "Naive", "ReplenishConfig", "SeasonalNaive"]
