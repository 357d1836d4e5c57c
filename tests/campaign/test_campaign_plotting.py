"""Weekly GMV bands (pure) and their plot (smoke test with the Agg backend)."""

from __future__ import annotations

import numpy as np
import pytest

from chainmall.campaign import Campaign, InviteCoupon, WorldConfig, run_experiment
from chainmall.campaign.plotting import plot_weekly_gmv, weekly_gmv_bands
from chainmall.exceptions import ConfigError

WORLD = WorldConfig(n_members=150, n_items=20, weeks=3, pre_weeks=2, refit_weeks=2)
COUPON = Campaign(name="coupon", mechanics=(InviteCoupon(),))


@pytest.fixture(scope="module")
def experiments() -> list:
    return [run_experiment(WORLD, COUPON, seed=s) for s in range(3)]


def test_bands_are_mean_and_t_interval_over_seeds(experiments: list) -> None:
    bands = weekly_gmv_bands(experiments, level=0.9)
    assert len(bands) == 2 * (WORLD.pre_weeks + WORLD.weeks)
    week = bands[(bands["week"] == 3) & (bands["arm"] == "treatment")].iloc[0]
    values = np.array([e.treatment.weekly.set_index("week").loc[3, "gmv_fen"] for e in experiments])
    mean = values.mean() / 100
    half = 2.919986 * values.std(ddof=1) / np.sqrt(3) / 100  # t(0.95, 2 df)
    assert week["mean_yuan"] == pytest.approx(mean)
    assert week["ci_high_yuan"] - mean == pytest.approx(half, rel=1e-5)
    assert (bands["ci_low_yuan"] <= bands["mean_yuan"]).all()
    single = weekly_gmv_bands(experiments[0])
    assert single["ci_low_yuan"].isna().all() and (single["n"] == 1).all()


def test_bad_arguments(experiments: list) -> None:
    with pytest.raises(ConfigError, match="at least one"):
        weekly_gmv_bands([])
    with pytest.raises(ConfigError, match="level"):
        weekly_gmv_bands(experiments, level=2.0)


def test_plot_smoke(experiments: list) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    assert plot_weekly_gmv(experiments, ax=ax) is ax
    assert len(ax.get_lines()) == 3  # two arms and the campaign start
    assert len(ax.collections) == 2  # one band per arm
    fresh = plot_weekly_gmv(experiments[0])
    assert len(fresh.collections) == 0
    import matplotlib.pyplot as plt

    plt.close("all")
