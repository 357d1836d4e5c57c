from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ConfigError
from chainmall.replenish import Croston, Naive, ReplenishConfig, SeasonalNaive


def _frame(y: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2022-01-07", periods=len(y), freq="W-FRI"), "y": y}
    )


def test_seasonal_naive_golden() -> None:
    fc = (
        SeasonalNaive(data_config=ReplenishConfig(season_length=3))
        .fit(_frame([1, 2, 3, 4, 5, 6]))
        .predict(5)
    )
    assert fc["SeasonalNaive"].tolist() == [4, 5, 6, 4, 5]
    assert fc["ds"].iloc[0] == pd.Timestamp("2022-02-18")


def test_naive_golden_and_interval_width() -> None:
    fc = Naive().fit(_frame([101, 103, 105, 107])).predict(4, level=[95])
    assert fc["Naive"].tolist() == [107, 107, 107, 107]
    width = (fc["Naive-hi-95"] - fc["Naive-lo-95"]).to_numpy()
    # sigma_1 = RMS of first differences = 2; width = 2 * 1.96 * 2 * sqrt(k)
    assert width == pytest.approx(2 * 1.959964 * 2 * np.sqrt([1, 2, 3, 4]), rel=1e-5)


def test_demand_intervals_never_go_below_zero() -> None:
    """Issue 23: a series without negative history gets no negative forecast or bound."""
    fc = Naive().fit(_frame([1, 3, 5, 7, 0, 1])).predict(6, level=[80, 95])
    bounds = fc[["Naive", "Naive-lo-80", "Naive-lo-95", "Naive-hi-95"]].to_numpy()
    assert (bounds >= 0).all()
    assert (fc["Naive-lo-95"] == 0).any()  # the floor binds
    returns = Naive().fit(_frame([5, -3, 4, 6])).predict(3, level=[95])
    assert (returns["Naive-lo-95"] < 0).all()  # net returns in history: not floored


def test_croston_sba_tsb_golden() -> None:
    y = [0, 4, 0, 4, 0, 4, 0, 4]
    croston = Croston(method="croston", alpha=0.5).fit(_frame(y)).predict(1)["Croston"].iloc[0]
    # sizes stay 4, intervals start at 2 and stay 2 -> 4 / 2
    assert croston == pytest.approx(2.0)
    sba = Croston(method="sba", alpha=0.5).fit(_frame(y)).predict(1)["SBA"].iloc[0]
    assert sba == pytest.approx(2.0 * 0.75)
    tsb = (
        Croston(method="tsb", alpha=0.5, beta=0.5)
        .fit(_frame([4, 0, 0, 0]))
        .predict(1)["TSB"]
        .iloc[0]
    )
    assert tsb == pytest.approx(4 * 1.0 * 0.5**3)  # probability decays after the last sale
    with pytest.raises(ConfigError):
        Croston(method="holt")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-100, 1000, allow_nan=False), min_size=6, max_size=40))
def test_intervals_nest_around_the_point(values: list[float]) -> None:
    for model in (
        Naive(),
        SeasonalNaive(data_config=ReplenishConfig(season_length=3)),
        Croston(method="tsb"),
    ):
        fc = model.fit(_frame(values)).predict(4, level=[80, 95])
        name = model.name
        assert (fc[f"{name}-lo-95"] <= fc[f"{name}-lo-80"] + 1e-9).all()
        assert (fc[f"{name}-lo-80"] <= fc[name] + 1e-9).all()
        assert (fc[name] <= fc[f"{name}-hi-80"] + 1e-9).all()
        assert (fc[f"{name}-hi-80"] <= fc[f"{name}-hi-95"] + 1e-9).all()
