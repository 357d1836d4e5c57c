"""Forecast accuracy metrics on long frames (per series, then averaged).

For series ``i`` with test errors ``e = ŷ - y`` over the horizon and training
history ``x``:

* MASE = mean|e| / mean|x_t - x_{t-m}| (in-sample seasonal naive, ``m`` = season);
* sMAPE = 100 · mean(2|e| / (|y| + |ŷ|)) (terms with ``|y|+|ŷ| = 0`` count 0);
* RMSE = sqrt(mean e²);
* WRMSSE-bottom = Σ_i w_i · sqrt(mean e² / mean (x_t - x_{t-1})²) with
  ``w_i`` the share of series ``i`` in the last ``h`` training periods' sales
  (M5's RMSSE weighting at the bottom level);
* bias = Σ e / Σ |y| (pooled; > 0 means over-forecasting).

MASE, sMAPE and RMSE are averaged over series with equal weight.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from chainmall._validation import Column, check_frame, check_scalar, require_columns
from chainmall.exceptions import DataValidationError

__all__ = ["evaluate_forecasts", "series_scales_table"]


def series_scales_table(
    train: pd.DataFrame, season: int, h: int, *, id_col: str = "unique_id", target_col: str = "y"
) -> pd.DataFrame:
    """Per series: MASE scale, RMSSE scale and WRMSSE weight from training data (sorted by time)."""
    rows = []
    for uid, grp in train.groupby(id_col, sort=True):
        x = grp[target_col].to_numpy(dtype="float64")
        lag = season if len(x) > season else 1
        mase = float(np.mean(np.abs(x[lag:] - x[:-lag]))) if len(x) > lag else np.nan
        rmsse = float(np.mean(np.diff(x) ** 2)) if len(x) > 1 else np.nan
        rows.append((uid, mase, rmsse, float(np.sum(np.maximum(x[-h:], 0.0)))))
    table = pd.DataFrame(rows, columns=[id_col, "mase_scale", "rmsse_scale", "weight"])
    table["weight"] = table["weight"] / table["weight"].sum()
    return table


def evaluate_forecasts(
    forecasts: pd.DataFrame,
    train: pd.DataFrame,
    models: Sequence[str],
    *,
    season: int = 52,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> pd.DataFrame:
    """Metrics per model for one origin: ``forecasts`` holds ``y`` and one column per model.

    ``train`` is the history the forecasts were made from (for the scales).
    Returns ``[model, mase, smape, rmse, wrmsse, bias, n_series]``.
    """
    models = list(models)
    numbers = [Column(target_col, "number"), *(Column(m, "number") for m in models)]
    fc = check_frame(
        forecasts, [Column(id_col, "id"), *numbers], name="forecasts", id_column=id_col
    )
    require_columns(fc, [time_col], name="forecasts")
    check_frame(
        train, (Column(id_col, "id"), Column(target_col, "number")), name="train", id_column=id_col
    )
    season = check_scalar(season, "season", "count", ge=1)
    unknown = sorted(set(fc[id_col]) - set(train[id_col]), key=str)
    if unknown:
        raise DataValidationError(
            f"forecasts.{id_col} has series without history in train, e.g. {unknown[:5]}; "
            "pass the training data the forecasts were made from"
        )
    h = int(fc.groupby(id_col).size().max())
    scales = series_scales_table(
        train.sort_values([id_col, time_col]), season, h, id_col=id_col, target_col=target_col
    )
    merged = fc.merge(scales, on=id_col, how="left")
    out = []
    y = merged[target_col].to_numpy(dtype="float64")
    for model in models:
        e = merged[model].to_numpy(dtype="float64") - y
        denom = np.abs(y) + np.abs(merged[model].to_numpy(dtype="float64"))
        per = (
            pd.DataFrame(
                {
                    id_col: merged[id_col],
                    "ae": np.abs(e),
                    "se": e**2,
                    "sape": np.divide(2 * np.abs(e), denom, out=np.zeros_like(e), where=denom > 0),
                }
            )
            .groupby(id_col, sort=True)[["ae", "se", "sape"]]
            .mean()
        )
        sc = scales.set_index(id_col).loc[per.index]
        mase = per["ae"] / sc["mase_scale"]
        rmsse = np.sqrt(per["se"] / sc["rmsse_scale"])
        w = sc["weight"] / sc["weight"].sum()
        out.append(
            {
                "model": model,
                "mase": float(mase.mean()),
                "smape": float(100 * per["sape"].mean()),
                "rmse": float(np.sqrt(per["se"]).mean()),
                "wrmsse": float((w * rmsse).sum()),
                "bias": float(e.sum() / np.abs(y).sum()),
                "n_series": len(per),
            }
        )
    return pd.DataFrame(out)
