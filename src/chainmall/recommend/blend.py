"""Stacked blend of rating models that falls back to its best member.

``fit`` holds out training ratings and predicts them with copies of every
member fitted on the rest: one seeded split of ``validation_fraction``, or, on
small data (fewer than ``kfold_below`` ratings), ``cv_folds``-fold
cross-fitting so that every training rating is predicted once by members that
never saw it. Two kinds of candidate are then compared on those held-out
ratings only:

* each member alone, by its held-out RMSE;
* the stack ``r̂ = w·x``, a ridge regression (intercept unpenalised) on the
  design ``x = [1, l_u, l_i, r̂_m, r̂_m l_u, r̂_m l_i (each member m)]`` with
  ``l_u``, ``l_i`` the centred ``log(1 + rating count)`` of the user and the
  item, so the weights can shift with support. Its error is estimated by
  ``cv_folds``-fold cross-validation over the held-out ratings, for every
  penalty in ``ridge_grid``.

The stack is kept only if its cross-validated RMSE beats the best member's by
more than ``min_gain``; otherwise the blend *is* the best member (its
predictions, unchanged). Then the members in use are refitted on all the
training ratings. No rating outside the training data is ever seen, so on its
own validation split the blend never does worse than its best member.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from chainmall.exceptions import DataValidationError, ModelFileError
from chainmall.recommend._base import FloatArray, IntArray, Recommender
from chainmall.recommend.baseline import BaselinePredictor, RatingModel
from chainmall.recommend.config import BlendConfig
from chainmall.recommend.interactions import Interactions
from chainmall.recommend.knn import KNNBaseline
from chainmall.recommend.mf import MatrixFactorization

__all__ = ["RatingBlend"]

logger = logging.getLogger(__name__)
STACK = "stack"


class RatingBlend(RatingModel):
    """Stacked blend of rating models (default: biased MF, item-kNN-baseline, baseline)
    that falls back to its best member when stacking does not help.

    Args:
        members: unfitted rating models to blend; their configs are copied (a
            ``BlendConfig`` here is taken as ``config``, with the default members).
        config: blend settings.

    After ``fit``: ``selected_`` is ``"stack"`` or the label of the member in use,
    ``validation_rmse_`` maps each candidate to its held-out RMSE (the stack's
    is cross-validated), ``fitted_members_`` are the members in use, refitted
    on all training ratings, and ``weights_`` the stacked weights.
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
        chosen = (
            list(members)
            if members is not None
            else [MatrixFactorization(), KNNBaseline(), BaselinePredictor()]
        )
        if not chosen or not all(isinstance(m, RatingModel) for m in chosen):
            raise DataValidationError(
                "RatingBlend needs at least one rating model (BaselinePredictor, KNNBaseline, "
                "MatrixFactorization, RatingBlend)"
            )
        self.members = chosen

    def member_labels(self) -> list[str]:
        """One label per member: its class name, numbered when a class repeats."""
        names = [type(m).__name__ for m in self.members]
        return [f"{n}#{k}" if names.count(n) > 1 else n for k, n in enumerate(names)]

    # ----------------------------------------------------------------- fitting
    def _fit(self, matrix: sp.csr_matrix) -> None:
        data = self.interactions_
        users, items, actual, parts = self._held_out_predictions(matrix)
        self.support_: tuple[FloatArray, FloatArray] = _log_support(matrix)
        design = self._design(parts, users, items)
        labels = self.member_labels()
        scores = {lab: _rmse(part, actual) for lab, part in zip(labels, parts, strict=True)}
        ridge, scores[STACK] = self._cross_validate(design, actual)
        self.validation_rmse_: dict[str, float] = scores
        best = min(labels, key=scores.__getitem__)
        use_stack = scores[STACK] < scores[best] - self.config.min_gain
        self.selected_: str = STACK if use_stack else best
        logger.info("RatingBlend held-out RMSE %s; using %s", scores, self.selected_)
        if use_stack:
            self.weights_: FloatArray = _ridge(design, actual, ridge)
            chosen = self.members
        else:
            self.weights_ = _member_weights()
            chosen = [self.members[labels.index(best)]]
        self.fitted_members_ = [_copy(m).fit(data) for m in chosen]
        self._take_biases()

    def _held_out_predictions(
        self, matrix: sp.csr_matrix
    ) -> tuple[IntArray, IntArray, FloatArray, list[FloatArray]]:
        """Users, items, ratings and each member's predictions of the held-out ratings:
        one split of ``validation_fraction``, or every rating once through
        ``cv_folds``-fold cross-fitting when there are fewer than ``kfold_below``."""
        cfg = self.config
        coo = matrix.tocoo()
        rng = np.random.default_rng(cfg.seed)
        if coo.nnz < cfg.kfold_below:
            fold = rng.permutation(coo.nnz) % cfg.cv_folds
        else:
            fold = np.where(rng.random(coo.nnz) < cfg.validation_fraction, 0, -1)
        n_held = int((fold >= 0).sum())
        if n_held < cfg.cv_folds or (fold.max() == 0 and n_held == coo.nnz):
            raise DataValidationError(
                f"RatingBlend needs at least {cfg.cv_folds} held-out and one kept rating; got "
                f"{n_held} held out of {coo.nnz}: pass more ratings or a larger "
                "validation_fraction"
            )
        pieces = []
        for k in range(int(fold.max()) + 1):
            held, kept = fold == k, fold != k
            inner = Interactions(
                sp.csr_matrix((coo.data[kept], (coo.row[kept], coo.col[kept])), shape=matrix.shape),
                self.interactions_.user_ids,
                self.interactions_.item_ids,
                self.interactions_.rating_range,
                self.interactions_.config,
            )
            users, items = coo.row[held].astype(np.int64), coo.col[held].astype(np.int64)
            predicted = [
                self._clip(_copy(m).fit(inner)._score_pairs(users, items)) for m in self.members
            ]
            pieces.append((users, items, coo.data[held], predicted))
        return (
            np.concatenate([p[0] for p in pieces]),
            np.concatenate([p[1] for p in pieces]),
            np.concatenate([p[2] for p in pieces]),
            [np.concatenate([p[3][m] for p in pieces]) for m in range(len(self.members))],
        )

    def _cross_validate(self, design: FloatArray, actual: FloatArray) -> tuple[float, float]:
        """The penalty of ``ridge_grid`` with the lowest K-fold RMSE, and that RMSE."""
        rng = np.random.default_rng(self.config.seed + 1)
        fold = rng.permutation(len(actual)) % self.config.cv_folds
        errors = {}
        for ridge in self.config.ridge_grid:
            predicted = np.empty_like(actual)
            for k in range(self.config.cv_folds):
                out = fold == k
                weights = _ridge(design[~out], actual[~out], ridge)
                predicted[out] = self._clip(design[out] @ weights)
            errors[ridge] = _rmse(predicted, actual)
        best = min(errors, key=errors.__getitem__)
        return best, errors[best]

    def _take_biases(self) -> None:
        """Unknown-id fallbacks come from the first member in use."""
        first = self.fitted_members_[0]
        self.global_mean_, self.user_bias_, self.item_bias_ = (
            first.global_mean_,
            first.user_bias_,
            first.item_bias_,
        )

    # ----------------------------------------------------------------- scoring
    def _clip(self, values: FloatArray) -> FloatArray:
        lo, hi = self.interactions_.rating_range or (-np.inf, np.inf)
        return np.clip(values, lo, hi)

    def _design(self, parts: list[FloatArray], users: IntArray, items: IntArray) -> FloatArray:
        """Blend features: each prediction, and each times the user's and the item's
        centred log rating count (so weights can shift with support), plus both counts."""
        lu, li = self.support_[0][users], self.support_[1][items]
        cols = [np.ones(len(users)), lu, li]
        for part in parts:
            cols += [part, part * lu, part * li]
        return np.column_stack(cols)

    def _score_pairs(self, users: IntArray, items: IntArray) -> FloatArray:
        parts = [self._clip(m._score_pairs(users, items)) for m in self.fitted_members_]
        return self._design(parts, users, items) @ self.weights_

    def _score_users(self, users: IntArray) -> FloatArray:
        n_items = self.item_bias_.shape[0]
        u = np.repeat(users, n_items)
        i = np.tile(np.arange(n_items, dtype=np.int64), len(users))
        return self._score_pairs(u, i).reshape(len(users), n_items)

    # ------------------------------------------------------------ persistence
    def _extra_meta(self) -> dict[str, Any]:
        """The fitted members' classes and configs (their arrays are stored under
        ``member{m}_`` prefixes), the selected blend and its validation RMSE."""
        return {
            "members": [_describe(m) for m in self.members],
            "fitted_members": [_describe(m) for m in self.fitted_members_],
            "selected": self.selected_,
            "validation_rmse": self.validation_rmse_,
        }

    @classmethod
    def _from_saved(
        cls, config: Any, meta: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
    ) -> Self:
        """The blend a saved folder describes, members included."""
        model = super()._from_saved(config, meta, arrays)
        return model._restore_members(meta, arrays)

    def _restore_members(self, meta: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> Self:
        """Rebuild the members of a loaded blend from its saved state and arrays."""
        self.members = [_build(entry) for entry in meta["members"]]
        self.fitted_members_ = []
        for m, entry in enumerate(meta["fitted_members"]):
            member = _build(entry)
            prefix = f"state_member{m}_"
            member.interactions_ = self.interactions_
            member.popularity_ = self.popularity_
            member._set_state(
                {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            )
            self.fitted_members_.append(member)
        self.selected_ = meta["selected"]
        self.validation_rmse_ = meta["validation_rmse"]
        self._take_biases()
        return self

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


def _member_weights() -> FloatArray:
    """Weights of the design ``[1, l_u, l_i, r̂, r̂ l_u, r̂ l_i]`` that return ``r̂``."""
    return np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0])


def _ridge(design: FloatArray, actual: FloatArray, ridge: float) -> FloatArray:
    """Ridge weights with an unpenalised intercept (column 0)."""
    penalty = np.full(design.shape[1], ridge)
    penalty[0] = 0.0
    gram = design.T @ design + np.diag(penalty + 1e-9)
    weights: FloatArray = np.linalg.solve(gram, design.T @ actual).astype(np.float64)
    return weights


def _rmse(predicted: FloatArray, actual: FloatArray) -> float:
    return float(np.sqrt(np.mean((predicted - actual) ** 2)))


def _log_support(matrix: sp.csr_matrix) -> tuple[FloatArray, FloatArray]:
    """Centred ``log(1 + ratings)`` of every user and every item."""
    lu = np.log1p(np.diff(matrix.indptr).astype(np.float64))
    li = np.log1p(np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64))
    return lu - lu.mean(), li - li.mean()


_MEMBER_CLASSES: dict[str, type[RatingModel]] = {
    c.__name__: c for c in (BaselinePredictor, KNNBaseline, MatrixFactorization)
}


def _describe(model: RatingModel) -> dict[str, Any]:
    return {"model": type(model).__name__, "config": model.config.to_dict()}


def _build(entry: dict[str, Any]) -> RatingModel:
    member_cls = _MEMBER_CLASSES.get(str(entry["model"]))
    if member_cls is None:
        raise ModelFileError(
            f"unknown blend member {entry['model']!r}; known: {sorted(_MEMBER_CLASSES)}"
        )
    return member_cls(member_cls.config_class.from_dict(entry["config"]))


def _copy(model: Recommender) -> RatingModel:
    if isinstance(model, RatingBlend):
        return RatingBlend(model.members, model.config)
    copy = type(model)(model.config)
    assert isinstance(copy, RatingModel)
    return copy
