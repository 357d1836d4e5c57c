"""Linear blend of rating models, weights learned on an inner split of the training data.

``fit`` holds out ``validation_fraction`` of the training ratings (seeded), fits
a copy of every member on the rest, and learns ``r̂ = w_0 + Σ_m w_m r̂_m`` by
ridge regression (penalty ``ridge``, intercept unpenalised) on the held-out
ratings. It then refits every member on all the training data and keeps the
weights. No rating outside the training data is ever seen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from chainmall.exceptions import DataValidationError
from chainmall.recommend._base import FloatArray, IntArray, Recommender
from chainmall.recommend._persist import read_bundle
from chainmall.recommend.baseline import BaselinePredictor, RatingModel
from chainmall.recommend.config import BlendConfig
from chainmall.recommend.interactions import Interactions
from chainmall.recommend.knn import KNNBaseline
from chainmall.recommend.mf import MatrixFactorization

__all__ = ["RatingBlend"]


class RatingBlend(RatingModel):
    """Blend of rating models (default: biased MF + item-kNN-baseline).

    Args:
        members: unfitted rating models to blend; their configs are copied (a
            ``BlendConfig`` here is taken as ``config``, with the default members).
        config: blend settings.
    """

    config_class = BlendConfig
    config: BlendConfig

    def __init__(
        self,
        members: Sequence[RatingModel] | BlendConfig | None = None,
        config: BlendConfig | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(members, BlendConfig):  # config first, as every Recommender takes it
            members, config = None, members if config is None else config
        super().__init__(config, **overrides)
        chosen = list(members) if members is not None else [MatrixFactorization(), KNNBaseline()]
        if not chosen or not all(isinstance(m, RatingModel) for m in chosen):
            raise DataValidationError(
                "RatingBlend needs at least one rating model (BaselinePredictor, KNNBaseline, "
                "MatrixFactorization, RatingBlend)"
            )
        self.members = chosen

    def _fit(self, matrix: sp.csr_matrix) -> None:
        data = self.interactions_
        coo = matrix.tocoo()
        rng = np.random.default_rng(self.config.seed)
        held = rng.random(coo.nnz) < self.config.validation_fraction
        inner = sp.csr_matrix(
            (coo.data[~held], (coo.row[~held], coo.col[~held])), shape=matrix.shape
        )
        users, items = coo.row[held].astype(np.int64), coo.col[held].astype(np.int64)
        inner_data = Interactions(
            inner, data.user_ids, data.item_ids, data.rating_range, data.config
        )
        columns = [np.ones(len(users))]
        for member in self.members:
            model = _copy(member).fit(inner_data)
            columns.append(
                np.clip(model._score_pairs(users, items), *data.rating_range or (-np.inf, np.inf))
            )
        self.support_: tuple[FloatArray, FloatArray] = _log_support(matrix)
        x = self._design(columns[1:], users, items)
        penalty = np.full(x.shape[1], self.config.ridge)
        penalty[0] = 0.0
        self.weights_: FloatArray = np.linalg.solve(
            x.T @ x + np.diag(penalty), x.T @ coo.data[held]
        )
        self.fitted_members_ = [_copy(m).fit(data) for m in self.members]
        first = self.fitted_members_[0]
        self.global_mean_, self.user_bias_, self.item_bias_ = (
            first.global_mean_,
            first.user_bias_,
            first.item_bias_,
        )

    def _design(self, parts: list[FloatArray], users: IntArray, items: IntArray) -> FloatArray:
        """Blend features: each prediction, and each times the user's and the item's
        centred log rating count (so weights can shift with support), plus both counts."""
        lu, li = self.support_[0][users], self.support_[1][items]
        cols = [np.ones(len(users)), lu, li]
        for part in parts:
            cols += [part, part * lu, part * li]
        return np.column_stack(cols)

    def _score_pairs(self, users: IntArray, items: IntArray) -> FloatArray:
        lo, hi = self.interactions_.rating_range or (-np.inf, np.inf)
        parts = [np.clip(m._score_pairs(users, items), lo, hi) for m in self.fitted_members_]
        return self._design(parts, users, items) @ self.weights_

    def _score_users(self, users: IntArray) -> FloatArray:
        n_items = self.item_bias_.shape[0]
        u = np.repeat(users, n_items)
        i = np.tile(np.arange(n_items, dtype=np.int64), len(users))
        return self._score_pairs(u, i).reshape(len(users), n_items)

    def save(self, path: str | Path) -> Path:
        """Save to folder ``path``; members are stored under ``member{m}_`` prefixes and
        their class names and configs go to ``model.json``."""
        folder = super().save(path)
        meta_file = folder / "model.json"
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        meta["members"] = [
            {"model": type(m).__name__, "config": m.config.to_dict()} for m in self.fitted_members_
        ]
        meta_file.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a blend saved by :meth:`save`, members included."""
        meta, arrays = read_bundle(path)
        if meta.get("model") != cls.__name__ or "members" not in meta:
            raise DataValidationError(
                f"{str(path)!r} holds a {meta.get('model')!r} without blend members, not a "
                f"{cls.__name__}; load it with {meta.get('model')}.load"
            )
        classes: dict[str, type[RatingModel]] = {
            c.__name__: c for c in (BaselinePredictor, KNNBaseline, MatrixFactorization)
        }
        unknown = [e["model"] for e in meta["members"] if e["model"] not in classes]
        if unknown:
            raise DataValidationError(
                f"unknown blend member(s) {unknown} in {str(path)!r}; known: {sorted(classes)}"
            )
        model = super().load(path)
        model.members = []
        model.fitted_members_ = []
        for m, entry in enumerate(meta["members"]):
            member_cls = classes[entry["model"]]
            member = member_cls(member_cls.config_class.from_dict(entry["config"]))
            model.members.append(member_cls(member.config))
            prefix = f"state_member{m}_"
            member.interactions_ = model.interactions_
            member.popularity_ = model.popularity_
            member._set_state(
                {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            )
            model.fitted_members_.append(member)
        first = model.fitted_members_[0]
        model.global_mean_, model.user_bias_, model.item_bias_ = (
            first.global_mean_,
            first.user_bias_,
            first.item_bias_,
        )
        return model

    def _state(self) -> dict[str, npt.NDArray[Any]]:
        arrays: dict[str, npt.NDArray[Any]] = {
            "weights": self.weights_,
            "support_user": self.support_[0],
            "support_item": self.support_[1],
        }
        for m, member in enumerate(self.fitted_members_):
            arrays.update({f"member{m}_{k}": v for k, v in member._state().items()})
        return arrays

    def _set_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        """Blend weights and support; :meth:`load` restores the members."""
        self.weights_ = arrays["weights"]
        self.support_ = (arrays["support_user"], arrays["support_item"])


def _log_support(matrix: sp.csr_matrix) -> tuple[FloatArray, FloatArray]:
    """Centred ``log(1 + ratings)`` of every user and every item."""
    lu = np.log1p(np.diff(matrix.indptr).astype(np.float64))
    li = np.log1p(np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64))
    return lu - lu.mean(), li - li.mean()


def _copy(model: Recommender) -> RatingModel:
    if isinstance(model, RatingBlend):
        return RatingBlend(model.members, model.config)
    copy = type(model)(model.config)
    assert isinstance(copy, RatingModel)
    return copy
