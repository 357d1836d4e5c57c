"""Neighbourhood models on baseline residuals (Koren 2010, "KNNBaseline").

With baseline ``b_ui = μ + b_u + b_i`` and residuals ``e_uj = r_uj − b_uj``,
item-based prediction is

``r̂_ui = b_ui + Σ_{j ∈ N_k(i; u)} s_ij e_uj / Σ_{j ∈ N_k(i; u)} s_ij``

over the ``k`` items ``j`` rated by ``u`` most similar to ``i`` with ``s_ij > 0``.
The similarity is the pearson-baseline correlation of residuals over co-raters,
shrunk by the number of co-raters ``n_ij``:

``s_ij = (Σ_u e_ui e_uj / sqrt(Σ_u e_ui² · Σ_u e_uj²)) · (n_ij − 1) / (n_ij − 1 + shrinkage)``.

The user-based model is the same on the transposed matrix (the source paper's
"user similarity" CF). Everything is dense matrix products; the only Python loop
runs over the users (or items) of a prediction batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from chainmall.recommend._base import FloatArray, IntArray
from chainmall.recommend.baseline import RatingModel, fit_biases
from chainmall.recommend.config import KNNConfig

__all__ = ["KNNBaseline", "pearson_baseline_similarity"]

Float32Array = npt.NDArray[np.float32]


def pearson_baseline_similarity(residuals: sp.csr_matrix, shrinkage: float) -> Float32Array:
    """Shrunk residual correlation between the columns of ``residuals`` (owners × targets).

    Stored entries are the observed cells (an exact-zero residual is still observed).
    Computed in float32 (three dense products), returned as float32.
    """
    e = residuals.toarray().astype(np.float32)
    observed = sp.csr_matrix(
        (np.ones(residuals.nnz, dtype=np.float32), residuals.indices, residuals.indptr),
        shape=residuals.shape,
    ).toarray()
    sims = e.T @ e
    denom = (e * e).T @ observed  # [i, j] = Σ_u e_ui² over co-raters of i and j
    denom *= denom.T.copy()
    np.sqrt(denom, out=denom)
    # a zero denominator means no co-raters or all-zero residuals, so the numerator is 0 too
    np.divide(sims, denom, out=sims, where=denom > 0)
    support = observed.T @ observed  # co-raters
    support -= 1.0
    np.maximum(support, 0.0, out=support)
    if shrinkage > 0:
        sims *= support / (support + np.float32(shrinkage))
    else:
        sims *= np.sign(support)
    np.fill_diagonal(sims, 0.0)
    out: Float32Array = sims
    return out


class KNNBaseline(RatingModel):
    """Item- or user-based kNN on baseline residuals with pearson-baseline similarity."""

    config_class = KNNConfig
    config: KNNConfig

    def _fit(self, matrix: sp.csr_matrix) -> None:
        self.global_mean_, self.user_bias_, self.item_bias_ = fit_biases(
            matrix, self.config.baseline
        )
        coo = matrix.tocoo()
        resid = coo.data - self._baseline_pairs(coo.row, coo.col)
        # owners scan their rated targets: users for item-kNN, items for user-kNN
        residuals = sp.csr_matrix((resid, (coo.row, coo.col)), shape=matrix.shape)
        if self.config.kind == "user":
            residuals = residuals.T.tocsr()
        residuals.sort_indices()
        self.residuals_ = residuals
        self.similarity_ = pearson_baseline_similarity(residuals, self.config.shrinkage)

    def _owner_target(self, users: IntArray, items: IntArray) -> tuple[IntArray, IntArray]:
        return (users, items) if self.config.kind == "item" else (items, users)

    def _score_pairs(self, users: IntArray, items: IntArray) -> FloatArray:
        owners, targets = self._owner_target(users, items)
        return self._baseline_pairs(users, items) + self._neighbour_offsets(owners, targets)

    def _neighbour_offsets(self, owners: IntArray, targets: IntArray) -> FloatArray:
        """Similarity-weighted mean residual of each target's top-k neighbours."""
        out = np.zeros(len(owners))
        order = np.argsort(owners, kind="stable")
        groups, starts = np.unique(owners[order], return_index=True)
        bounds = np.append(starts, len(order))
        indptr, indices, data = (
            self.residuals_.indptr,
            self.residuals_.indices,
            self.residuals_.data,
        )
        k = self.config.k
        for g, owner in enumerate(groups):
            rows = order[bounds[g] : bounds[g + 1]]
            rated = indices[indptr[owner] : indptr[owner + 1]]
            if len(rated) == 0:
                continue
            resid = data[indptr[owner] : indptr[owner + 1]]
            sims = self.similarity_[np.ix_(targets[rows], rated)]
            if len(rated) > k:
                top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
                sims = np.take_along_axis(sims, top, axis=1)
                resid_top = resid[top]
            else:
                resid_top = np.broadcast_to(resid, sims.shape)
            weights = np.maximum(sims, 0.0)
            total = weights.sum(axis=1)
            num = (weights * resid_top).sum(axis=1)
            out[rows] = np.divide(num, total, out=np.zeros_like(num), where=total > 0)
        return out

    def _score_users(self, users: IntArray) -> FloatArray:
        n_items = self.item_bias_.shape[0]
        u = np.repeat(users, n_items)
        i = np.tile(np.arange(n_items, dtype=np.int64), len(users))
        return self._score_pairs(u, i).reshape(len(users), n_items)

    def _item_similarity(self, items: IntArray) -> FloatArray:
        if self.config.kind == "item":
            return self.similarity_[items].astype(np.float64)
        return super()._item_similarity(items)

    def _state(self) -> dict[str, npt.NDArray[Any]]:
        return {
            **self._bias_state(),
            "similarity": self.similarity_,
            "res_indptr": self.residuals_.indptr,
            "res_indices": self.residuals_.indices,
            "res_data": self.residuals_.data,
        }

    def _set_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self._set_bias_state(arrays)
        self.similarity_ = arrays["similarity"]
        n = self.similarity_.shape[0]
        n_owners = len(arrays["res_indptr"]) - 1
        self.residuals_ = sp.csr_matrix(
            (arrays["res_data"], arrays["res_indices"], arrays["res_indptr"]),
            shape=(n_owners, n),
        )
