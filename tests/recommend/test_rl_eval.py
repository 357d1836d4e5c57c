"""Episode metrics, bootstrap intervals and the paired test."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import DataValidationError
from chainmall.recommend import (
    EpisodeLog,
    bootstrap_ci,
    paired_difference,
    per_user_metrics,
    summarize_episodes,
)


def golden_log() -> EpisodeLog:
    """2 users, 2 steps, slates of 2. User 0: 3 clicks in 4; user 1: 1 click in 2 shown."""
    slates = np.array([[[0, 1], [2, 3]], [[0, 4], [-1, -1]]])
    clicks = np.array([[[True, True], [True, False]], [[False, True], [False, False]]])
    return EpisodeLog(np.array([7, 9]), slates, clicks, "golden")


def test_per_user_metrics_golden() -> None:
    users = per_user_metrics(golden_log())
    assert users["impressions"].tolist() == [4, 2]
    assert users["clicks"].tolist() == [3, 1]
    np.testing.assert_allclose(users["ctr"], [0.75, 0.5])
    np.testing.assert_allclose(users["first_slate_precision"], [1.0, 0.5])


def test_summary_golden() -> None:
    emb = np.eye(5)  # orthogonal items: every pair at cosine distance 1
    m = summarize_episodes(golden_log(), n_items=10, item_embeddings=emb, n_boot=200)
    assert m.ctr == pytest.approx(0.625)
    assert m.ctr_low <= m.ctr <= m.ctr_high
    assert m.precision_at_slate == pytest.approx(0.75)
    assert m.cumulative_reward == pytest.approx(2.0)
    assert m.coverage == pytest.approx(0.5)
    assert m.diversity == pytest.approx(1.0)
    same = summarize_episodes(golden_log(), n_items=10, item_embeddings=np.ones((5, 2)), n_boot=10)
    assert same.diversity == pytest.approx(0.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40), st.integers(0, 100))
def test_bootstrap_interval_brackets_the_mean(values: list[float], seed: int) -> None:
    mean, low, high = bootstrap_ci(np.array(values), n_boot=200, seed=seed)
    assert low - 1e-12 <= mean <= high + 1e-12
    assert min(values) - 1e-12 <= low and high <= max(values) + 1e-12


def test_paired_difference() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(200)
    same = paired_difference(base, base.copy())
    assert same.mean == 0 and not same.excludes_zero and same.p_value == 1.0
    better = paired_difference(base + 0.05 + rng.normal(0, 0.01, 200), base)
    assert better.excludes_zero and better.low > 0 and better.p_value < 0.01
    with pytest.raises(DataValidationError, match="same users"):
        paired_difference(base, base[:10])
    with pytest.raises(DataValidationError, match="no number"):
        bootstrap_ci(np.array([np.nan]))
