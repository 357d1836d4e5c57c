"""Replenishment: demand forecasts and purchase suggestions.

Forecasters share one contract (hyperparameters in a config per model,
:mod:`chainmall.replenish.model_configs`, given as ``config=``; how demand frames
are read in :class:`ReplenishConfig`, given as ``data_config=``; ``fit(df)``
on a long ``[unique_id, ds, y]`` frame, ``predict(h, level=[80, 95])`` returning a long frame); the backtest
keeps out-of-sample errors, from which conformal safety stocks (per series,
per horizon, fixed or random lead times), order-up-to levels, cost-optimal
lot sizes (EOQ, (s, S)) and purchase suggestions are derived and checked in an
inventory simulator.
torch, xgboost and statsmodels are imported only when a model needs them.
"""

from chainmall.replenish.arima import AutoARIMA
from chainmall.replenish.backtest import cross_validation, evaluate_cv
from chainmall.replenish.baselines import Croston, Naive, SeasonalNaive
from chainmall.replenish.config import ReplenishConfig
from chainmall.replenish.conformal import (
    ConformalSafetyStock,
    ErrorPaths,
    conformal_quantile,
    error_paths,
    mixture_quantile,
    rolling_safety_stock,
)
from chainmall.replenish.gbm import XGBoostForecaster
from chainmall.replenish.hybrid import CombinationForecaster, ZhangHybrid
from chainmall.replenish.lotsizing import (
    SsPolicy,
    empirical_pmf,
    eoq,
    eoq_cost,
    optimal_ss_policy,
    protection_pmf,
    ss_policy_cost,
)
from chainmall.replenish.lstm import LSTMForecaster
from chainmall.replenish.metrics import evaluate_forecasts
from chainmall.replenish.model_configs import (
    AutoARIMAConfig,
    CombinationConfig,
    CrostonConfig,
    ForecasterConfig,
    LSTMConfig,
    XGBoostForecasterConfig,
)
from chainmall.replenish.policy import (
    cumulative_errors,
    newsvendor_quantity,
    reorder_points,
    safety_stock,
    suggest_orders,
)
from chainmall.replenish.simulate import (
    SimulationResult,
    simulate_order_up_to,
    simulate_service_feedback,
)

__all__ = [
    "AutoARIMA",
    "AutoARIMAConfig",
    "CombinationConfig",
    "CombinationForecaster",
    "ConformalSafetyStock",
    "Croston",
    "CrostonConfig",
    "ErrorPaths",
    "ForecasterConfig",
    "LSTMConfig",
    "LSTMForecaster",
    "Naive",
    "ReplenishConfig",
    "SeasonalNaive",
    "SimulationResult",
    "SsPolicy",
    "XGBoostForecaster",
    "XGBoostForecasterConfig",
    "ZhangHybrid",
    "conformal_quantile",
    "cross_validation",
    "cumulative_errors",
    "empirical_pmf",
    "eoq",
    "eoq_cost",
    "error_paths",
    "evaluate_cv",
    "evaluate_forecasts",
    "mixture_quantile",
    "newsvendor_quantity",
    "optimal_ss_policy",
    "protection_pmf",
    "reorder_points",
    "rolling_safety_stock",
    "safety_stock",
    "simulate_order_up_to",
    "simulate_service_feedback",
    "ss_policy_cost",
    "suggest_orders",
]
