"""Two-arm experiments on the simulator, and replications over seeds.

:func:`run_experiment` simulates a treatment and a control arm as two separate
shops drawn from the same world. With ``common_random_numbers=True`` both arms use
the same seed: their pre-periods are identical and every difference comes from the
campaign (an arm whose campaign changes nothing equals the control exactly).
:func:`replicate` repeats that over seeds and gives each metric's effect with a
t-interval over the seeds: the spread of the effect across simulated shops.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from chainmall._progress import progress_bar, resolve_progress
from chainmall.campaign.config import WorldConfig
from chainmall.campaign.mechanics import Campaign
from chainmall.campaign.metrics import METRICS
from chainmall.campaign.simulator import ArmRun, simulate_arm
from chainmall.exceptions import ConfigError

__all__ = ["Experiment", "Replication", "replicate", "run_experiment"]

_CONTROL_OFFSET = 1_000_000_007  # control seed when arms draw independent numbers


@dataclass(frozen=True)
class Experiment:
    """A treatment and a control arm of one simulated experiment."""

    treatment: ArmRun
    control: ArmRun

    def summary(self) -> pd.DataFrame:
        """``metric, control, treatment, difference, relative`` (one row per metric)."""
        t, c = self.treatment.metrics, self.control.metrics
        rows = [
            {
                "metric": m,
                "control": c[m],
                "treatment": t[m],
                "difference": t[m] - c[m],
                "relative": (t[m] - c[m]) / c[m] if c[m] else np.nan,
            }
            for m in METRICS
        ]
        return pd.DataFrame(rows)

    def member_outcomes(self) -> pd.DataFrame:
        """Members of both arms who joined before the campaign, with an ``arm`` column.

        One row per member: pre-period ``pre_spend_fen`` / ``pre_orders`` (covariates
        for CUPED) and campaign-period ``spend_fen``, ``orders``, ``visits``, ``carts``.
        """
        start = self.treatment.weekly["in_campaign"].idxmax()
        frames = []
        for name, run in (("treatment", self.treatment), ("control", self.control)):
            m = run.members[run.members["joined_week"] < start]
            frames.append(m.assign(arm=name))
        return pd.concat(frames, ignore_index=True)


def run_experiment(
    config: WorldConfig,
    treatment: Campaign,
    control: Campaign | None = None,
    *,
    seed: int = 0,
    common_random_numbers: bool = True,
    progress: bool = False,
    show_progress: bool | None = None,
) -> Experiment:
    """Simulate ``treatment`` and ``control`` (default: :class:`Campaign()`) shops.

    Args:
        config: the world both arms live in.
        treatment: the campaign under test.
        control: the comparison campaign.
        seed: seed of the treatment arm (and of the control with common random numbers).
        common_random_numbers: same seed for both arms (paired shops); ``False`` draws
            the control independently (member-level tests then see independent arms).
        progress: progress bars over weeks (stderr), one per arm.
        show_progress: deprecated (``FutureWarning``); use ``progress``.

    Raises:
        ConfigError: both ``progress=True`` and ``show_progress`` are given.
    """
    progress = resolve_progress(progress, show_progress, "run_experiment")
    ctrl = control if control is not None else Campaign()
    ctrl_seed = seed if common_random_numbers else seed + _CONTROL_OFFSET
    return Experiment(
        simulate_arm(config, treatment, seed=seed, progress=progress),
        simulate_arm(config, ctrl, seed=ctrl_seed, progress=progress),
    )


@dataclass(frozen=True)
class Replication:
    """Per-seed figures and their summary.

    Attributes:
        runs: ``seed, metric, control, treatment`` (one row per seed and metric).
        effects: per metric: ``control_mean, treatment_mean, relative`` (mean of the
            per-seed relative effects) with ``relative_ci_low/high`` (t-interval over
            seeds) and ``n_seeds``.
    """

    runs: pd.DataFrame
    effects: pd.DataFrame


def replicate(
    config: WorldConfig,
    treatment: Campaign,
    control: Campaign | None = None,
    *,
    seeds: Iterable[int] = range(10),
    confidence: float = 0.95,
    progress: bool = False,
    show_progress: bool | None = None,
) -> Replication:
    """Run :func:`run_experiment` (common random numbers) for each seed and summarise.

    ``progress=True`` shows a bar over the seeds (stderr); ``show_progress`` is its
    deprecated name (``FutureWarning``), and both at once raise ``ConfigError``.
    """
    progress = resolve_progress(progress, show_progress, "replicate")
    seed_list = list(seeds)
    if len(seed_list) < 2:
        raise ConfigError(f"replicate needs at least 2 seeds for an interval, got {seed_list}")
    rows = []
    with progress_bar(len(seed_list), enabled=progress, desc="seeds") as bar:
        for seed in seed_list:
            summary = run_experiment(config, treatment, control, seed=seed).summary()
            rows.append(summary.assign(seed=seed))
            bar.update()
    runs = pd.concat(rows, ignore_index=True)[["seed", "metric", "control", "treatment"]]
    crit = stats.t.ppf(0.5 + confidence / 2, len(seed_list) - 1)
    out = []
    for metric, g in runs.groupby("metric", sort=False):
        c, t = g["control"].to_numpy(), g["treatment"].to_numpy()
        rel = np.where(c != 0, (t - c) / np.where(c != 0, c, 1), np.nan)
        finite = rel[np.isfinite(rel)]
        mean_rel = float(finite.mean()) if finite.size else np.nan
        half = crit * finite.std(ddof=1) / np.sqrt(finite.size) if finite.size > 1 else np.nan
        out.append(
            {
                "metric": metric,
                "control_mean": float(c.mean()),
                "treatment_mean": float(t.mean()),
                "relative": mean_rel,
                "relative_ci_low": mean_rel - half,
                "relative_ci_high": mean_rel + half,
                "n_seeds": len(seed_list),
            }
        )
    return Replication(runs, pd.DataFrame(out))
