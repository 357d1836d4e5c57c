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
items that follow what the user did last. ``partial_fit`` updates ``P`` by a
low-rank correction (:mod:`chainmall.recommend._incremental`); items without
interactions are scored from their features (:mod:`chainmall.recommend.item_features`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from chainmall.exceptions import DataValidationError
from chainmall.recommend._base import (
    FloatArray,
    IntArray,
    Recommender,
    cosine_scale,
    require_interactions,
)
from chainmall.recommend._incremental import binary, gram_inverse, updated_gram_inverse
from chainmall.recommend.config import ALSConfig, EASEConfig
from chainmall.recommend.interactions import Interactions, canonical_interactions
from chainmall.recommend.item_features import ItemFeatures, feature_columns
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
        for _ in self._iterations(cfg.n_iters):
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
    """Embarrassingly shallow autoencoder: a closed-form item-item ridge model.

    ``fit(interactions, item_features=...)`` also scores items that have no
    interactions yet from their features (cold start); ``partial_fit`` merges
    new interactions (new users, new items, more rows of known users) and
    equals a refit on the merged data up to float64 round-off.
    """

    config_class = EASEConfig
    config: EASEConfig
    gram_inverse_: FloatArray
    item_weights_: FloatArray
    user_inputs_: sp.csr_matrix
    item_features_: ItemFeatures | None

    def fit(
        self,
        interactions: Interactions,
        *,
        item_features: pd.DataFrame | None = None,
        progress: bool = False,
    ) -> Self:
        """Learn from ``interactions``; with ``item_features`` (``item_col`` plus numeric
        columns, one row per item) items listed there but never interacted with join
        the catalogue and are scored from their features. (``progress`` is accepted as
        by every recommender; EASE's one-step solve has no iterations to show.)"""
        require_interactions(interactions)
        features = _read_features(item_features, interactions)
        self.item_features_ = features
        if features is not None:
            interactions = interactions.with_items(features.item_ids)
        return super().fit(interactions, progress=progress)

    def partial_fit(
        self,
        new_interactions: pd.DataFrame,
        *,
        item_features: pd.DataFrame | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> Self:
        """Merge ``new_interactions`` (a long frame in the fitted layout) and update.

        The result equals ``fit`` on the old rows followed by the new ones (see
        :meth:`Interactions.extend` for the duplicate rule), with the feature rows
        of ``item_features`` added to (or replacing) the fitted ones. The inverse
        Gram matrix gets a low-rank (Woodbury) correction of rank ``r`` = the
        changed users' rows or the items they touch, whichever is fewer:
        ``O(n_items² r)`` instead of a refit's ``O(n_items³)``. ``columns`` names
        the frame's columns as in :meth:`Interactions.from_frame`.
        """
        old = self._check_fitted()
        new = canonical_interactions(new_interactions, old.config, columns)
        merged = old.extend(new)
        features = self.item_features_
        newer = _read_features(item_features, old)
        if newer is not None:
            features = newer if features is None else features.updated(newer)
            merged = merged.with_items(newer.item_ids)
        users, _ = merged.user_index(pd.unique(new["user_id"].to_numpy()))
        self.gram_inverse_ = updated_gram_inverse(
            self.gram_inverse_, old, merged, users, self.config.reg
        )
        self.item_features_ = features
        self._set_data(merged)
        self.item_weights_ = self._weights()
        self.user_inputs_ = self._user_inputs(binary(merged.matrix))
        return self

    def _fit(self, matrix: sp.csr_matrix) -> None:
        self.gram_inverse_ = gram_inverse(matrix, self.config.reg)
        self.item_weights_ = self._weights()
        self.user_inputs_ = self._user_inputs(binary(matrix))

    def _weights(self) -> FloatArray:
        """``B`` from the inverse Gram matrix; items without interactions but with
        features get their column from the features."""
        inverse = self.gram_inverse_
        weights = -inverse / np.diag(inverse)[None, :]
        np.fill_diagonal(weights, 0.0)
        if self.item_features_ is None:
            return weights
        values, present = self.item_features_.aligned(self.interactions_.item_ids)
        warm = self.popularity_ > 0
        cold = present & ~warm
        if cold.any():
            weights[:, cold] = feature_columns(
                weights, values, present & warm, cold, self.config.feature_reg
            )
            weights[cold, cold] = 0.0
        return weights

    def cold_items(self) -> npt.NDArray[Any]:
        """Ids of the items scored from features only (no interactions yet)."""
        data = self._check_fitted()
        if self.item_features_ is None:
            return data.item_ids[:0]
        _, present = self.item_features_.aligned(data.item_ids)
        cold: npt.NDArray[Any] = data.item_ids[present & (self.popularity_ == 0)]
        return cold

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
        arrays: dict[str, npt.NDArray[Any]] = {
            "gram_inverse": self.gram_inverse_,
            "in_indptr": inputs.indptr,
            "in_indices": inputs.indices,
            "in_data": inputs.data,
        }
        if self.item_features_ is not None:  # every featured item is in the catalogue
            values, present = self.item_features_.aligned(self.interactions_.item_ids)
            arrays["feature_values"] = values
            arrays["feature_present"] = present
            arrays["feature_names"] = np.asarray(self.item_features_.names, dtype=str)
        return arrays

    def _set_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.gram_inverse_ = arrays["gram_inverse"]
        self.item_features_ = None
        if "feature_values" in arrays:
            present = arrays["feature_present"]
            self.item_features_ = ItemFeatures(
                self.interactions_.item_ids[present],
                arrays["feature_values"][present],
                tuple(str(n) for n in arrays["feature_names"]),
            )
        n_users = len(arrays["in_indptr"]) - 1
        self.user_inputs_ = sp.csr_matrix(
            (arrays["in_data"], arrays["in_indices"], arrays["in_indptr"]),
            shape=(n_users, self.gram_inverse_.shape[0]),
        )
        self.item_weights_ = self._weights()


def _read_features(frame: pd.DataFrame | None, data: Interactions) -> ItemFeatures | None:
    if frame is None:
        return None
    item_col = data.config.legacy_names().get("item_id", "item_id")
    features = ItemFeatures.from_frame(frame, columns={"item_id": item_col})
    if features.item_ids.dtype.kind != data.item_ids.dtype.kind and not (
        features.item_ids.dtype.kind in "iu" and data.item_ids.dtype.kind in "iu"
    ):
        raise DataValidationError(
            f"item_features.{item_col} holds {features.item_ids.dtype} ids but the "
            f"interactions hold {data.item_ids.dtype} ids; use the same id type in both"
        )
    return features
