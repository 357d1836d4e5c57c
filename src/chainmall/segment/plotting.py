"""Plots of the segment engine: segment sizes, R x F heat map, expected vs actual.

matplotlib is imported lazily (``pip install "chainmall[plot]"``); every function
takes ``ax=None`` (a new figure) and returns the Axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chainmall._optional import import_optional
from chainmall._validation import require_columns, require_frame
from chainmall.exceptions import DataValidationError

__all__ = ["plot_expected_vs_actual", "plot_rf_heatmap", "plot_segment_sizes"]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    plt = import_optional("matplotlib.pyplot", extra="plot")
    return plt.subplots(figsize=(7, 4))[1]


def plot_segment_sizes(customers: pd.DataFrame, *, column: str = "segment", ax: Any = None) -> Any:
    """Horizontal bars: number of customers per segment (largest on top)."""
    require_frame(customers, "customers")
    require_columns(customers, [column], name="customers")
    counts = customers[column].value_counts(sort=True, ascending=True)
    ax = _axes(ax)
    ax.barh([str(i) for i in counts.index], counts.to_numpy())
    ax.set_xlabel("customers")
    ax.set_title(f"customers per {column}")
    return ax


def plot_rf_heatmap(
    customers: pd.DataFrame,
    *,
    value: str | None = None,
    r: str = "r_score",
    f: str = "fm_score",
    ax: Any = None,
) -> Any:
    """Heat map over recency x frequency scores: customer counts, or the mean of ``value``."""
    require_frame(customers, "customers")
    require_columns(customers, [r, f] + ([value] if value else []), name="customers")
    if value is None:
        table = customers.pivot_table(index=r, columns=f, aggfunc="size", fill_value=0)
        label = "customers"
    else:
        table = customers.pivot_table(index=r, columns=f, values=value, aggfunc="mean")
        label = f"mean {value}"
    ax = _axes(ax)
    image = ax.imshow(
        table.to_numpy(dtype=np.float64), origin="lower", aspect="auto", cmap="viridis"
    )
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    ax.set_xlabel(f)
    ax.set_ylabel(r)
    ax.figure.colorbar(image, ax=ax, label=label)
    return ax


def plot_expected_vs_actual(
    expected: Any, actual: Any, *, max_purchases: int = 7, ax: Any = None
) -> Any:
    """Mean expected vs actual holdout purchases, grouped by actual count (capped)."""
    exp = np.asarray(expected, dtype=np.float64)
    act = np.asarray(actual, dtype=np.float64)
    if exp.shape != act.shape:
        raise DataValidationError(
            f"expected and actual must have the same length, got {exp.shape} and {act.shape}"
        )
    group = np.minimum(act, max_purchases).astype(np.int64)
    counts = np.bincount(group, minlength=max_purchases + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_exp = np.bincount(group, weights=exp, minlength=max_purchases + 1) / counts
        mean_act = np.bincount(group, weights=act, minlength=max_purchases + 1) / counts
    ax = _axes(ax)
    xs = np.arange(max_purchases + 1)
    ax.plot(xs, mean_act, marker="o", label="actual")
    ax.plot(xs, mean_exp, marker="s", linestyle="--", label="expected")
    ax.set_xticks(xs, [*map(str, xs[:-1]), f"{max_purchases}+"])
    ax.set_xlabel("actual purchases in holdout")
    ax.set_ylabel("mean purchases")
    ax.legend()
    return ax
