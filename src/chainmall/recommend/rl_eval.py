"""Evaluation of slate policies from their episode logs.

Per user ``u`` with ``n_u`` impressions and ``c_u`` clicks:

* simulated CTR ``c_u / n_u`` (a hit-rate proxy: the share of shown items the
  user rated highly, not a real click-through rate); the reported CTR is the
  mean over users (users with no impression are left out);
* precision@k of the first slate: clicks in the first slate / items in it;
* cumulative reward: clicks per episode;
* catalogue coverage: share of items shown to anyone;
* intra-slate diversity: mean over slates of the mean pairwise ``1 − cos`` of
  the shown items' embeddings.

Uncertainty: percentile bootstrap over users (``n_boot`` resamples, seeded);
:func:`paired_difference` resamples the per-user differences of two policies
run on the same users (two-sided bootstrap p-value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chainmall._validation import check_array, check_scalar
from chainmall.exceptions import DataValidationError
from chainmall.recommend._base import FloatArray
from chainmall.recommend.simulator import EpisodeLog

__all__ = [
    "PairedTest",
    "PolicyMetrics",
    "bootstrap_ci",
    "paired_difference",
    "per_user_metrics",
    "summarize_episodes",
]


def per_user_metrics(log: EpisodeLog) -> pd.DataFrame:
    """One row per user: ``[user, impressions, clicks, ctr, first_slate_precision]``
    (``ctr`` is NaN for a user who was shown nothing)."""
    shown = log.slates >= 0
    impressions = shown.sum(axis=(1, 2))
    clicks = log.clicks.sum(axis=(1, 2))
    first_shown = shown[:, 0].sum(axis=1)
    first_clicks = log.clicks[:, 0].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ctr = np.where(impressions > 0, clicks / np.maximum(impressions, 1), np.nan)
        first = np.where(first_shown > 0, first_clicks / np.maximum(first_shown, 1), np.nan)
    return pd.DataFrame(
        {
            "user": log.users,
            "impressions": impressions,
            "clicks": clicks,
            "ctr": ctr,
            "first_slate_precision": first,
        }
    )


def bootstrap_ci(
    values: FloatArray, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of ``values`` (NaN = missing, dropped) and its percentile bootstrap interval."""
    v = check_array(values, "values", "number", allow_nan=True)
    n_boot = check_scalar(n_boot, "n_boot", "count", ge=1, le=10**6)
    level = check_scalar(level, "level", "number", gt=0, lt=1)
    seed = check_scalar(seed, "seed", "count", ge=0)
    v = v[~np.isnan(v)]
    if v.size == 0:
        raise DataValidationError(
            "values holds no number (empty or all NaN); bootstrap_ci needs at least one"
        )
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, (n_boot, v.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(v.mean()), float(low), float(high)


@dataclass(frozen=True)
class PolicyMetrics:
    """Summary of one policy's episodes (CTR is a simulated hit-rate proxy)."""

    policy: str
    n_users: int
    ctr: float
    ctr_low: float
    ctr_high: float
    precision_at_slate: float
    cumulative_reward: float
    coverage: float
    diversity: float


def summarize_episodes(
    log: EpisodeLog,
    *,
    n_items: int,
    item_embeddings: FloatArray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> PolicyMetrics:
    """CTR with bootstrap CI, first-slate precision, reward, coverage and diversity."""
    n_items = check_scalar(n_items, "n_items", "count", ge=1)
    users = per_user_metrics(log)
    ctr, low, high = bootstrap_ci(users["ctr"].to_numpy(), n_boot=n_boot, seed=seed)
    shown = log.slates[log.slates >= 0]
    coverage = len(np.unique(shown)) / n_items
    diversity = (
        slate_diversity(log, item_embeddings) if item_embeddings is not None else float("nan")
    )
    return PolicyMetrics(
        policy=log.policy,
        n_users=int(users["ctr"].notna().sum()),
        ctr=ctr,
        ctr_low=low,
        ctr_high=high,
        precision_at_slate=float(users["first_slate_precision"].mean()),
        cumulative_reward=float(users["clicks"].mean()),
        coverage=coverage,
        diversity=diversity,
    )


def slate_diversity(log: EpisodeLog, item_embeddings: FloatArray) -> float:
    """Mean over slates of the mean pairwise cosine distance of their items."""
    emb = np.asarray(item_embeddings, dtype=np.float64)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    unit = np.divide(emb, norms, out=np.zeros_like(emb), where=norms > 0)
    slates = log.slates.reshape(-1, log.slates.shape[-1])
    mask = slates >= 0
    vectors = unit[np.where(mask, slates, 0)] * mask[..., None]
    sums = vectors.sum(axis=1)
    n = mask.sum(axis=1)
    pairs = n * (n - 1) / 2.0
    # Σ_{i<j} cos_ij = (‖Σ v‖² − Σ ‖v‖²) / 2
    cos_sum = ((sums * sums).sum(axis=1) - (vectors * vectors).sum(axis=(1, 2))) / 2.0
    keep = pairs > 0
    if not keep.any():
        return float("nan")
    return float(np.mean(1.0 - cos_sum[keep] / pairs[keep]))


@dataclass(frozen=True)
class PairedTest:
    """Mean per-user difference ``a − b`` with its bootstrap CI and two-sided p-value."""

    mean: float
    low: float
    high: float
    p_value: float
    n_users: int

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly on one side of zero."""
        return self.low > 0 or self.high < 0


def paired_difference(
    a: FloatArray, b: FloatArray, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> PairedTest:
    """Paired bootstrap of the per-user difference of two metrics on the same users."""
    left = check_array(a, "a", "number", allow_nan=True)
    right = check_array(b, "b", "number", allow_nan=True)
    n_boot = check_scalar(n_boot, "n_boot", "count", ge=1, le=10**6)
    if left.shape != right.shape:
        raise DataValidationError(
            f"a and b must hold values for the same users, got shapes {left.shape} and "
            f"{right.shape}"
        )
    diff = left - right
    diff = diff[np.isfinite(diff)]
    mean, low, high = bootstrap_ci(diff, n_boot=n_boot, level=level, seed=seed)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, (n_boot, diff.size))].mean(axis=1)
    p = 2.0 * min(float(np.mean(means <= 0)), float(np.mean(means >= 0)))
    return PairedTest(mean, low, high, min(p, 1.0), int(diff.size))
