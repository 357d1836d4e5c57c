"""Baseline and intermittent-demand forecasters.

* :class:`Naive`: ``ŷ_{T+k} = y_T``; ``σ_k = σ_1 √k`` with ``σ_1`` the std of
  first differences.
* :class:`SeasonalNaive`: ``ŷ_{T+k} = y_{T+k-m⌈k/m⌉}``; ``σ_k = σ_m √⌈k/m⌉``
  with ``σ_m`` the std of seasonal differences.
* :class:`Croston` (``method='croston' | 'sba' | 'tsb'``) for intermittent SKUs:
  Croston smooths non-zero demand sizes ``z`` and inter-demand intervals ``p``
  (forecast ``z/p``); SBA multiplies by ``1 - α/2`` (Syntetos-Boylan bias
  correction); TSB smooths the demand probability every period (forecast
  ``π·z``), so it decays for obsolete items. ``σ`` is the std of in-sample
  one-step errors.
"""

from __future__ import annotations

import numpy as np

from chainmall.replenish._base import Forecaster
from chainmall.replenish._panel import Panel
from chainmall.replenish.model_configs import CrostonConfig

__all__ = ["Croston", "Naive", "SeasonalNaive"]


def _std(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2))) if x.size else 0.0


class Naive(Forecaster):
    """Last value carried forward."""

    default_alias = "Naive"
    _learned_arrays = ("sigma_",)

    def _min_length(self) -> int:
        return 2

    def _fit_panel(self, panel: Panel) -> None:
        self.sigma_ = np.array([_std(np.diff(v)) for v in panel.values])

    def _forecast(
        self, panel: Panel, h: int, future_exog: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        last = np.array([v[-1] for v in panel.values])
        mean = np.repeat(last[:, None], h, axis=1)
        sigma = self.sigma_[:, None] * np.sqrt(np.arange(1, h + 1))[None, :]
        return mean, sigma


class SeasonalNaive(Forecaster):
    """Value of the same period one season earlier (``season_length`` from the config)."""

    default_alias = "SeasonalNaive"
    _learned_arrays = ("sigma_",)

    def _min_length(self) -> int:
        return self.cfg.season_length

    def _fit_panel(self, panel: Panel) -> None:
        m = self.cfg.season_length
        self.sigma_ = np.array([_std(v[m:] - v[:-m]) for v in panel.values])

    def _forecast(
        self, panel: Panel, h: int, future_exog: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        m = self.cfg.season_length
        steps = np.arange(h)
        mean = np.stack([v[len(v) - m + steps % m] for v in panel.values])
        sigma = self.sigma_[:, None] * np.sqrt(steps // m + 1.0)[None, :]
        return mean, sigma


def _croston_path(
    y: np.ndarray, alpha: float, beta: float, method: str
) -> tuple[float, np.ndarray]:
    """Final forecast and the in-sample one-step forecasts of one series (sequential)."""
    demand = np.maximum(y, 0.0)
    nonzero = np.flatnonzero(demand > 0)
    if nonzero.size == 0:
        return 0.0, np.zeros_like(demand)
    size = demand[nonzero[0]]
    interval = float(nonzero[0] + 1)
    prob = 1.0 / interval
    since = 0
    fitted = np.empty_like(demand)
    for t, d in enumerate(demand):
        if method == "tsb":
            fitted[t] = prob * size
            occurred = d > 0
            prob += beta * (float(occurred) - prob)
            if occurred:
                size += alpha * (d - size)
            continue
        fitted[t] = size / interval
        since += 1
        if d > 0:
            size += alpha * (d - size)
            interval += alpha * (since - interval)
            since = 0
    if method == "tsb":
        return prob * size, fitted
    factor = 1.0 - alpha / 2.0 if method == "sba" else 1.0
    return factor * size / interval, fitted * factor


class Croston(Forecaster):
    """Croston / SBA / TSB for intermittent demand (negative demand counts as 0).

    Hyperparameters: :class:`~chainmall.replenish.model_configs.CrostonConfig`
    (``method``, ``alpha``, ``beta``).
    """

    default_alias = "Croston"
    config_class = CrostonConfig
    config: CrostonConfig
    _learned_arrays = ("sigma_",)

    @property
    def name(self) -> str:
        """Column name: the alias, or the method in capitals (e.g. ``SBA``)."""
        method = self.config.method
        return self.config.alias or ("Croston" if method == "croston" else method.upper())

    def _smoothing(self) -> tuple[float, float, str]:
        return self.config.alpha, self.config.beta, self.config.method

    def _fit_panel(self, panel: Panel) -> None:
        self.sigma_ = np.array(
            [
                _std(np.maximum(v, 0.0) - _croston_path(v, *self._smoothing())[1])
                for v in panel.values
            ]
        )

    def _forecast(
        self, panel: Panel, h: int, future_exog: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        level = np.array([_croston_path(v, *self._smoothing())[0] for v in panel.values])
        return np.repeat(level[:, None], h, axis=1), np.repeat(self.sigma_[:, None], h, axis=1)
