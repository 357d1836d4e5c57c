"""Biased matrix factorisation for explicit ratings, fitted by alternating least squares.

Model: ``r̂_ui = μ + b_u + b_i + p_u · q_i``. Loss:

``Σ_(u,i) (r_ui − r̂_ui)² + Σ_u n_u^a (λ ‖p_u‖² + λ_b b_u²) + Σ_i n_i^a (λ ‖q_i‖² + λ_b b_i²)``

with ``n_u``/``n_i`` the rating counts and ``a = reg_exponent`` (``a = 1`` is
ALS-WR, ``a = 0`` a constant penalty). Stochastic gradient descent is sequential;
ALS is not: with the items fixed, each user's ``[b_u, p_u]`` is a ridge regression
on the augmented item vectors ``[1, q_i]``, solved for all users at once. The
Gram matrices ``Σ_i x_i x_iᵀ`` of every user come from one sparse product of the
rating mask with the flattened outer products ``x_i ⊗ x_i`` (``n_items × (k+1)²``),
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

__all__ = ["MatrixFactorization", "ridge_rows"]


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
    n, d = features.shape
    outer = (features[:, :, None] * features[:, None, :]).reshape(n, d * d)
    gram = np.asarray(mask @ outer).reshape(-1, d, d)
    if gram_offset is not None:
        gram += gram_offset
    diag = np.arange(d)
    gram[:, diag, diag] += penalty + 1e-9
    rhs = np.asarray(targets @ features)
    solved: FloatArray = np.linalg.solve(gram, rhs[..., None])[..., 0]
    return solved


class MatrixFactorization(RatingModel):
    """Biased MF (``μ + b_u + b_i + p_u·q_i``) fitted by vectorised ALS."""

    config_class = MFConfig
    config: MFConfig

    def _fit(self, matrix: sp.csr_matrix) -> None:
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        n_users, n_items = matrix.shape
        coo = matrix.tocoo()
        users, items, ratings = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
        mu = float(ratings.mean())
        mask_u = sp.csr_matrix((np.ones_like(ratings), (users, items)), shape=matrix.shape)
        mask_i = mask_u.T.tocsr()
        n_u = np.asarray(mask_u.sum(axis=1)).ravel() ** cfg.reg_exponent
        n_i = np.asarray(mask_i.sum(axis=1)).ravel() ** cfg.reg_exponent
        scale = np.r_[cfg.reg_bias, np.full(cfg.n_factors, cfg.reg)]
        p = rng.normal(0.0, cfg.init_std, (n_users, cfg.n_factors))
        q = rng.normal(0.0, cfg.init_std, (n_items, cfg.n_factors))
        b_u, b_i = np.zeros(n_users), np.zeros(n_items)
        ones_u, ones_i = np.ones((n_users, 1)), np.ones((n_items, 1))
        for _ in range(cfg.n_iters):
            target = sp.csr_matrix((ratings - mu - b_i[items], (users, items)), shape=matrix.shape)
            sol = ridge_rows(mask_u, target, np.hstack([ones_i, q]), n_u[:, None] * scale)
            b_u, p = sol[:, 0], sol[:, 1:]
            target = sp.csr_matrix(
                (ratings - mu - b_u[users], (items, users)), shape=(n_items, n_users)
            )
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
