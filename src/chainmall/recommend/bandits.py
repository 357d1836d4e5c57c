"""Baseline policies for the slate simulator: random, popularity, greedy kNN / ALS,
ε-greedy, LinUCB, and the oracle (the ceiling; it reads the hidden truth).

All except the oracle see only what :class:`~chainmall.recommend.simulator.EpisodeState`
holds plus what they are built from (models fitted on
:meth:`SimulationData.logged`).

* **Greedy item-kNN**: ``score_i = Σ_{j ∈ P_u} S_k[j, i]`` over the user's
  positives ``P_u`` (visible positives + clicks), with ``S_k[j, ·]`` the
  similarity of ``j`` kept to its ``k`` most similar items (each positive votes
  for its neighbours); by default the cosine of the items' binary columns.
* **Greedy ALS**: each step the user's factor is folded in from the positives
  by the implicit-ALS ridge solve ``(QᵀQ + α Qᵀ X_u Q + λI) p_u = (1 + α) Qᵀ x_u``;
  ``score = Q p_u``.
* **Greedy EASE**: ``score = x_u B`` with ``B`` the EASE item-item weights
  (Steck 2019) fitted on the logged positives and ``x_u`` the user's positives
  (weight 1) plus the items shown and not clicked this episode (weight
  ``skip_weight``, ≤ 0: a skipped slate pushes its neighbours down).
* **ε-greedy**: per item, a click-rate estimate shared across users,
  ``(m·π_i + clicks_i) / (m + shows_i)`` with prior ``π_i`` (item popularity)
  of strength ``m``; with probability ε a slate is drawn at random.
* **LinUCB** (disjoint, per user): ``A_u = λI + Σ x xᵀ``, ``b_u = Σ r x`` over
  the visible history (r = 1 for a positive rating) and every shown item;
  ``score_i = θ_u·x_i + α sqrt(x_iᵀ A_u⁻¹ x_i)`` with ``θ_u = A_u⁻¹ b_u``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from chainmall._validation import check_array, check_scalar
from chainmall.exceptions import DataValidationError
from chainmall.recommend._base import FloatArray, IntArray, cosine_scale
from chainmall.recommend.click_models import BoolArray, SimulationData
from chainmall.recommend.config import EASEConfig
from chainmall.recommend.implicit_models import EASE
from chainmall.recommend.interactions import Interactions
from chainmall.recommend.mf import ridge_rows
from chainmall.recommend.simulator import EpisodeState, SlatePolicy, top_available

__all__ = [
    "EASEPolicy",
    "EmbeddingGreedyPolicy",
    "EpsilonGreedyPolicy",
    "ItemKNNPolicy",
    "LinUCBPolicy",
    "OraclePolicy",
    "PopularityPolicy",
    "RandomPolicy",
    "positive_matrix",
]


def positive_matrix(state: EpisodeState, n_items: int) -> sp.csr_matrix:
    """Users × items 0/1 matrix of each user's positives (visible positives + clicks)."""
    lengths = [len(p) for p in state.positives]
    rows = np.repeat(np.arange(len(lengths)), lengths)
    cols = np.fromiter((i for p in state.positives for i in p), dtype=np.int64, count=sum(lengths))
    matrix = sp.csr_matrix(
        (np.ones(len(cols)), (rows, cols)), shape=(len(state.positives), n_items)
    )
    matrix.data[:] = 1.0
    return matrix


def _square(values: Any, name: str) -> FloatArray:
    """A finite square items x items matrix, or a clear error."""
    matrix = check_array(values, name, "number", ndim=2)
    if matrix.shape[0] != matrix.shape[1]:
        raise DataValidationError(
            f"{name} must be a square items x items matrix, got {matrix.shape}"
        )
    return matrix


class RandomPolicy(SlatePolicy):
    """Uniformly random available items (seeded)."""

    name = "random"

    def __init__(self, n_items: int, *, seed: int = 0) -> None:
        self.n_items = check_scalar(n_items, "n_items", "count", ge=1)
        self.rng = np.random.default_rng(check_scalar(seed, "seed", "count", ge=0))

    def scores(self, state: EpisodeState) -> FloatArray:
        return self.rng.random((len(state.users), self.n_items))


class PopularityPolicy(SlatePolicy):
    """The most popular available items (popularity = a score per item)."""

    name = "popularity"

    def __init__(self, popularity: FloatArray) -> None:
        self.popularity = check_array(popularity, "popularity", "number", allow_empty=False)

    def scores(self, state: EpisodeState) -> FloatArray:
        return np.broadcast_to(self.popularity, (len(state.users), len(self.popularity)))


class ItemKNNPolicy(SlatePolicy):
    """Greedy item-kNN: each positive votes for its ``k`` most similar items."""

    name = "item_knn"

    def __init__(
        self, similarity: FloatArray, *, k: int = 50, tie_break: FloatArray | None = None
    ) -> None:
        sims = _square(similarity, "similarity").copy()
        np.fill_diagonal(sims, 0.0)
        n = sims.shape[0]
        kk = min(check_scalar(k, "k", "count", ge=1), n - 1)
        keep = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        rows = np.repeat(np.arange(n), kk)
        values = np.maximum(sims[rows, keep.ravel()], 0.0)
        self.neighbours = sp.csr_matrix((values, (rows, keep.ravel())), shape=(n, n))
        tie = np.zeros(n) if tie_break is None else check_array(tie_break, "tie_break", "number")
        self.tie_break = 1e-6 * tie / max(float(np.abs(tie).max()), 1e-12)

    @classmethod
    def from_matrix(
        cls, matrix: sp.csr_matrix, *, k: int = 50, tie_break: FloatArray | None = None
    ) -> ItemKNNPolicy:
        """Build from a users × items matrix with the cosine of items' binary columns."""
        columns = sp.csr_matrix(matrix.T).astype(bool).astype(np.float64)
        norms = np.sqrt(np.asarray(columns.sum(axis=1)).ravel())
        dots = np.asarray((columns @ columns.T).todense())
        return cls(cosine_scale(dots, norms, norms), k=k, tie_break=tie_break)

    def scores(self, state: EpisodeState) -> FloatArray:
        positives = positive_matrix(state, self.neighbours.shape[0])
        out: FloatArray = np.asarray((positives @ self.neighbours).todense()) + self.tie_break
        return out


class EASEPolicy(SlatePolicy):
    """Greedy EASE: the positives (and, negatively, skipped items) score ``x_u B``."""

    name = "ease_greedy"

    def __init__(
        self,
        item_weights: FloatArray,
        *,
        skip_weight: float = -0.1,
        tie_break: FloatArray | None = None,
    ) -> None:
        self.weights = _square(item_weights, "item_weights")
        self.skip_weight = check_scalar(skip_weight, "skip_weight", "number")
        n = self.weights.shape[0]
        tie = np.zeros(n) if tie_break is None else np.asarray(tie_break, dtype=np.float64)
        self.tie_break = 1e-6 * tie / max(float(np.abs(tie).max()), 1e-12)

    @classmethod
    def from_matrix(
        cls,
        matrix: sp.csr_matrix,
        *,
        reg: float = 700.0,
        skip_weight: float = -0.1,
        tie_break: FloatArray | None = None,
    ) -> EASEPolicy:
        """Fit EASE (ridge ``reg``) on a users × items matrix read as binary positives."""
        binary = sp.csr_matrix(matrix).astype(bool).astype(np.float64)
        users, items = np.arange(binary.shape[0]), np.arange(binary.shape[1])
        model = EASE(EASEConfig(reg=reg)).fit(Interactions(binary, users, items, None))
        return cls(model.item_weights_, skip_weight=skip_weight, tie_break=tie_break)

    def inputs(self, state: EpisodeState) -> FloatArray:
        """The users' EASE inputs ``x_u``: positives 1, shown-and-skipped ``skip_weight``."""
        positives = positive_matrix(state, self.weights.shape[0]).toarray()
        x: FloatArray = positives + self.skip_weight * (state.shown & (positives == 0))
        return x

    def scores(self, state: EpisodeState) -> FloatArray:
        inputs = sp.csr_matrix(self.inputs(state))
        out: FloatArray = np.asarray(inputs @ self.weights) + self.tie_break
        return out


class EmbeddingGreedyPolicy(SlatePolicy):
    """Greedy implicit-ALS: fold the user in from the positives each step, score ``Q p_u``."""

    name = "als_greedy"

    def __init__(self, item_factors: FloatArray, *, alpha: float = 2.0, reg: float = 10.0):
        self.q = check_array(item_factors, "item_factors", "number", ndim=2)
        self.alpha = check_scalar(alpha, "alpha", "number", ge=0)
        self.reg = check_scalar(reg, "reg", "number", gt=0)
        self.gram = self.q.T @ self.q

    def scores(self, state: EpisodeState) -> FloatArray:
        positives = positive_matrix(state, self.q.shape[0])
        extra = positives * self.alpha
        confidence = positives * (1.0 + self.alpha)
        penalty = np.full(self.q.shape[1], self.reg)
        users = ridge_rows(extra, confidence, self.q, penalty, gram_offset=self.gram)
        out: FloatArray = users @ self.q.T
        return out


class EpsilonGreedyPolicy(SlatePolicy):
    """Per-item click-rate estimates shared across users; a random slate with prob. ε."""

    name = "epsilon_greedy"

    def __init__(
        self, prior: FloatArray, *, epsilon: float = 0.1, strength: float = 10.0, seed: int = 0
    ) -> None:
        epsilon = check_scalar(epsilon, "epsilon", "number", ge=0, le=1)
        prior = check_array(prior, "prior", "number", ge=0, allow_empty=False)
        self.prior = prior / max(float(prior.max()), 1e-12)
        self.epsilon = epsilon
        self.strength = check_scalar(strength, "strength", "number", ge=0)
        self.clicks = np.zeros_like(self.prior)
        self.shows = np.zeros_like(self.prior)
        self.rng = np.random.default_rng(check_scalar(seed, "seed", "count", ge=0))

    def scores(self, state: EpisodeState) -> FloatArray:
        rate = (self.strength * self.prior + self.clicks) / (self.strength + self.shows)
        return np.broadcast_to(rate, (len(state.users), len(rate)))

    def act(self, state: EpisodeState, slate_size: int) -> IntArray:
        available = state.available()
        greedy = top_available(self.scores(state), available, slate_size)
        random = top_available(self.rng.random(available.shape), available, slate_size)
        explore = self.rng.random(len(state.users)) < self.epsilon
        return np.where(explore[:, None], random, greedy)

    def observe(self, state: EpisodeState, slates: IntArray, clicks: BoolArray) -> None:
        shown = slates >= 0
        np.add.at(self.shows, slates[shown], 1.0)
        np.add.at(self.clicks, slates[shown & clicks], 1.0)


class LinUCBPolicy(SlatePolicy):
    """Disjoint LinUCB per user over item features (e.g. ALS item factors)."""

    name = "linucb"

    def __init__(
        self,
        item_features: FloatArray,
        *,
        alpha: float = 0.5,
        reg: float = 1.0,
        click_threshold: float = 4.0,
    ) -> None:
        x = check_array(item_features, "item_features", "number", ndim=2)
        alpha = check_scalar(alpha, "alpha", "number", ge=0)
        reg = check_scalar(reg, "reg", "number", gt=0)
        click_threshold = check_scalar(click_threshold, "click_threshold", "number")
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
        self.x = np.hstack([x, np.ones((len(x), 1))])
        d = self.x.shape[1]
        self.outer = (self.x[:, :, None] * self.x[:, None, :]).reshape(len(x), d * d)
        self.alpha, self.reg, self.click_threshold = alpha, reg, click_threshold
        self.a: FloatArray = np.zeros((0, d, d))
        self.b: FloatArray = np.zeros((0, d))

    def begin(self, state: EpisodeState) -> None:
        d = self.x.shape[1]
        seen = state.history.copy()
        seen.data[:] = 1.0
        liked = state.history.copy()
        liked.data = (liked.data >= self.click_threshold).astype(np.float64)
        self.a = self.reg * np.eye(d) + np.asarray(seen @ self.outer).reshape(-1, d, d)
        self.b = np.asarray(liked @ self.x)

    def scores(self, state: EpisodeState) -> FloatArray:
        a_inv = np.linalg.inv(self.a)
        theta = np.einsum("ude,ue->ud", a_inv, self.b)
        width = (a_inv.reshape(len(a_inv), -1) @ self.outer.T).clip(min=0.0)
        out: FloatArray = theta @ self.x.T + self.alpha * np.sqrt(width)
        return out

    def observe(self, state: EpisodeState, slates: IntArray, clicks: BoolArray) -> None:
        shown = slates >= 0
        feats = self.x[np.where(shown, slates, 0)] * shown[..., None]
        self.a = self.a + np.einsum("ukd,uke->ude", feats, feats)
        self.b = self.b + np.einsum("uk,ukd->ud", clicks.astype(np.float64), feats)


class OraclePolicy(SlatePolicy):
    """The ceiling: shows the user's relevant items first. It reads the hidden truth,
    so it is a yardstick, never a recommender."""

    name = "oracle"

    def __init__(self, data: SimulationData) -> None:
        self.data = data
        self.truth: FloatArray = np.zeros((0, data.n_items))

    def begin(self, state: EpisodeState) -> None:
        self.truth, _ = self.data.relevance(state.users)

    def scores(self, state: EpisodeState) -> FloatArray:
        return self.truth
