"""Top-N models for implicit feedback: ALS (Hu, Koren & Volinsky 2008) and EASE (Steck 2019).

Both read the interaction matrix as binary preference ``x_ui = 1`` for every
stored cell (use only the interactions you count as positive when building
:class:`~chainmall.recommend.Interactions`).

**ALS** minimises ``Σ_ui c_ui (x_ui − p_u·q_i)² + λ (Σ‖p_u‖² + Σ‖q_i‖²)`` with
confidence ``c_ui = 1 + α·value_ui`` on stored cells and 1 elsewhere; each side
is an exact ridge solve per row, ``(QᵀQ + Qᵀ(C_u − I)Q + λI) p_u = Qᵀ C_u x_u``,
batched for all rows.

**EASE** learns an item-item matrix ``B = I − P·diag(1/diag P)`` with
``P = (XᵀX + λI)⁻¹`` (so ``diag B = 0``); a user's scores are ``x_u B``. With
``recency_half_life`` the user's k-th most recent interaction is weighted
``0.5^(k / half_life)`` when scoring (fitting is unchanged), which favours
items that follow what the user did last.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from chainmall.exceptions import DataValidationError
from chainmall.recommend._base import FloatArray, IntArray, Recommender, cosine_scale
from chainmall.recommend.config import ALSConfig, EASEConfig
from chainmall.recommend.mf import ridge_rows

__all__ = ["EASE", "ImplicitALS"]


class ImplicitALS(Recommender):
    """Weighted matrix factorisation of implicit feedback by exact ALS."""

    config_class = ALSConfig
    config: ALSConfig

    def _fit(self, matrix: sp.csr_matrix) -> None:
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        n_users, n_items = matrix.shape
        extra = matrix.copy()
        extra.data = cfg.alpha * extra.data  # c − 1 on stored cells
        confidence = extra.copy()
        confidence.data = confidence.data + 1.0  # c · x (x = 1 on stored cells)
        extra_t, confidence_t = extra.T.tocsr(), confidence.T.tocsr()
        penalty = np.full(cfg.n_factors, cfg.reg)
        p = rng.normal(0.0, cfg.init_std, (n_users, cfg.n_factors))
        q = rng.normal(0.0, cfg.init_std, (n_items, cfg.n_factors))
        for _ in range(cfg.n_iters):
            p = ridge_rows(extra, confidence, q, penalty, gram_offset=q.T @ q)
            q = ridge_rows(extra_t, confidence_t, p, penalty, gram_offset=p.T @ p)
        self.user_factors_: FloatArray = p
        self.item_factors_: FloatArray = q

    def _score_pairs(self, users: IntArray, items: IntArray) -> FloatArray:
        dots: FloatArray = np.einsum(
            "ij,ij->i", self.user_factors_[users], self.item_factors_[items]
        )
        return dots

    def _score_users(self, users: IntArray) -> FloatArray:
        return self.user_factors_[users] @ self.item_factors_.T

    def item_embeddings(self) -> FloatArray:
        """Item factors ``q_i`` (rows follow ``interactions_.item_ids``)."""
        self._check_fitted()
        return self.item_factors_

    def _item_similarity(self, items: IntArray) -> FloatArray:
        q = self.item_factors_
        norms = np.linalg.norm(q, axis=1)
        return cosine_scale(q[items] @ q.T, norms[items], norms)

    def _state(self) -> dict[str, npt.NDArray[Any]]:
        return {"user_factors": self.user_factors_, "item_factors": self.item_factors_}

    def _set_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.user_factors_ = arrays["user_factors"]
        self.item_factors_ = arrays["item_factors"]


class EASE(Recommender):
    """Embarrassingly shallow autoencoder: a closed-form item-item ridge model."""

    config_class = EASEConfig
    config: EASEConfig

    def _fit(self, matrix: sp.csr_matrix) -> None:
        binary = (matrix != 0).astype(np.float64)
        gram = np.asarray((binary.T @ binary).todense())
        gram[np.diag_indices_from(gram)] += self.config.reg
        inverse = np.linalg.inv(gram)
        weights = -inverse / np.diag(inverse)[None, :]
        np.fill_diagonal(weights, 0.0)
        self.item_weights_: FloatArray = weights
        self.user_inputs_: sp.csr_matrix = self._user_inputs(binary)

    def _user_inputs(self, binary: sp.csr_matrix) -> sp.csr_matrix:
        half_life = self.config.recency_half_life
        if half_life is None:
            return binary.tocsr()
        ts = self.interactions_.ts_matrix
        if ts is None:
            raise DataValidationError(
                "EASE recency_half_life needs timestamps; build the Interactions with ts_col"
            )
        ts = ts.tocsr()
        rows = np.repeat(np.arange(ts.shape[0]), np.diff(ts.indptr))
        # recency rank within each user: 0 = latest
        order = np.lexsort((-ts.data, rows))
        starts = ts.indptr[rows[order]]
        rank = np.empty(len(order), dtype=np.float64)
        rank[order] = np.arange(len(order)) - starts
        weighted = ts.copy()
        weighted.data = 0.5 ** (rank / half_life)
        return weighted

    def _score_pairs(self, users: IntArray, items: IntArray) -> FloatArray:
        rows = self.user_inputs_[users]
        return np.asarray(rows.multiply(self.item_weights_[:, items].T).sum(axis=1)).ravel()

    def _score_users(self, users: IntArray) -> FloatArray:
        scores: FloatArray = np.asarray(self.user_inputs_[users] @ self.item_weights_)
        return scores

    def _item_similarity(self, items: IntArray) -> FloatArray:
        return self.item_weights_[items].copy()

    def _state(self) -> dict[str, npt.NDArray[Any]]:
        inputs = self.user_inputs_
        return {
            "item_weights": self.item_weights_,
            "in_indptr": inputs.indptr,
            "in_indices": inputs.indices,
            "in_data": inputs.data,
        }

    def _set_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.item_weights_ = arrays["item_weights"]
        n_users = len(arrays["in_indptr"]) - 1
        self.user_inputs_ = sp.csr_matrix(
            (arrays["in_data"], arrays["in_indices"], arrays["in_indptr"]),
            shape=(n_users, self.item_weights_.shape[0]),
        )
