"""Hyperparameters of the forecasters, one config class per model.

Each forecaster takes its config as ``config=`` (and, as a convenience, keyword
overrides of the config's fields: ``XGBoostForecaster(horizon=4)`` is
``XGBoostForecaster(XGBoostForecasterConfig(horizon=4))``). How the demand frame
is read and cleaned (frequency, season length, gap rules) is the data config,
:class:`~chainmall.replenish.config.ReplenishConfig`, given as ``data_config=``.
Sub-models of hybrids and combinations are constructor arguments, not config.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chainmall.config import EngineConfig

__all__ = [
    "AutoARIMAConfig",
    "CombinationConfig",
    "CrostonConfig",
    "ForecasterConfig",
    "LSTMConfig",
    "XGBoostForecasterConfig",
]


class ForecasterConfig(EngineConfig):
    """Settings every forecaster has; the whole config of ``Naive``, ``SeasonalNaive``
    (whose season is ``ReplenishConfig.season_length``) and ``ZhangHybrid``."""

    alias: str | None = Field(
        None, description="Column name of the point forecast; None uses the model's name."
    )
    n_jobs: int = Field(
        1,
        description="Processes for per-series fits (joblib; -1 all cores); 1 fits in-process.",
    )


class CrostonConfig(ForecasterConfig):
    """Croston / SBA / TSB smoothing for intermittent demand."""

    method: Literal["croston", "sba", "tsb"] = Field(
        "sba",
        description="'croston', 'sba' (Syntetos-Boylan bias-corrected) or 'tsb' (decaying).",
    )
    alpha: float = Field(
        0.1, gt=0, le=1, description="Smoothing of demand size (and interval), in (0, 1]."
    )
    beta: float = Field(
        0.1, gt=0, le=1, description="Smoothing of demand probability (TSB only), in (0, 1]."
    )


DEFAULT_ORDERS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (0, 2))
"""ARMA (p, q) candidates of :class:`AutoARIMAConfig`."""


class AutoARIMAConfig(ForecasterConfig):
    """Order selection of the seasonally differenced ARMA."""

    orders: tuple[tuple[int, int], ...] = Field(
        DEFAULT_ORDERS, description="ARMA (p, q) candidates compared by CSS-AICc (lags, periods)."
    )
    try_constant: bool = Field(
        False, description="Also try each order with a constant (a yearly drift per period)."
    )
    refine_mle: bool = Field(
        False, description="Refit the chosen order by exact maximum likelihood (slower)."
    )
    min_seasonal_obs: int = Field(
        16,
        ge=1,
        description=(
            "Periods beyond one season a series needs for the seasonal model; shorter "
            "series fall back to ARIMA(p,1,q) without a season."
        ),
    )


class XGBoostForecasterConfig(ForecasterConfig):
    """Global gradient-boosted trees over all series, direct multi-horizon rows."""

    horizon: int = Field(
        8, ge=1, description="Largest horizon trained for (periods); predict(h) needs h <= it."
    )
    target: Literal["seasonal_diff", "level"] = Field(
        "seasonal_diff",
        description="'seasonal_diff' learns the change on last season; 'level' the value.",
    )
    n_estimators: int = Field(300, ge=1, description="Most boosting rounds (trees).")
    learning_rate: float = Field(0.05, gt=0, description="XGBoost eta (shrinkage per round).")
    max_depth: int = Field(6, ge=1, description="Depth of each tree (levels).")
    subsample: float = Field(0.8, gt=0, le=1, description="Share of rows sampled per tree.")
    colsample_bytree: float = Field(
        0.8, gt=0, le=1, description="Share of feature columns sampled per tree."
    )
    min_child_weight: float = Field(
        5.0, ge=0, description="Least hessian weight in a leaf (XGBoost units)."
    )
    objective: str = Field(
        "reg:pseudohubererror",
        description=(
            "XGBoost objective on the scaled target; pseudo-Huber is absolute error for "
            "large errors and squared error for small ones."
        ),
    )
    early_stopping_rounds: int | None = Field(
        30,
        description=(
            "Rounds without improvement on a validation slice of the training data (each "
            "series' last horizon periods) before stopping; the model is then refitted on "
            "every row with the chosen rounds. None trains n_estimators rounds."
        ),
    )
    seed: int = Field(0, description="Seed of the row and column sampling.")


class LSTMConfig(ForecasterConfig):
    """Small global LSTM with a direct multi-horizon head, trained with Adam."""

    horizon: int = Field(8, ge=1, description="Largest horizon trained for (periods).")
    input_size: int = Field(26, ge=1, description="Periods the LSTM reads before each origin.")
    hidden_size: int = Field(32, ge=1, description="LSTM state size (units).")
    seasonal: bool = Field(
        True, description="Feed last season's values to the head and learn the change on them."
    )
    epochs: int = Field(30, ge=1, description="Passes over the training windows.")
    batch_size: int = Field(256, ge=1, description="Training windows per Adam step.")
    learning_rate: float = Field(3e-3, gt=0, description="Adam step size.")
    seed: int = Field(0, description="Seed of the initial weights and of the shuffling.")


class CombinationConfig(ForecasterConfig):
    """Validation set-up of the convex combination's weights."""

    horizon: int = Field(
        8, ge=1, description="Validation horizon (periods), normally the forecast horizon."
    )
    n_windows: int = Field(
        2, ge=1, description="Rolling validation windows at the end of the training data."
    )
    refit_windows: bool = Field(
        False,
        description=(
            "Refit the members at every validation window (else fit once at the first and "
            "forecast later windows from newer history)."
        ),
    )
