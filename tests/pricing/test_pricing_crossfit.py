"""Fold splits: balanced, clusters never split, reproducible from the seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.pricing import ElasticityConfig
from chainmall.pricing.crossfit import cross_fit, draw_folds, fold_splits


@settings(max_examples=50, deadline=None)
@given(n_rows=st.integers(10, 300), n_folds=st.integers(2, 6), seed=st.integers(0, 1000))
def test_row_folds_are_balanced(n_rows: int, n_folds: int, seed: int) -> None:
    folds = draw_folds(n_rows, n_folds, np.random.default_rng(seed))
    sizes = np.bincount(folds, minlength=n_folds)
    assert sizes.sum() == n_rows
    assert sizes.max() - sizes.min() <= 1


@settings(max_examples=50, deadline=None)
@given(n_groups=st.integers(6, 60), n_folds=st.integers(2, 6), seed=st.integers(0, 1000))
def test_cluster_folds_keep_each_cluster_whole(n_groups: int, n_folds: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = np.concatenate([np.arange(n_groups), rng.integers(0, n_groups, 5 * n_groups)])
    folds = draw_folds(len(groups), n_folds, rng, groups)
    for g in range(n_groups):
        assert len(np.unique(folds[groups == g])) == 1
    clusters_per_fold = np.bincount(
        [folds[groups == g][0] for g in range(n_groups)], minlength=n_folds
    )
    assert clusters_per_fold.max() - clusters_per_fold.min() <= 1


def test_repeats_differ_and_replay_from_the_seed() -> None:
    cfg = ElasticityConfig(n_repeats=3, n_folds=4, seed=11)
    first, second = fold_splits(200, cfg), fold_splits(200, cfg)
    assert all((a == b).all() for a, b in zip(first, second, strict=True))
    assert not (first[0] == first[1]).all()


def test_cross_fit_residuals_are_out_of_fold() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    target = X @ np.array([1.0, -2.0]) + rng.normal(0, 0.1, 300)
    target[:5] = np.nan
    folds = draw_folds(300, 3, rng)
    residual = cross_fit(X, target, folds, ElasticityConfig(learner="ridge"))
    assert np.isnan(residual[:5]).all()
    assert np.std(residual[5:]) < 0.2
    # corrupting one target moves its own residual by exactly that amount (its model never
    # saw it) and leaves its fold-mates alone; only the other folds' models see it
    corrupted = target.copy()
    corrupted[10] += 100.0
    again = cross_fit(X, corrupted, folds, ElasticityConfig(learner="ridge"))
    same_fold = (folds == folds[10]) & (np.arange(300) != 10) & np.isfinite(target)
    assert again[10] - residual[10] == pytest.approx(100.0)
    np.testing.assert_array_equal(again[same_fold], residual[same_fold])
    other_folds = (folds != folds[10]) & np.isfinite(target)
    assert not np.allclose(again[other_folds], residual[other_folds])
