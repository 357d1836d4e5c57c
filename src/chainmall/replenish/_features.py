"""Lag and calendar features for the global (cross-series) forecasters.

Every series is divided by its scale ``s_i`` (mean absolute demand of its last
``season_length`` periods), so one model serves small and large SKUs. A row
describes one forecast origin ``t`` (last observed period) and horizon ``k``;
its target is ``y_{t+k} / s_i``. Features (all scaled):

* recent lags ``y_t … y_{t-3}`` and means of the last 4 and 13 periods;
* last season's value at the target, ``y_{t+k-m}``, and its neighbours
  ``y_{t+k-m±1}`` (moving holidays), two seasons back ``y_{t+k-2m}``;
* the year-on-year level ratio (last 4 periods vs. the same 4 a season ago)
  and last season's value times that ratio;
* horizon ``k``, day of year of the target period, and each exogenous column
  at the target period and a season before it (e.g. holiday flags).

Missing lags (early in a series) are NaN; tree models handle them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainmall.replenish._panel import Panel

__all__ = ["FeatureRows", "build_rows", "series_scales"]


@dataclass(frozen=True)
class FeatureRows:
    """Design matrix and bookkeeping of a set of (series, origin, horizon) rows."""

    X: np.ndarray
    target: np.ndarray
    series: np.ndarray
    origin: np.ndarray
    horizon: np.ndarray
    names: list[str]


def series_scales(panel: Panel, season: int) -> np.ndarray:
    """Mean absolute demand of each series' last season (1.0 where it is 0)."""
    scales = np.array([np.mean(np.abs(v[-season:])) for v in panel.values])
    return np.where(scales > 0, scales, 1.0)


def _at(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``y[idx]`` with NaN where ``idx`` falls outside ``y``."""
    ok = (idx >= 0) & (idx < len(y))
    out = np.full(idx.shape, np.nan)
    out[ok] = y[idx[ok]]
    return out


def _rolling_mean(y: np.ndarray, end: np.ndarray, width: int) -> np.ndarray:
    csum = np.concatenate([[0.0], np.cumsum(y)])
    start = end - width + 1
    out = (csum[np.clip(end + 1, 0, len(y))] - csum[np.clip(start, 0, len(y))]) / width
    return np.where(start >= 0, out, np.nan)


def build_rows(
    panel: Panel,
    season: int,
    h: int,
    scales: np.ndarray,
    *,
    train: bool,
    future_exog: dict[str, np.ndarray] | None = None,
    min_origin: int = 12,
) -> FeatureRows:
    """Feature rows: every origin with a known target (``train``) or the last origin.

    ``future_exog[col]`` has shape ``(n_series, h)`` and is needed for the last origin.
    """
    m = season
    blocks, targets, series, origins, horizons = [], [], [], [], []
    ks = np.arange(1, h + 1)
    names = [
        "lag0", "lag1", "lag2", "lag3", "mean4", "mean13",
        "season", "season_prev", "season_next", "season2", "yoy_ratio", "season_x_yoy",
        "horizon", "day_of_year",
    ]  # fmt: skip
    for col in panel.exog:
        names += [f"{col}_target", f"{col}_season"]
    for i, raw in enumerate(panel.values):
        y = raw / scales[i]
        n = len(y)
        if train:
            t = np.arange(min_origin, n - 1)
            t, k = (a.ravel() for a in np.meshgrid(t, ks, indexing="ij"))
            keep = t + k < n
            t, k = t[keep], k[keep]
        else:
            t, k = np.full(h, n - 1), ks.copy()
        tk = t + k
        recent4 = _rolling_mean(y, t, 4)
        last_year4 = _rolling_mean(y, t - m, 4)
        ratio = np.where(np.abs(last_year4) > 1e-6, recent4 / last_year4, np.nan)
        ratio = np.clip(ratio, 0.0, 5.0)
        seasonal = _at(y, tk - m)
        start_doy = float(panel.starts[i].day_of_year)
        step_days = float((panel.starts[i] + panel.freq - panel.starts[i]).days)
        cols = [
            _at(y, t), _at(y, t - 1), _at(y, t - 2), _at(y, t - 3), recent4,
            _rolling_mean(y, t, 13), seasonal, _at(y, tk - m - 1), _at(y, tk - m + 1),
            _at(y, tk - 2 * m), ratio, seasonal * ratio, k.astype("float64"),
            (start_doy - 1 + tk * step_days) % 365.25,
        ]  # fmt: skip
        for col, arrays in panel.exog.items():
            x = arrays[i]
            if train:
                at_target = _at(x, tk)
            else:
                at_target = np.asarray(future_exog[col][i] if future_exog else np.full(h, np.nan))
            cols += [at_target, _at(x, tk - m)]
        blocks.append(np.column_stack(cols))
        targets.append(_at(y, tk) if train else np.full(len(t), np.nan))
        series.append(np.full(len(t), i))
        origins.append(t)
        horizons.append(k)
    return FeatureRows(
        X=np.vstack(blocks),
        target=np.concatenate(targets),
        series=np.concatenate(series),
        origin=np.concatenate(origins),
        horizon=np.concatenate(horizons),
        names=names,
    )
