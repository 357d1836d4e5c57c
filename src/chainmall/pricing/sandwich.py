"""Cluster-robust sandwich for the residual-on-residual regression, and repeat aggregation.

For the final DML step :math:`\\tilde u = \\tilde V\\theta + e` on ``n`` rows with ``k``
treatments, the score of row :math:`i` is :math:`s_i = \\tilde v_i e_i`. Summing scores
within each cluster :math:`c` (a store) gives the cluster-robust covariance

.. math:: \\widehat{\\operatorname{Var}}_c(\\hat\\theta) = q_c\\,(\\tilde V'\\tilde V)^{-1}
   \\Big(\\sum_c S_c S_c'\\Big)(\\tilde V'\\tilde V)^{-1},\\qquad S_c = \\sum_{i\\in c} s_i,

with :math:`q_c = \\frac{G}{G-1}\\frac{n-1}{n-k}` for ``G`` clusters (CR1, what Stata and
statsmodels' ``cov_type="cluster"`` report) or :math:`q_c = 1` (CR0, as DoubleML). With
every row its own cluster this is HC1 / HC0. Two-way clustering (store and week) is
Cameron, Gelbach & Miller's :math:`V_a + V_b - V_{a\\cap b}`, each term with its own
correction (as statsmodels' ``cov_cluster_2groups``); negative eigenvalues of that sum
are clipped to zero so every variance is >= 0.

Repeated cross-fitting (Chernozhukov et al. 2018, the median rule): with estimates
:math:`\\hat\\theta_s` and variances :math:`\\hat\\sigma^2_s` from ``S`` fold splits,
:math:`\\hat\\theta = \\operatorname{median}_s\\hat\\theta_s` and
:math:`\\hat\\sigma^2 = \\operatorname{median}_s\\big(\\hat\\sigma^2_s + (\\hat\\theta_s-\\hat\\theta)^2\\big)`,
so the spread between splits widens the interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["cluster_sandwich", "median_aggregate"]


def _cluster_meat(scores: np.ndarray, codes: np.ndarray, small_sample: bool) -> np.ndarray:
    """``q * sum_c S_c S_c'`` for integer cluster ``codes`` (0..G-1) of each row."""
    n, k = scores.shape
    n_clusters = int(codes.max()) + 1
    sums = np.zeros((n_clusters, k))
    np.add.at(sums, codes, scores)
    meat = sums.T @ sums
    if small_sample:
        meat *= n_clusters / (n_clusters - 1) * (n - 1) / (n - k)
    return np.asarray(meat)


def cluster_sandwich(
    v: np.ndarray,
    u: np.ndarray,
    clusters: Sequence[np.ndarray] = (),
    *,
    small_sample: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """OLS of ``u`` on ``v`` (no intercept) and its cluster-robust covariance.

    Args:
        v: ``(n, k)`` treatment residuals.
        u: ``(n,)`` outcome residuals.
        clusters: zero, one or two arrays of integer cluster codes (``0..G-1``) per row;
            none = every row its own cluster (HC0/HC1).
        small_sample: apply the CR1 factor ``G/(G-1) * (n-1)/(n-k)`` per clustering.

    Returns:
        ``theta`` ``(k,)`` and covariance ``(k, k)`` (units of ``theta`` squared).
    """
    bread = np.linalg.inv(v.T @ v)
    theta = bread @ (v.T @ u)
    scores = v * (u - v @ theta)[:, None]
    if len(clusters) == 0:
        meat = _cluster_meat(scores, np.arange(len(u)), small_sample)
    elif len(clusters) == 1:
        meat = _cluster_meat(scores, clusters[0], small_sample)
    else:
        first, second = clusters
        _, both = np.unique(np.column_stack([first, second]), axis=0, return_inverse=True)
        meat = (
            _cluster_meat(scores, first, small_sample)
            + _cluster_meat(scores, second, small_sample)
            - _cluster_meat(scores, both.ravel(), small_sample)
        )
    cov = bread @ meat @ bread
    if len(clusters) == 2:
        values, vectors = np.linalg.eigh((cov + cov.T) / 2)
        cov = (vectors * np.maximum(values, 0.0)) @ vectors.T
    return np.asarray(theta), np.asarray(cov)


def median_aggregate(thetas: np.ndarray, variances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median estimate and standard error over repeated fold splits.

    Args:
        thetas: ``(S, k)`` estimates of ``S`` splits.
        variances: ``(S, k)`` their variances.

    Returns:
        ``theta`` ``(k,)`` and standard error ``(k,)``.
    """
    theta = np.median(thetas, axis=0)
    variance = np.median(variances + (thetas - theta) ** 2, axis=0)
    return np.asarray(theta), np.asarray(np.sqrt(variance))
