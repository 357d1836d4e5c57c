"""ARIMA with fast automatic order selection for long seasons (statsmodels).

A 52-lag seasonal ARMA state makes state-space ARIMA slow and fragile, so the
season is removed by differencing instead: with ``m`` the season length and
``w_t = y_t - y_{t-m}``, a small ARMA(p, q) with a constant (the yearly drift)

    (w_t - c) = Σ φ_i (w_{t-i} - c) + ε_t + Σ θ_j ε_{t-j}

is chosen from a small candidate set by the AICc of a conditional-sum-of-
squares fit (i.e. ARIMA(p,0,q)(0,1,0)_m; the constant ``c`` is optional and
off by default: it picked up spurious drift on Walmart). Forecasts undo the
differencing, ``ŷ_{T+k} = y_{T+k-m} + ŵ_{T+k}``, so for ``k ≤ m`` the forecast
variance is exactly that of ``ŵ``. Series shorter than ``m + min_seasonal_obs``
fall back to ARIMA(p,1,q) without a season (reported in ``report_``).
Exogenous columns are ignored by this model.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import optimize, signal

from chainmall._optional import import_optional
from chainmall._persist import SavedFolder
from chainmall.replenish._base import Forecaster, map_series
from chainmall.replenish._panel import Panel
from chainmall.replenish.model_configs import AutoARIMAConfig

__all__ = ["AutoARIMA", "insample_fitted"]


def _model(w: np.ndarray, p: int, d: int, q: int, constant: bool) -> Any:
    arima = import_optional("statsmodels.tsa.arima.model", extra="all")
    return arima.ARIMA(w, order=(p, d, q), trend="c" if constant and d == 0 else "n")


def _css_residuals(
    theta: np.ndarray, w: np.ndarray, p: int, q: int, constant: bool, skip: int
) -> np.ndarray:
    """One-step errors of ARMA(p, q) by conditional sum of squares (first ``skip`` dropped)."""
    mu = theta[0] if constant else 0.0
    k = 1 if constant else 0
    phi, ma = theta[k : k + p], theta[k + p : k + p + q]
    e = signal.lfilter(np.r_[1.0, -phi], np.r_[1.0, ma], w - mu)
    return np.asarray(e[skip:], dtype="float64")


def _css_fit(w: np.ndarray, p: int, q: int, constant: bool, skip: int) -> tuple[float, np.ndarray]:
    """AICc and parameters ``[mean?, φ, θ, σ²]`` of ARMA(p, q) by CSS (milliseconds).

    ``skip`` (the largest candidate p) keeps the AICc of all candidates on the same sample.
    """
    k = int(constant)
    scale = float(np.std(w)) or 1.0
    x0 = np.r_[[np.mean(w) / scale] * k, np.full(p + q, 0.1)]
    lo = np.r_[[-np.inf] * k, np.full(p + q, -0.99)]
    hi = np.r_[[np.inf] * k, np.full(p + q, 0.99)]
    if x0.size:
        sol = optimize.least_squares(
            _css_residuals, x0, bounds=(lo, hi), args=(w / scale, p, q, constant, skip)
        )
        theta = sol.x
    else:
        theta = x0
    e = _css_residuals(theta, w / scale, p, q, constant, skip) * scale
    n = e.size
    sigma2 = float(np.mean(e**2)) + 1e-12
    n_par = p + q + k + 1
    aicc = (
        n * (np.log(2 * np.pi * sigma2) + 1)
        + 2 * n_par
        + 2 * n_par * (n_par + 1) / max(n - n_par - 1, 1)
    )
    if constant:  # statsmodels' "const" is the process mean, as here
        theta = theta.copy()
        theta[0] *= scale
    return float(aicc), np.r_[theta, sigma2]


def _select(
    task: tuple[np.ndarray, int, Sequence[tuple[int, int]], bool, bool],
) -> tuple[int, int, int, bool, np.ndarray]:
    """Order by CSS-AICc; optionally exact MLE (statsmodels) of the winner from the CSS start."""
    w, d, orders, try_constant, refine_mle = task
    x = np.diff(w) if d else w
    skip = max(p for p, _ in orders)
    candidates = [
        (*_css_fit(x, p, q, c, skip), p, q, c)
        for p, q in orders
        for c in ((False, True) if try_constant and not d else (False,))
        if x.size > p + q + 4
    ]
    _, start, p, q, constant = min(candidates, key=lambda row: row[0])
    if not refine_mle:
        return p, d, q, constant, start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            params = np.asarray(_model(w, p, d, q, constant).fit(start_params=start).params)
        except (np.linalg.LinAlgError, ValueError):
            params = start
    return p, d, q, constant, params.astype("float64")


def _forecast_one(
    task: tuple[np.ndarray, int, int, int, int, bool, np.ndarray, int],
) -> tuple[np.ndarray, np.ndarray]:
    y, m, p, d, q, constant, params, h = task
    w = y[m:] - y[:-m] if m else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _model(w, p, d, q, constant).filter(params)
        fc = res.get_forecast(h)
        w_hat = np.asarray(fc.predicted_mean, dtype="float64")
        se = np.asarray(fc.se_mean, dtype="float64")
    if not m:
        return w_hat, se
    ext = np.concatenate([y, np.zeros(h)])
    n = len(y)
    for k in range(h):  # undo seasonal differencing (recursive only beyond one season)
        ext[n + k] = ext[n + k - m] + w_hat[k]
    return ext[n:], se


class AutoARIMA(Forecaster):
    """Per-series ARIMA(p,0,q)(0,1,0)_m, order and constant chosen by AICc.

    The order is chosen by the AICc of conditional-sum-of-squares fits (a
    ``scipy.signal.lfilter`` recursion, milliseconds each); only the winner
    is put in statsmodels' state-space ARIMA, which filters the series and gives
    forecasts and their standard errors. ``refine_mle=True`` re-estimates the
    winner by exact likelihood (about 5x slower; no accuracy gain on Walmart).

    Hyperparameters: :class:`~chainmall.replenish.model_configs.AutoARIMAConfig`
    (``orders``, ``try_constant``, ``refine_mle``, ``min_seasonal_obs``).
    """

    default_alias = "AutoARIMA"
    config_class = AutoARIMAConfig
    config: AutoARIMAConfig
    _learned_arrays = ("seasons_", "orders_", "constants_")

    def _min_length(self) -> int:
        return 8

    def _learned_state(self) -> dict[str, Any]:
        state = super()._learned_state()
        state["params_flat"] = np.concatenate(self.params_)
        state["params_lengths"] = np.array([len(p) for p in self.params_], dtype=np.int64)
        return state

    def _restore_state(
        self, learned: dict[str, Any], members: list[Forecaster], saved: SavedFolder
    ) -> None:
        super()._restore_state(learned, members, saved)
        bounds = np.cumsum(learned["params_lengths"])[:-1]
        self.params_ = list(np.split(np.asarray(learned["params_flat"]), bounds))

    def _season_of(self, n: int) -> int:
        m = self.cfg.season_length
        return m if m > 1 and n >= m + self.config.min_seasonal_obs else 0

    def _fit_panel(self, panel: Panel) -> None:
        tasks = []
        for v in panel.values:
            m = self._season_of(len(v))
            w, d = (v[m:] - v[:-m], 0) if m else (v, 1)
            tasks.append(
                (w, d, self.config.orders, self.config.try_constant, self.config.refine_mle)
            )
        fitted = map_series(
            _select, tasks, n_jobs=self.config.n_jobs, progress=self._progress, desc=self.name
        )
        self.seasons_ = np.array([self._season_of(len(v)) for v in panel.values], dtype=np.int64)
        self.orders_ = np.array([(p, d, q) for p, d, q, _, _ in fitted], dtype=np.int64)
        self.constants_ = np.array([c for *_, c, _ in fitted], dtype=bool)
        self.params_ = [params for *_, params in fitted]
        fallback = self.seasons_ == 0
        if fallback.any():
            ids = set(np.asarray(panel.ids)[fallback])
            rows = self.report_["unique_id"].isin(ids).to_numpy()
            self.report_.loc[rows, "reason"] = (
                "shorter than season + min_seasonal_obs: non-seasonal ARIMA"
            )

    def _forecast(
        self, panel: Panel, h: int, future_exog: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        tasks = [
            (v, int(m), int(o[0]), int(o[1]), int(o[2]), bool(c), prm, h)
            for v, m, o, c, prm in zip(
                panel.values,
                self.seasons_,
                self.orders_,
                self.constants_,
                self.params_,
                strict=True,
            )
        ]
        out = map_series(_forecast_one, tasks, n_jobs=self.config.n_jobs)
        return np.stack([a for a, _ in out]), np.stack([b for _, b in out])


def _insample_one(task: tuple[np.ndarray, int, int, int, int, bool, np.ndarray]) -> np.ndarray:
    y, m, p, d, q, constant, params = task
    w = y[m:] - y[:-m] if m else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = np.asarray(
            _model(w, p, d, q, constant).filter(params).fittedvalues, dtype="float64"
        )
    return np.concatenate([np.full(m, np.nan), y[:-m] + fitted]) if m else fitted


def insample_fitted(model: AutoARIMA, panel: Panel) -> list[np.ndarray]:
    """One-step fitted values of a fitted :class:`AutoARIMA` over ``panel`` (its series, in order).

    NaN for the first season of seasonal series.
    """
    tasks = [
        (v, int(m), int(o[0]), int(o[1]), int(o[2]), bool(c), prm)
        for v, m, o, c, prm in zip(
            panel.values,
            model.seasons_,
            model.orders_,
            model.constants_,
            model.params_,
            strict=True,
        )
    ]
    return map_series(_insample_one, tasks, n_jobs=model.config.n_jobs)
