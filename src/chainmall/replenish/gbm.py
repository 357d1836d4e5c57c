"""Global gradient-boosting forecaster (XGBoost) on lags and calendar.

One model for all series (the approach that won M5), trained on every
(series, origin, horizon) row of :mod:`chainmall.replenish._features`; it
forecasts all ``h`` horizons directly (no recursion). With
``target='seasonal_diff'`` the trees learn ``(y_{t+k} - y_{t+k-m}) / s`` and add
last season's value back, which keeps the level right where trees cannot
extrapolate. The loss is absolute error with sample weight ``s_i / d_i``
(``d_i`` the in-sample seasonal-naive MAE), i.e. the model minimises MASE.

Intervals: ``σ_{i,k} = s_i ·`` the RMS of in-sample scaled residuals at
horizon ``k`` — optimistic; use backtest errors for safety stock.
xgboost is imported lazily (``pip install "chainmall[xgboost]"``).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from chainmall._optional import import_optional
from chainmall._persist import SavedFolder
from chainmall._storage import atomic_write, parse_json
from chainmall.exceptions import ConfigError, NotFittedError
from chainmall.replenish._base import Forecaster
from chainmall.replenish._features import FeatureRows, build_rows, series_scales
from chainmall.replenish._panel import Panel
from chainmall.replenish.model_configs import XGBoostForecasterConfig

__all__ = ["XGBoostForecaster", "mase_scales"]


def mase_scales(panel: Panel, season: int) -> np.ndarray:
    """In-sample seasonal-naive MAE per series (naive MAE if shorter than a season + 1)."""
    out = []
    for v in panel.values:
        lag = season if len(v) > season else 1
        d = np.abs(v[lag:] - v[:-lag]) if len(v) > lag else np.abs(v)
        out.append(float(np.mean(d)) if d.size else 1.0)
    arr = np.asarray(out)
    return np.where(arr > 0, arr, 1.0)


class XGBoostForecaster(Forecaster):
    """Global XGBoost model over all series with direct multi-horizon rows.

    Hyperparameters: :class:`~chainmall.replenish.model_configs.XGBoostForecasterConfig`
    (horizon, target, tree parameters, early stopping, seed).
    """

    default_alias = "XGBoost"
    config_class = XGBoostForecasterConfig
    config: XGBoostForecasterConfig
    _learned_arrays = ("scales_", "resid_rms_")

    def _min_length(self) -> int:
        return 2

    def _booster_params(self) -> dict[str, Any]:
        return {
            "objective": self.config.objective,
            "eta": self.config.learning_rate,
            "max_depth": self.config.max_depth,
            "subsample": self.config.subsample,
            "colsample_bytree": self.config.colsample_bytree,
            "min_child_weight": self.config.min_child_weight,
            "tree_method": "hist",
            "seed": self.config.seed,
            "nthread": max(self.config.n_jobs, 1),  # >1 thread spins idle cores on a busy machine
        }

    def _base(self, rows: FeatureRows) -> np.ndarray:
        """What the trees' output is added to: last season's value or 0 (scaled)."""
        if self.config.target == "level":
            return np.zeros(len(rows.target))
        col = rows.X[:, rows.names.index("season")]
        return np.where(np.isnan(col), rows.X[:, rows.names.index("lag0")], col)

    def _fit_panel(self, panel: Panel) -> None:
        xgb = import_optional("xgboost", extra="xgboost")
        season = self.cfg.season_length
        self.scales_ = series_scales(panel, season)
        rows = build_rows(panel, season, self.config.horizon, self.scales_, train=True)
        ok = ~np.isnan(rows.target)
        base = self._base(rows)
        weight = (self.scales_ / mase_scales(panel, season))[rows.series]
        label = rows.target - base

        def matrix(mask: np.ndarray) -> Any:
            return xgb.DMatrix(
                rows.X[mask], label=label[mask], weight=weight[mask], feature_names=rows.names
            )

        rounds = self.config.n_estimators
        if self.config.early_stopping_rounds is not None:
            lengths = np.array([len(v) for v in panel.values])[rows.series]
            cutoff = lengths - 1 - self.config.horizon  # last origin before the validation slice
            target_at = rows.origin + rows.horizon
            fit_rows = ok & (target_at <= cutoff)
            val_rows = ok & (rows.origin == cutoff)
            if fit_rows.any() and val_rows.any():
                probe = xgb.train(
                    {**self._booster_params(), "eval_metric": "mae"},
                    matrix(fit_rows),
                    num_boost_round=self.config.n_estimators,
                    evals=[(matrix(val_rows), "validation")],
                    early_stopping_rounds=self.config.early_stopping_rounds,
                    verbose_eval=False,
                )
                rounds = int(probe.best_iteration) + 1
        self.n_rounds_ = rounds
        dtrain = matrix(ok)
        self.booster_ = xgb.train(self._booster_params(), dtrain, num_boost_round=rounds)
        resid = (rows.target - base)[ok] - self.booster_.predict(dtrain)
        k = rows.horizon[ok]
        self.resid_rms_ = np.array(
            [
                np.sqrt(np.mean(resid[k == j] ** 2)) if np.any(k == j) else np.nan
                for j in range(1, self.config.horizon + 1)
            ]
        )

    def _forecast(
        self, panel: Panel, h: int, future_exog: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        if h > self.config.horizon:
            raise ConfigError(
                f"{self.name} was trained for horizons up to {self.config.horizon}; "
                f"refit with XGBoostForecaster(horizon={h})"
            )
        xgb = import_optional("xgboost", extra="xgboost")
        scales = (
            series_scales(panel, self.cfg.season_length)
            if panel is not self.panel_
            else self.scales_
        )
        rows = build_rows(
            panel, self.cfg.season_length, h, scales, train=False, future_exog=future_exog
        )
        pred = self.booster_.predict(xgb.DMatrix(rows.X, feature_names=rows.names)) + self._base(
            rows
        )
        mean = (pred.reshape(len(panel), h)) * scales[:, None]
        sigma = scales[:, None] * self.resid_rms_[None, :h]
        return mean, sigma

    def _learned_state(self) -> dict[str, Any]:
        return {**super()._learned_state(), "n_rounds": int(self.n_rounds_)}

    def _native_files(self) -> dict[str, bytes]:
        return {"booster.json": bytes(self.booster_.save_raw(raw_format="json"))}

    def _restore_state(
        self, learned: dict[str, Any], members: list[Forecaster], saved: SavedFolder
    ) -> None:
        super()._restore_state(learned, members, saved)
        xgb = import_optional("xgboost", extra="xgboost")
        self.n_rounds_ = int(learned["n_rounds"])
        raw = saved.file("booster.json")
        parse_json(raw)  # strict: UTF-8, no repeated keys (XGBoost's reader allows both)
        self.booster_ = xgb.Booster()
        self.booster_.load_model(bytearray(raw))

    def save_model(self, path: str | Path) -> None:
        """Write the booster in XGBoost's JSON format (no pickle), atomically.

        Deprecated: :meth:`save` writes the whole model (the booster as ``booster.json``).
        """
        warnings.warn(
            "XGBoostForecaster.save_model is deprecated and will be removed in the next "
            "release; use model.save(folder), which writes booster.json with the rest",
            FutureWarning,
            stacklevel=2,
        )
        if not hasattr(self, "booster_"):
            raise NotFittedError("XGBoostForecaster is not fitted; call fit(df) first")
        atomic_write(path, bytes(self.booster_.save_raw(raw_format="json")))
