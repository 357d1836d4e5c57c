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

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from chainmall._validation import Column, check_frame, check_scalar, require_columns
from chainmall.exceptions import DataValidationError
from chainmall.replenish._panel import canonical_series, series_mapping

__all__ = ["evaluate_forecasts", "series_scales_table"]


def series_scales_table(
    train: pd.DataFrame,
    season: int,
    h: int,
    *,
    columns: Mapping[str, str] | None = None,
    id_col: str | None = None,
    target_col: str | None = None,
) -> pd.DataFrame:
    """Per series: MASE scale, RMSSE scale and WRMSSE weight from training data (sorted by time).

    Returns ``[unique_id, mase_scale, rmsse_scale, weight]``; ``columns={canonical:
    yours}`` names ``train``'s ``unique_id`` / ``y`` where they differ (``id_col=`` /
    ``target_col=`` are deprecated).
    """
    mapping = series_mapping(columns, name="train", id_col=id_col, target_col=target_col)
    train = canonical_series(train, mapping, name="train")
    rows = []
    for uid, grp in train.groupby("unique_id", sort=True):
        x = grp["y"].to_numpy(dtype="float64")
        lag = season if len(x) > season else 1
        mase = float(np.mean(np.abs(x[lag:] - x[:-lag]))) if len(x) > lag else np.nan
        rmsse = float(np.mean(np.diff(x) ** 2)) if len(x) > 1 else np.nan
        rows.append((uid, mase, rmsse, float(np.sum(np.maximum(x[-h:], 0.0)))))
    table = pd.DataFrame(rows, columns=["unique_id", "mase_scale", "rmsse_scale", "weight"])
    table["weight"] = table["weight"] / table["weight"].sum()
    return table


def evaluate_forecasts(
    forecasts: pd.DataFrame,
    train: pd.DataFrame,
    models: Sequence[str],
    *,
    season: int = 52,
    columns: Mapping[str, str] | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
    target_col: str | None = None,
) -> pd.DataFrame:
    """Metrics per model for one origin: ``forecasts`` holds ``y`` and one column per model.

    ``train`` is the history the forecasts were made from (for the scales).
    ``columns={canonical: yours}`` names the ``unique_id`` / ``ds`` / ``y`` columns of
    both frames where they differ (``id_col=`` / ``time_col=`` / ``target_col=`` are
    deprecated). Returns ``[model, mase, smape, rmse, wrmsse, bias, n_series]``.
    """
    mapping = series_mapping(
        columns, name="forecasts / train", id_col=id_col, time_col=time_col, target_col=target_col
    )
    forecasts = canonical_series(forecasts, mapping, name="forecasts")
    train = canonical_series(train, mapping, name="train")
    models = list(models)
    numbers = [Column("y", "number"), *(Column(m, "number") for m in models)]
    fc = check_frame(
        forecasts, [Column("unique_id", "id"), *numbers], name="forecasts", id_column="unique_id"
    )
    require_columns(fc, ["ds"], name="forecasts")
    check_frame(
        train,
        (Column("unique_id", "id"), Column("y", "number")),
        name="train",
        id_column="unique_id",
    )
    season = check_scalar(season, "season", "count", ge=1)
    unknown = sorted(set(fc["unique_id"]) - set(train["unique_id"]), key=str)
    if unknown:
        raise DataValidationError(
            "forecasts.unique_id has series without history in train, e.g. {unknown[:5]}; "
            "pass the training data the forecasts were made from"
        )
    h = int(fc.groupby("unique_id").size().max())
    scales = series_scales_table(train.sort_values(["unique_id", "ds"]), season, h)
    merged = fc.merge(scales, on="unique_id", how="left")
    out = []
    y = merged["y"].to_numpy(dtype="float64")
    for model in models:
        e = merged[model].to_numpy(dtype="float64") - y
        denom = np.abs(y) + np.abs(merged[model].to_numpy(dtype="float64"))
        per = (
            pd.DataFrame(
                {
                    "unique_id": merged["unique_id"],
                    "ae": np.abs(e),
                    "se": e**2,
                    "sape": np.divide(2 * np.abs(e), denom, out=np.zeros_like(e), where=denom > 0),
                }
            )
            .groupby("unique_id", sort=True)[["ae", "se", "sape"]]
            .mean()
        )
        sc = scales.set_index("unique_id").loc[per.index]
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
