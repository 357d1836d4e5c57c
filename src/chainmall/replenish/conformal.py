"""Conformal safety stock from each series' own recent out-of-sample errors, per horizon.

A rolling backtest (:func:`~chainmall.replenish.backtest.cross_validation` with
``step=1``) gives, for series ``i`` and forecast origin ``c``, the forecasts
``ŷ_{i,c,k}`` and the demand ``y_{i,c+k}`` (clipped at 0) for horizons
``k = 1..h``: :class:`ErrorPaths`. For a protection interval of ``P`` periods
the score of origin ``c`` is the cumulative error ``E_{i,c}(P) = Σ_{k≤P}
(y - ŷ)``, one score per horizon sum, so each interval length is calibrated on
its own errors.

At origin ``t`` only the origins whose ``P`` periods have passed (``c ≤ t - P``)
are known; :func:`rolling_safety_stock` takes the ``window`` latest of them and
returns the *smoothed* split-conformal quantile of the series' own scores
(:func:`conformal_quantile`): with ``n`` sorted scores ``e_(1) ≤ … ≤ e_(n)`` the
level-``α`` quantile sits at rank ``α(n + 1)``, linear between neighbours, so a
new exchangeable score falls below it with probability ``≈ α`` (exactly
``k/(n+1)`` at integer ranks ``k``) instead of jumping in steps of ``1/(n+1)``.

Stochastic lead times: with an empirical lead-time distribution ``p_L`` and
review period ``R``, the order-up-to level is the ``α``-quantile of the mixture
``Σ_L p_L · [D̂(L+R) + E(L+R)]`` of scenarios (current forecast over ``L + R``
periods plus a past error over as many periods); the safety stock is that level
minus the expected forecast ``Σ_L p_L D̂(L+R)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainmall._validation import (
    Column,
    check_array,
    check_frame,
    check_scalar,
    require_columns,
)
from chainmall.exceptions import DataValidationError
from chainmall.replenish._checks import MAX_PERIODS, lead_time_weights, matrix, service_level
from chainmall.replenish._panel import canonical_series, series_mapping

__all__ = [
    "ConformalSafetyStock",
    "ErrorPaths",
    "conformal_quantile",
    "error_paths",
    "mixture_quantile",
    "rolling_safety_stock",
]


@dataclass(frozen=True)
class ErrorPaths:
    """Backtest forecasts and demand as arrays ``(n_series, n_origins, h)``.

    ``demand`` is clipped at 0 (returns are not demand for stock); ``cutoffs``
    are the origins (last observed period), one apart.
    """

    ids: list[str]
    cutoffs: pd.DatetimeIndex
    forecast: np.ndarray
    demand: np.ndarray

    @property
    def horizon(self) -> int:
        """Periods forecast at each origin."""
        return int(self.forecast.shape[2])

    def totals(self, periods: int) -> tuple[np.ndarray, np.ndarray]:
        """Forecast and demand summed over the first ``periods`` horizons, ``(n, T)`` each."""
        if not 1 <= periods <= self.horizon:
            raise DataValidationError(
                f"a protection interval of {periods} periods needs backtest forecasts of "
                f"1..{periods} periods; these have h={self.horizon}"
            )
        return self.forecast[:, :, :periods].sum(axis=2), self.demand[:, :, :periods].sum(axis=2)


def error_paths(
    cv: pd.DataFrame,
    model: str,
    *,
    columns: Mapping[str, str] | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
) -> ErrorPaths:
    """Reshape :func:`~chainmall.replenish.backtest.cross_validation` output (``step=1``).

    ``columns={canonical: yours}`` names ``cv``'s ``unique_id`` / ``ds`` / ``y`` where
    they differ (``id_col=`` / ``time_col=`` are deprecated).

    Raises:
        DataValidationError: columns are missing, or some (series, origin) lacks a
            horizon or a forecast (e.g. a series the model rejected).
    """
    mapping = series_mapping(columns, name="cv", id_col=id_col, time_col=time_col)
    cv = canonical_series(cv, mapping, name="cv")
    frame = check_frame(cv, _cv_columns(model), name="cv", id_column="unique_id")
    require_columns(frame, ["ds", "cutoff"], name="cv")
    ordered = frame.sort_values(["unique_id", "cutoff", "ds"])
    step = ordered.groupby(["unique_id", "cutoff"]).cumcount().to_numpy()
    ids = sorted(ordered["unique_id"].astype(str).unique())
    cutoffs = pd.DatetimeIndex(np.sort(ordered["cutoff"].unique()))
    h = int(step.max()) + 1
    forecast = np.full((len(ids), len(cutoffs), h), np.nan)
    demand = np.full_like(forecast, np.nan)
    row = pd.Index(ids).get_indexer(pd.Index(ordered["unique_id"].astype(str)))
    col = cutoffs.get_indexer(pd.DatetimeIndex(ordered["cutoff"]))
    forecast[row, col, step] = ordered[model].to_numpy(dtype="float64")
    demand[row, col, step] = ordered["y"].clip(lower=0.0).to_numpy(dtype="float64")
    holes = np.isnan(forecast).any(axis=(1, 2)) | np.isnan(demand).any(axis=(1, 2))
    if holes.any():
        bad = [ids[i] for i in np.flatnonzero(holes)[:5]]
        raise DataValidationError(
            f"cv lacks {model} forecasts or demand for {int(holes.sum())} series (unique_id) at "
            f"some origin/horizon, e.g. {bad}; backtest every series with the same h at every "
            "origin"
        )
    return ErrorPaths(ids, cutoffs, forecast, demand)


def _cv_columns(model: str) -> tuple[Column, ...]:
    """Declared columns of cross-validation output (demand and forecast in units)."""
    return (Column("unique_id", "id"), Column("y", "number"), Column(model, "number"))


def conformal_quantile(scores: np.ndarray, level: float, axis: int = -1) -> np.ndarray:
    """Smoothed split-conformal quantile along ``axis``: rank ``level·(n+1)``, interpolated.

    Clipped to the smallest and largest score (no extrapolation beyond the data).
    """
    level = service_level(level)
    values = check_array(scores, "scores", "number", ndim=None)
    axis = check_scalar(axis, "axis", "count", ge=-max(values.ndim, 1), lt=max(values.ndim, 1))
    ordered = np.sort(values, axis=axis)
    n = ordered.shape[axis]
    if n == 0:
        raise DataValidationError("scores is empty; conformal_quantile needs at least one score")
    pos = min(max(level * (n + 1), 1.0), float(n)) - 1.0  # 0-based fractional rank
    lo = int(np.floor(pos))
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    low = np.take(ordered, lo, axis=axis)
    return np.asarray(low + frac * (np.take(ordered, hi, axis=axis) - low))


def mixture_quantile(
    values: np.ndarray, weights: np.ndarray, level: float, n_scores: int
) -> np.ndarray:
    """Row-wise conformal quantile of weighted scenarios ``(n, m)``; weights ``(m,)`` sum to 1.

    Interpolates the weighted empirical CDF at ``level·(n_scores+1)/n_scores``
    (``n_scores`` = past origins behind the scenarios), so ``m`` equally weighted
    scenarios with ``n_scores = m`` reproduce :func:`conformal_quantile`.
    """
    values = check_array(values, "values", "number", ndim=2, allow_empty=False)
    weights = check_array(weights, "weights", "number", ge=0)
    if weights.shape != (values.shape[1],):
        raise DataValidationError(
            f"weights must hold one weight per column of values ({values.shape[1]}), "
            f"got shape {weights.shape}"
        )
    level = service_level(level)
    n_scores = check_scalar(n_scores, "n_scores", "count", ge=1)
    order = np.argsort(values, axis=1)
    ordered = np.take_along_axis(values, order, axis=1)
    cum = np.cumsum(weights[order], axis=1)
    target = np.clip(level * (n_scores + 1.0) / n_scores, cum[:, :1], cum[:, -1:])
    above = np.minimum((cum < target - 1e-12).sum(axis=1), values.shape[1] - 1)
    below = np.maximum(above - 1, 0)
    rows = np.arange(len(values))
    c0, c1 = cum[rows, below], cum[rows, above]
    frac = np.where(c1 > c0, (target[:, 0] - c0) / np.where(c1 > c0, c1 - c0, 1.0), 1.0)
    frac = np.clip(frac, 0.0, 1.0)
    return np.asarray(ordered[rows, below] + frac * (ordered[rows, above] - ordered[rows, below]))


class ConformalSafetyStock:
    """Safety stocks from the realised errors known at each origin, at any service level.

    Args:
        paths: backtest forecasts and demand (:func:`error_paths`).
        review: review period ``R`` in periods.
        lead_time: fixed lead time ``L`` in periods, or an empirical distribution
            ``{L: probability}`` (e.g. counts of observed lead times).
        window: most past origins whose errors are used (the latest realised ones).
        min_scores: fewer realised origins than this give NaN (not enough history).

    Origins are assumed one period apart. ``expected`` ``(n, T)`` is the forecast
    over the protection interval (lead-time weighted).
    """

    def __init__(
        self,
        paths: ErrorPaths,
        *,
        review: int = 1,
        lead_time: int | Mapping[int, float] = 1,
        window: int = 26,
        min_scores: int = 8,
    ) -> None:
        if not isinstance(paths, ErrorPaths):
            raise DataValidationError(
                f"paths must be ErrorPaths (from error_paths), got {type(paths).__name__}"
            )
        review = check_scalar(review, "review", "count", ge=1, le=MAX_PERIODS)
        window = check_scalar(window, "window", "count", ge=1)
        min_scores = check_scalar(min_scores, "min_scores", "count", ge=1)
        self.covers = {lt + review: p for lt, p in lead_time_weights(lead_time).items()}
        self.totals = {cover: paths.totals(cover) for cover in self.covers}
        self.window = window
        self.min_scores = min_scores
        self.expected: np.ndarray = sum(
            (p * self.totals[cover][0] for cover, p in self.covers.items()),
            start=np.zeros(paths.forecast.shape[:2]),
        )

    def at(self, t: int, level: float) -> np.ndarray:
        """Safety stock per series at origin ``t`` for cycle service ``level`` (may be < 0)."""
        t = check_scalar(t, "t", "count", ge=0, lt=self.expected.shape[1])
        level = service_level(level)
        last = t - max(self.covers)  # newest origin realised for every interval length
        now = {cover: fc[:, t] for cover, (fc, _) in self.totals.items()}
        return np.asarray(self._quantile(last, now, level) - self.expected[:, t])

    def now(self, forecast: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        """``(expected, safety)`` for an order placed after the last observed period.

        ``forecast`` ``(n_series, ≥ L + R)``: per-period forecasts from a model fitted
        on all the data, rows in the order of ``paths.ids``. Every backtest origin is
        realised by then (each has ``h ≥ L + R`` periods of demand).
        """
        fc = matrix(forecast, "forecast")
        level = service_level(level)
        if fc.ndim != 2 or fc.shape[0] != len(self.expected) or fc.shape[1] < max(self.covers):
            raise DataValidationError(
                f"forecast must be (n_series={len(self.expected)}, >= {max(self.covers)} "
                f"periods), got {fc.shape}"
            )
        totals = {cover: fc[:, :cover].sum(axis=1) for cover in self.covers}
        expected = sum((p * totals[cover] for cover, p in self.covers.items()), start=0.0)
        last = self.expected.shape[1] - 1
        return np.asarray(expected), self._quantile(last, totals, level) - expected

    def _quantile(self, last: int, now: dict[int, np.ndarray], level: float) -> np.ndarray:
        """Level-``level`` quantile of the scenarios ``now + error`` of origins up to ``last``."""
        first = max(last - self.window + 1, 0)
        if last - first + 1 < self.min_scores:
            return np.full(len(self.expected), np.nan)
        scenarios, weights = [], []
        for cover, p in self.covers.items():
            fc, dem = self.totals[cover]
            errors = dem[:, first : last + 1] - fc[:, first : last + 1]
            scenarios.append(now[cover][:, None] + errors)
            weights.append(np.full(errors.shape[1], p / errors.shape[1]))
        values = np.concatenate(scenarios, axis=1)
        if len(self.covers) == 1:
            return conformal_quantile(values, level, axis=1)
        return mixture_quantile(values, np.concatenate(weights), level, n_scores=last - first + 1)


def rolling_safety_stock(
    paths: ErrorPaths,
    level: float,
    *,
    review: int = 1,
    lead_time: int | Mapping[int, float] = 1,
    window: int = 26,
    min_scores: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Order-up-to parts known at each origin: ``(expected_demand, safety_stock)``, ``(n, T)``.

    ``level`` is the target probability that demand over the protection interval
    stays below ``expected_demand + safety_stock``; other arguments as
    :class:`ConformalSafetyStock`. The safety stock may be negative (forecasts
    biased high; clip it at 0 for a policy) and is NaN before ``min_scores``
    origins are realised.
    """
    level = service_level(level)
    model = ConformalSafetyStock(
        paths, review=review, lead_time=lead_time, window=window, min_scores=min_scores
    )
    safety = np.column_stack([model.at(t, level) for t in range(len(paths.cutoffs))])
    return model.expected, safety
