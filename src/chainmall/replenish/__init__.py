"""Replenishment: demand forecasts and purchase suggestions.

Forecasters share one contract (``fit(df)`` on a long ``[unique_id, ds, y]``
frame, ``predict(h, level=[80, 95])`` returning a long frame); the backtest
keeps out-of-sample errors, from which safety stocks, order-up-to levels and
purchase suggestions are derived and checked in an inventory simulator.
torch, xgboost and statsmodels are imported only when a model needs them.
"""

from chainmall.replenish.arima import AutoARIMA
from chainmall.replenish.backtest import cross_validation, evaluate_cv
from chainmall.replenish.baselines import Croston, Naive, SeasonalNaive
from chainmall.replenish.config import ReplenishConfig
from chainmall.replenish.gbm import XGBoostForecaster
from chainmall.replenish.hybrid import CombinationForecaster, ZhangHybrid
from chainmall.replenish.lstm import LSTMForecaster
from chainmall.replenish.metrics import evaluate_forecasts
from chainmall.replenish.policy import (
    cumulative_errors,
    newsvendor_quantity,
    reorder_points,
    safety_stock,
    suggest_orders,
)
from chainmall.replenish.simulate import SimulationResult, simulate_order_up_to

__all__ = [
    "AutoARIMA",
    "CombinationForecaster",
    "Croston",
    "LSTMForecaster",
    "Naive",
    "ReplenishConfig",
    "SeasonalNaive",
    "SimulationResult",
    "XGBoostForecaster",
    "ZhangHybrid",
    "cross_validation",
    "cumulative_errors",
    "evaluate_cv",
    "evaluate_forecasts",
    "newsvendor_quantity",
    "reorder_points",
    "safety_stock",
    "simulate_order_up_to",
    "suggest_orders",
]
