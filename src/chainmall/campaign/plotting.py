"""Plots of campaign experiments: weekly GMV of the treatment and control arms.

matplotlib is imported lazily (``pip install "chainmall[plot]"``); every function
takes ``ax=None`` (a new figure) and returns the Axes. :func:`weekly_gmv_bands` is
the pure computation behind the plot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from chainmall._optional import import_optional
from chainmall.campaign.arms import Experiment
from chainmall.exceptions import ConfigError

__all__ = ["plot_weekly_gmv", "weekly_gmv_bands"]

_COLOURS = {"treatment": "#c0392b", "control": "#2f6fb3"}


def weekly_gmv_bands(
    experiments: Experiment | Sequence[Experiment], *, level: float = 0.95
) -> pd.DataFrame:
    """Mean weekly GMV per arm over experiments (seeds), with a t-interval.

    Args:
        experiments: one experiment, or several of the same world and campaign
            (e.g. one per seed).
        level: confidence level of the interval over experiments, in (0, 1).

    Returns:
        ``week, arm, in_campaign, n, mean_yuan, ci_low_yuan, ci_high_yuan`` (yuan
        per week); the interval is ``mean ± t_{n-1} · s / √n`` across experiments,
        NaN with a single experiment.
    """
    runs = [experiments] if isinstance(experiments, Experiment) else list(experiments)
    if not runs:
        raise ConfigError("weekly_gmv_bands needs at least one experiment")
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level}")
    frames = [
        getattr(exp, arm).weekly[["week", "in_campaign", "gmv_fen"]].assign(arm=arm)
        for exp in runs
        for arm in ("treatment", "control")
    ]
    weekly = pd.concat(frames, ignore_index=True)
    grouped = weekly.groupby(["week", "arm"], sort=True)
    out = grouped.agg(
        in_campaign=("in_campaign", "first"),
        n=("gmv_fen", "size"),
        mean=("gmv_fen", "mean"),
        sd=("gmv_fen", "std"),
    ).reset_index()
    n = out["n"].to_numpy(dtype=np.float64)
    quantile = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
    half = np.where(n > 1, quantile * out["sd"].to_numpy() / np.sqrt(n), np.nan)
    mean = out["mean"].to_numpy() / 100
    return pd.DataFrame(
        {
            "week": out["week"],
            "arm": out["arm"],
            "in_campaign": out["in_campaign"],
            "n": out["n"],
            "mean_yuan": mean,
            "ci_low_yuan": mean - half / 100,
            "ci_high_yuan": mean + half / 100,
        }
    )


def plot_weekly_gmv(
    experiments: Experiment | Sequence[Experiment], *, level: float = 0.95, ax: Any = None
) -> Any:
    """Treatment vs control weekly GMV (yuan): means over experiments with interval bands.

    The campaign's first week is marked; with one experiment no band is drawn.
    """
    bands = weekly_gmv_bands(experiments, level=level)
    if ax is None:
        plt = import_optional("matplotlib.pyplot", extra="plot")
        ax = plt.subplots(figsize=(8, 4))[1]
    for arm in ("control", "treatment"):
        rows = bands[bands["arm"] == arm]
        n = int(rows["n"].iloc[0])
        ax.plot(rows["week"], rows["mean_yuan"], color=_COLOURS[arm], label=f"{arm} (n={n})")
        if n > 1:
            ax.fill_between(
                rows["week"],
                rows["ci_low_yuan"],
                rows["ci_high_yuan"],
                color=_COLOURS[arm],
                alpha=0.2,
                linewidth=0,
                label=f"{level:.0%} interval",
            )
    started = bands.loc[bands["in_campaign"], "week"]
    if len(started):
        ax.axvline(float(started.min()) - 0.5, color="#5a6575", linestyle="--", linewidth=1)
    ax.set_xlabel("week (dashed: campaign starts)")
    ax.set_ylabel("GMV per week (yuan)")
    ax.set_title("weekly GMV, treatment vs control")
    ax.legend(fontsize=8)
    return ax
