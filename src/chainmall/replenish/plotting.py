"""Plots: a forecast with intervals against history, and an inventory trajectory.

matplotlib is imported lazily (``pip install "chainmall[plot]"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from chainmall._optional import import_optional
from chainmall.replenish._panel import canonical_series, series_mapping

__all__ = ["plot_forecast", "plot_inventory"]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    plt = import_optional("matplotlib.pyplot", extra="plot")
    return plt.subplots(figsize=(8, 3.5))[1]


def plot_forecast(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    model: str,
    uid: str,
    *,
    levels: tuple[float, ...] = (80, 95),
    columns: Mapping[str, str] | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
    target_col: str | None = None,
    ax: Any = None,
) -> Any:
    """History of series ``uid`` and its forecast with shaded intervals; returns the Axes.

    ``forecast`` is :meth:`~chainmall.replenish.Forecaster.predict` output (canonical
    names); ``columns={canonical: yours}`` names ``history``'s ``unique_id`` / ``ds`` /
    ``y`` where they differ (``id_col=`` / ``time_col=`` / ``target_col=`` are
    deprecated).
    """
    mapping = series_mapping(
        columns, name="history", id_col=id_col, time_col=time_col, target_col=target_col
    )
    history = canonical_series(history, mapping, name="history")
    ax = _axes(ax)
    hist = history[history["unique_id"] == uid]
    fc = forecast[forecast["unique_id"] == uid]
    ax.plot(hist["ds"], hist["y"], color="black", lw=1, label="history")
    ax.plot(fc["ds"], fc[model], color="C0", lw=1.5, label=model)
    for lv in sorted(levels, reverse=True):
        lo, hi = f"{model}-lo-{lv:g}", f"{model}-hi-{lv:g}"
        if lo in fc and hi in fc:
            ax.fill_between(fc["ds"], fc[lo], fc[hi], color="C0", alpha=0.15, label=f"{lv:g}%")
    ax.set_title(str(uid))
    ax.set_ylabel("demand (units / period)")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_inventory(
    on_hand_end: np.ndarray, demand: np.ndarray, orders: np.ndarray | None = None, *, ax: Any = None
) -> Any:
    """One series' end-of-period stock, demand and orders (1-D arrays); returns the Axes."""
    ax = _axes(ax)
    t = np.arange(len(on_hand_end))
    ax.step(t, on_hand_end, where="post", color="C2", label="stock at period end")
    ax.plot(t, demand, color="black", lw=1, label="demand")
    if orders is not None:
        ax.bar(t, orders, color="C1", alpha=0.4, label="order placed")
    ax.set_xlabel("period")
    ax.set_ylabel("units")
    ax.legend(loc="upper left", fontsize="small")
    return ax
