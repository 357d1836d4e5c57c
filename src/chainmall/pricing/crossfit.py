"""Cross-fitting for double ML: fold splits (by row or by cluster) and out-of-fold residuals.

With clustered data (a store's weeks share shocks) the folds split **clusters**, not
rows: every row of a store is held out together, so no nuisance model has seen a
cluster-mate of the rows it predicts (Chiang et al. 2022; DoubleML does the same).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainmall.pricing.config import ElasticityConfig

__all__ = ["cross_fit", "draw_folds", "fold_splits", "learner"]


def draw_folds(
    n_rows: int, n_folds: int, rng: np.random.Generator, groups: np.ndarray | None = None
) -> np.ndarray:
    """Fold number (``0..n_folds-1``) per row, balanced; rows of one group share a fold.

    Args:
        n_rows: number of rows.
        n_folds: number of folds.
        rng: source of the random split.
        groups: optional integer group codes (``0..G-1``) per row, ``G >= n_folds``.
    """
    if groups is None:
        fold = np.empty(n_rows, dtype=np.int64)
        fold[rng.permutation(n_rows)] = np.arange(n_rows) % n_folds
        return fold
    n_groups = int(groups.max()) + 1
    fold_of_group = np.empty(n_groups, dtype=np.int64)
    fold_of_group[rng.permutation(n_groups)] = np.arange(n_groups) % n_folds
    return np.asarray(fold_of_group[groups])


def fold_splits(
    n_rows: int, config: ElasticityConfig, groups: np.ndarray | None = None
) -> list[np.ndarray]:
    """The ``config.n_repeats`` fold splits of :func:`estimate_elasticity`, from ``config.seed``.

    Args:
        n_rows: number of rows.
        config: folds, repeats and seed.
        groups: optional integer cluster codes per row (folds split clusters).
    """
    rng = np.random.default_rng(config.seed)
    return [draw_folds(n_rows, config.n_folds, rng, groups) for _ in range(config.n_repeats)]


def learner(config: ElasticityConfig) -> Any:
    """A fresh, unfitted nuisance learner of ``config`` (seeded by ``config.seed``)."""
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if config.learner == "hist_gradient_boosting":
        return HistGradientBoostingRegressor(max_iter=config.max_iter, random_state=config.seed)
    if config.learner == "random_forest":
        return RandomForestRegressor(
            n_estimators=config.max_iter, min_samples_leaf=5, random_state=config.seed, n_jobs=1
        )
    return make_pipeline(SimpleImputer(), StandardScaler(), Ridge(alpha=1.0))


def cross_fit(
    X: np.ndarray, target: np.ndarray, folds: np.ndarray, config: ElasticityConfig
) -> np.ndarray:
    """Out-of-fold residuals ``target - prediction``; rows where ``target`` is NaN stay NaN.

    Args:
        X: ``(n, p)`` controls (NaN allowed for the tree learners).
        target: ``(n,)`` outcome or treatment.
        folds: fold number per row (:func:`draw_folds`).
        config: learner settings, seed and thread count.
    """
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    residual = np.full_like(target, np.nan)
    known = np.isfinite(target)
    # the learner's modules (and their OpenMP runtime) must be loaded before the limit is
    # set, or the first fits run on every core; n_jobs threads keep CPU time honest
    prototype = learner(config)
    with threadpool_limits(limits=config.n_jobs):
        for fold in range(int(folds.max()) + 1):
            held = known & (folds == fold)
            train = known & (folds != fold)
            if not held.any():
                continue
            model = clone(prototype).fit(X[train], target[train])
            residual[held] = target[held] - model.predict(X[held])
    return residual
