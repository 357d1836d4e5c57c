from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from chainmall.replenish import Naive
from chainmall.replenish.plotting import plot_forecast, plot_inventory


def test_plots_return_axes(make_panel: Any) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    df = make_panel(1, 20)
    ax = plot_forecast(df, Naive().fit(df).predict(4, level=[80]), "Naive", "s0")
    assert len(ax.collections) == 1  # one shaded interval
    ax2 = plot_inventory(np.array([3.0, 1, 0]), np.array([2.0, 2, 2]), np.array([0.0, 1, 2]))
    assert ax2.get_ylabel() == "units"
