"""Bias baseline ``r̂_ui = μ + b_u + b_i`` and the base class of every rating model.

The biases minimise ``Σ (r_ui − μ − b_u − b_i)² + λ_u Σ b_u² + λ_i Σ b_i²`` by
alternating closed-form updates (each a per-row mean shrunk towards 0):
``b_i = Σ_u (r_ui − μ − b_u) / (λ_i + n_i)``, then ``b_u`` likewise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from chainmall.recommend._base import FloatArray, IntArray, Recommender
from chainmall.recommend.config import BaselineConfig

__all__ = ["BaselinePredictor", "RatingModel", "fit_biases"]


def fit_biases(
    matrix: sp.csr_matrix, config: BaselineConfig
) -> tuple[float, FloatArray, FloatArray]:
    """Global mean (ratings), user biases and item biases of a CSR rating matrix."""
    coo = matrix.tocoo()
    users, items, ratings = coo.row, coo.col, coo.data
    n_users, n_items = matrix.shape
    mu = float(ratings.mean())
    n_u = np.bincount(users, minlength=n_users)
    n_i = np.bincount(items, minlength=n_items)
    b_u = np.zeros(n_users)
    b_i = np.zeros(n_items)
    for _ in range(config.n_iters):
        b_i = np.bincount(items, ratings - mu - b_u[users], n_items) / (config.reg_item + n_i)
        b_u = np.bincount(users, ratings - mu - b_i[items], n_users) / (config.reg_user + n_u)
    return mu, b_u, b_i


class RatingModel(Recommender):
    """A model of explicit ratings: falls back to ``μ + b_u + b_i`` for unknown ids."""

    rating_model = True
    global_mean_: float
    user_bias_: FloatArray
    item_bias_: FloatArray

    def _baseline_pairs(self, users: IntArray, items: IntArray) -> FloatArray:
        return self.global_mean_ + self.user_bias_[users] + self.item_bias_[items]

    def _fallback_pairs(
        self,
        users: IntArray,
        items: IntArray,
        user_known: npt.NDArray[np.bool_],
        item_known: npt.NDArray[np.bool_],
    ) -> FloatArray:
        return (
            self.global_mean_
            + np.where(user_known, self.user_bias_[users], 0.0)
            + np.where(item_known, self.item_bias_[items], 0.0)
        )

    def _fallback_user_scores(self) -> FloatArray:
        return self.global_mean_ + self.item_bias_

    def _bias_state(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "global_mean": np.array([self.global_mean_]),
            "user_bias": self.user_bias_,
            "item_bias": self.item_bias_,
        }

    def _set_bias_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.global_mean_ = float(arrays["global_mean"][0])
        self.user_bias_ = arrays["user_bias"]
        self.item_bias_ = arrays["item_bias"]


class BaselinePredictor(RatingModel):
    """Regularised global + user + item biases (no personalisation beyond biases)."""

    config_class = BaselineConfig
    config: BaselineConfig

    def _fit(self, matrix: sp.csr_matrix) -> None:
        self.global_mean_, self.user_bias_, self.item_bias_ = fit_biases(matrix, self.config)

    def _score_pairs(self, users: IntArray, items: IntArray) -> FloatArray:
        return self._baseline_pairs(users, items)

    def _score_users(self, users: IntArray) -> FloatArray:
        return self.global_mean_ + self.user_bias_[users, None] + self.item_bias_[None, :]

    def _state(self) -> dict[str, npt.NDArray[Any]]:
        return self._bias_state()

    def _set_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self._set_bias_state(arrays)
