"""Biased matrix factorisation for explicit ratings, fitted by alternating least squares.

Model: ``r̂_ui = μ + b_u + b_i + p_u · q_i``. Loss:

``Σ_(u,i) (r_ui − r̂_ui)² + Σ_u n_u^a (λ ‖p_u‖² + λ_b b_u²) + Σ_i n_i^a (λ ‖q_i‖² + λ_b b_i²)``

with ``n_u``/``n_i`` the rating counts and ``a = reg_exponent`` (``a = 1`` is
ALS-WR, ``a = 0`` a constant penalty). Stochastic gradient descent is sequential;
ALS is not: with the items fixed, each user's ``[b_u, p_u]`` is a ridge regression
on the augmented item vectors ``[1, q_i]``, solved for all users at once. The
Gram matrices ``Σ_i x_i x_iᵀ`` of every user come from one sparse product of the
rating mask with the upper triangles of the outer products ``x_i ⊗ x_i``
(``n_items × (k+1)(k+2)/2``),
then one batched ``numpy.linalg.solve``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from chainmall.recommend._base import FloatArray, IntArray, cosine_scale
from chainmall.recommend.baseline import RatingModel
from chainmall.recommend.config import MFConfig

__all__ = ["MatrixFactorization", "ridge_rows", "transpose_layout"]


def ridge_rows(
    mask: sp.csr_matrix,
    targets: sp.csr_matrix,
    features: FloatArray,
    penalty: FloatArray,
    gram_offset: FloatArray | None = None,
) -> FloatArray:
    """Solve one ridge regression per row of ``mask`` in a single batched call.

    Row ``r`` minimises ``Σ_c mask_rc (targets_rc − x_c · w)² + Σ_d penalty_rd w_d²``
    over the columns ``c`` it observes, with ``x_c = features[c]``.
    ``mask`` may hold weights (confidences); ``gram_offset`` is added to every
    row's Gram matrix (``d × d``). Returns ``(n_rows, d)`` solutions.
    """
    d = features.shape[1]
    upper, lower = np.triu_indices(d)  # Gram matrices are symmetric: product half of them
    triangle = np.asarray(mask @ (features[:, upper] * features[:, lower]))
    gram = triangle[:, _symmetric_positions(d)].reshape(-1, d, d)
    if gram_offset is not None:
        gram += gram_offset
    gram.reshape(-1, d * d)[:, :: d + 1] += penalty + 1e-9  # the diagonals
    rhs = np.asarray(targets @ features)
    solved: FloatArray = np.linalg.solve(gram, rhs[..., None])[..., 0]
    return solved


def transpose_layout(matrix: sp.csr_matrix) -> tuple[IntArray, IntArray, IntArray]:
    """How the stored cells of a sorted CSR matrix line up in its transpose.

    Returns ``(order, rows, indptr)``: ``data[order]`` with ``indices=rows`` and
    ``indptr`` is the CSR of ``matrix.T`` (so values can be moved without a sort).
    """
    users = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    order = np.argsort(matrix.indices, kind="stable").astype(np.int64)
    counts = np.bincount(matrix.indices, minlength=matrix.shape[1])
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return order, users[order], indptr


def _symmetric_positions(d: int) -> IntArray:
    """For each cell of a ``d × d`` matrix (row-major), its column in the
    upper-triangle layout of ``numpy.triu_indices(d)``."""
    upper, lower = np.triu_indices(d)
    positions = np.empty((d, d), dtype=np.int64)
    positions[upper, lower] = np.arange(len(upper))
    positions[lower, upper] = np.arange(len(upper))
    return positions.ravel()


class MatrixFactorization(RatingModel):
    """Biased MF (``μ + b_u + b_i + p_u·q_i``) fitted by vectorised ALS."""

    config_class = MFConfig
    config: MFConfig

    def _fit(self, matrix: sp.csr_matrix) -> None:
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        n_users, n_items = matrix.shape
        users = np.repeat(np.arange(n_users), np.diff(matrix.indptr))
        items, ratings = matrix.indices, matrix.data
        mu = float(ratings.mean())
        to_items, item_rows, item_indptr = transpose_layout(matrix)

        def by_user(values: FloatArray) -> sp.csr_matrix:
            return sp.csr_matrix((values, items, matrix.indptr), shape=matrix.shape)

        def by_item(values: FloatArray) -> sp.csr_matrix:
            return sp.csr_matrix(
                (values[to_items], item_rows, item_indptr), shape=(n_items, n_users)
            )

        ones = np.ones_like(ratings)
        mask_u, mask_i = by_user(ones), by_item(ones)
        n_u = np.diff(matrix.indptr) ** cfg.reg_exponent
        n_i = np.diff(item_indptr) ** cfg.reg_exponent
        scale = np.r_[cfg.reg_bias, np.full(cfg.n_factors, cfg.reg)]
        p = rng.normal(0.0, cfg.init_std, (n_users, cfg.n_factors))
        q = rng.normal(0.0, cfg.init_std, (n_items, cfg.n_factors))
        b_u, b_i = np.zeros(n_users), np.zeros(n_items)
        ones_u, ones_i = np.ones((n_users, 1)), np.ones((n_items, 1))
        for _ in self._iterations(cfg.n_iters):
            target = by_user(ratings - mu - b_i[items])
            sol = ridge_rows(mask_u, target, np.hstack([ones_i, q]), n_u[:, None] * scale)
            b_u, p = sol[:, 0], sol[:, 1:]
            target = by_item(ratings - mu - b_u[users])
            sol = ridge_rows(mask_i, target, np.hstack([ones_u, p]), n_i[:, None] * scale)
            b_i, q = sol[:, 0], sol[:, 1:]
        self.global_mean_, self.user_bias_, self.item_bias_ = mu, b_u, b_i
        self.user_factors_: FloatArray = p
        self.item_factors_: FloatArray = q

    def _score_pairs(self, users: IntArray, items: IntArray) -> FloatArray:
        dots: FloatArray = np.einsum(
            "ij,ij->i", self.user_factors_[users], self.item_factors_[items]
        )
        return self._baseline_pairs(users, items) + dots

    def _score_users(self, users: IntArray) -> FloatArray:
        return (
            self.global_mean_
            + self.user_bias_[users, None]
            + self.item_bias_[None, :]
            + self.user_factors_[users] @ self.item_factors_.T
        )

    def item_embeddings(self) -> FloatArray:
        """Item factors ``q_i`` (rows follow ``interactions_.item_ids``)."""
        self._check_fitted()
        return self.item_factors_

    def _item_similarity(self, items: IntArray) -> FloatArray:
        q = self.item_factors_
        norms = np.linalg.norm(q, axis=1)
        return cosine_scale(q[items] @ q.T, norms[items], norms)

    def _state(self) -> dict[str, npt.NDArray[Any]]:
        return {
            **self._bias_state(),
            "user_factors": self.user_factors_,
            "item_factors": self.item_factors_,
        }

    def _set_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self._set_bias_state(arrays)
        self.user_factors_ = arrays["user_factors"]
        self.item_factors_ = arrays["item_factors"]
