"""Hybrid forecasters: Zhang's ARIMA + residual model, and learned combinations.

* :class:`ZhangHybrid` (Zhang 2003): fit the linear model (ARIMA), take its
  one-step in-sample residuals ``r_t = y_t - ŷ_t``, fit a second model (by
  default a non-seasonal global LSTM) on the residual series, and forecast
  ``ŷ = ŷ_ARIMA + r̂``.
* :class:`CombinationForecaster`: a convex combination ``Σ_j w_j ŷ_j``
  (``w_j ≥ 0``, ``Σ w_j = 1``) whose weights minimise the scaled absolute error
  ``Σ |y - Σ_j w_j ŷ_j| / d_i`` (``d_i`` the in-sample seasonal-naive MAE, so
  the objective is MASE) on ``n_windows`` rolling validation windows at the end
  of the training data; the members are then refitted on all the data (or,
  when ``fit(..., fitted_members=...)`` passes members already fitted on the
  same frame, those are reused).
  Interval half-widths combine with the same weights (conservative).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy import optimize

from chainmall._persist import SavedFolder
from chainmall.exceptions import ConfigError
from chainmall.replenish._base import Forecaster
from chainmall.replenish._panel import Panel
from chainmall.replenish.arima import AutoARIMA, insample_fitted
from chainmall.replenish.backtest import cross_validation
from chainmall.replenish.config import ReplenishConfig
from chainmall.replenish.metrics import series_scales_table
from chainmall.replenish.model_configs import CombinationConfig, ForecasterConfig

__all__ = ["CombinationForecaster", "ZhangHybrid", "simplex_weights"]


def simplex_weights(preds: np.ndarray, y: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Weights on the simplex minimising ``Σ |y - preds @ w| / scale`` (a linear program)."""
    n, k = preds.shape
    a = preds / scale[:, None]
    b = y / scale
    # variables: w (k), u (n) with u >= |a w - b|; minimise sum u
    c = np.r_[np.zeros(k), np.ones(n)]
    a_ub = np.block([[a, -np.eye(n)], [-a, -np.eye(n)]])
    b_ub = np.r_[b, -b]
    a_eq = np.r_[np.ones(k), np.zeros(n)][None, :]
    res = optimize.linprog(
        c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=[(0, None)] * (k + n), method="highs"
    )
    if not res.success:
        return np.full(k, 1.0 / k)
    w = np.clip(res.x[:k], 0.0, None)
    return np.asarray(w / w.sum())


class ZhangHybrid(Forecaster):
    """ARIMA forecast plus a model of ARIMA's residuals (Zhang 2003).

    Args:
        base: the linear model (an :class:`AutoARIMA`).
        residual_model: fitted on the residual series; default a non-seasonal LSTM.
        config: :class:`~chainmall.replenish.model_configs.ForecasterConfig` (alias,
            n_jobs); keyword overrides of its fields are applied on top.
        data_config: how demand frames are read (:class:`ReplenishConfig`).
    """

    default_alias = "ZhangHybrid"

    def __init__(
        self,
        base: AutoARIMA | None = None,
        residual_model: Forecaster | None = None,
        config: ForecasterConfig | ReplenishConfig | None = None,
        *,
        data_config: ReplenishConfig | None = None,
        show_progress: bool = False,
        **overrides: Any,
    ) -> None:
        super().__init__(config, data_config=data_config, show_progress=show_progress, **overrides)
        self.base = base
        self.residual_model = residual_model

    def _sub_models(self) -> dict[str, Any]:
        return {"base": self.base, "residual_model": self.residual_model}

    def _members(self) -> tuple[AutoARIMA, Forecaster]:
        from chainmall.replenish.lstm import LSTMForecaster

        data = self.data_config
        base = (
            self.base.clone()
            if self.base
            else AutoARIMA(data_config=data, n_jobs=self.config.n_jobs)
        )
        resid = (
            self.residual_model.clone()
            if self.residual_model
            else LSTMForecaster(seasonal=False, data_config=data)
        )
        return base, resid

    def _min_length(self) -> int:
        base, resid = self._members()
        return max(base._min_length(), self.cfg.season_length + resid._min_length())

    def _fit_panel(self, panel: Panel) -> None:
        self.base_, self.residual_ = self._members()
        self.base_.fit(panel.to_frame())
        resid_panel = self._residual_panel(panel, insample_fitted(self.base_, self.base_.panel_))
        self.residual_.fit(resid_panel.to_frame())

    def _restore_state(
        self, learned: dict[str, Any], members: list[Forecaster], saved: SavedFolder
    ) -> None:
        base, self.residual_ = members
        assert isinstance(base, AutoARIMA)
        self.base_ = base

    @staticmethod
    def _residual_panel(panel: Panel, fitted: list[np.ndarray]) -> Panel:
        values, starts = [], []
        for v, f, s in zip(panel.values, fitted, panel.starts, strict=True):
            first = int(np.argmax(~np.isnan(f)))
            values.append(v[first:] - f[first:])
            starts.append(s + first * panel.freq)
        return Panel(panel.ids, values, starts, panel.freq)

    def _forecast(
        self, panel: Panel, h: int, future_exog: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        mean, sigma = self.base_._forecast(panel, h, {})
        resid_panel = self._residual_panel(panel, insample_fitted(self.base_, panel))
        pos = {uid: i for i, uid in enumerate(resid_panel.ids)}
        rows = [pos[uid] for uid in self.residual_.panel_.ids]  # series the residual model kept
        r_mean, _ = self.residual_._forecast(resid_panel.subset(rows), h, {})
        mean = mean.copy()
        mean[rows] += r_mean
        return mean, sigma


class CombinationForecaster(Forecaster):
    """Convex combination of forecasters with weights learned on validation windows.

    Args:
        models: the members (e.g. XGBoost, AutoARIMA, LSTM); their aliases must differ.
        config: :class:`~chainmall.replenish.model_configs.CombinationConfig`
            (validation ``horizon``, ``n_windows``, ``refit_windows``); keyword
            overrides of its fields are applied on top.
        data_config: how demand frames are read (:class:`ReplenishConfig`).
    """

    default_alias = "Combination"
    config_class = CombinationConfig
    config: CombinationConfig

    def __init__(
        self,
        models: Sequence[Forecaster],
        config: CombinationConfig | ReplenishConfig | None = None,
        *,
        data_config: ReplenishConfig | None = None,
        show_progress: bool = False,
        **overrides: Any,
    ) -> None:
        super().__init__(config, data_config=data_config, show_progress=show_progress, **overrides)
        names = [m.name for m in models]
        if len(set(names)) != len(names) or not names:
            raise ConfigError(f"combination members need distinct aliases, got {names}")
        self.models = list(models)

    def _sub_models(self) -> dict[str, Any]:
        return {"models": self.models}

    def _min_length(self) -> int:
        return (
            max(m._min_length() for m in self.models) + self.config.horizon * self.config.n_windows
        )

    def fit(
        self,
        df: pd.DataFrame,
        *,
        columns: Mapping[str, str] | None = None,
        exog_cols: Sequence[str] = (),
        fitted_members: Sequence[Forecaster] | None = None,
        progress: bool = False,
    ) -> Self:
        """Learn the weights on validation windows, then fit (or reuse) the members.

        Args:
            df: long frame ``[unique_id, ds, y, *exog]``.
            columns: ``{canonical: yours}`` where your names differ (as in
                :meth:`Forecaster.fit`).
            exog_cols: exogenous columns passed to every member.
            fitted_members: members already fitted on this same ``df`` (same aliases as
                ``models``), e.g. because they are also evaluated alone; they become the
                final members instead of being refitted. The weights are still learned
                on the validation windows only.
            progress: as in :meth:`Forecaster.fit`.
        """
        self._given_members = list(fitted_members) if fitted_members is not None else None
        try:
            return super().fit(df, columns=columns, exog_cols=exog_cols, progress=progress)
        finally:
            del self._given_members

    def _final_members(
        self, panel: Panel, frame: pd.DataFrame, exog: list[str]
    ) -> list[Forecaster]:
        given = self._given_members
        if given is None:
            return [m.clone().fit(frame, exog_cols=exog) for m in self.models]
        by_name = {m.name: m for m in given}
        if sorted(by_name) != sorted(m.name for m in self.models):
            raise ConfigError(
                f"fitted_members {sorted(by_name)} must match the models "
                f"{sorted(m.name for m in self.models)}"
            )
        members = [by_name[m.name] for m in self.models]
        for member in members:
            fitted = getattr(member, "panel_", None)
            same = (
                fitted is not None
                and fitted.ids == panel.ids
                and [len(v) for v in fitted.values] == [len(v) for v in panel.values]
                and fitted.starts == panel.starts
            )
            if not same:
                raise ConfigError(
                    f"fitted member {member.name} was not fitted on the same series and "
                    "periods as this frame; fit it on df or leave fitted_members out"
                )
        return members

    def _fit_panel(self, panel: Panel) -> None:
        cfg = self.cfg
        frame = panel.to_frame()
        exog = list(panel.exog)
        cv = cross_validation(
            self.models,
            frame,
            h=self.config.horizon,
            n_windows=self.config.n_windows,
            exog_cols=exog,
            refit=self.config.refit_windows,
            config=cfg,
        )
        names = [m.name for m in self.models]
        cv = cv.dropna(subset=names)
        scale_rows = []
        for cutoff, part in cv.groupby("cutoff"):
            table = series_scales_table(
                frame[frame["ds"] <= cutoff], cfg.season_length, self.config.horizon
            )
            scale_rows.append(part[["unique_id"]].merge(table, on="unique_id", how="left"))
        scale = pd.concat(scale_rows)["mase_scale"].to_numpy()
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.weights_ = dict(
            zip(
                names,
                simplex_weights(cv[names].to_numpy(), cv["y"].to_numpy(), scale),
                strict=True,
            )
        )
        self.validation_ = cv
        self.members_ = self._final_members(panel, frame, exog)

    def _learned_state(self) -> dict[str, Any]:
        return {"weights": {k: float(v) for k, v in self.weights_.items()}}

    def _restore_state(
        self, learned: dict[str, Any], members: list[Forecaster], saved: SavedFolder
    ) -> None:
        self.weights_ = dict(learned["weights"])
        self.members_ = members

    def _forecast(
        self, panel: Panel, h: int, future_exog: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        mean = np.zeros((len(panel), h))
        sigma = np.zeros((len(panel), h))
        for member in self.members_:
            m_mean, m_sigma = member._forecast(panel, h, future_exog)
            mean += self.weights_[member.name] * m_mean
            sigma += self.weights_[member.name] * m_sigma
        return mean, sigma
