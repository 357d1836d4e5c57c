"""The contract every recommender follows: fit, predict, recommend, similar_items, save/load.

Subclasses implement ``_fit`` (learn from the CSR matrix), ``_score_pairs`` and
``_score_users`` for known ids, and ``_state``/``_set_state`` for persistence.
Unknown users or items never fail: they get a fallback score (bias baseline for
rating models, popularity for implicit ones) and are flagged in the output.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from chainmall._columns import canonical_frame
from chainmall._persist import ParamsMixin, json_values, load_folder, save_folder
from chainmall._progress import logged_fit, progress_bar
from chainmall._storage import reading
from chainmall._validation import Column, check_frame, check_scalar
from chainmall.config import EngineConfig
from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.recommend.config import InteractionsConfig
from chainmall.recommend.interactions import Interactions

__all__ = ["FloatArray", "IntArray", "Recommender", "cosine_scale", "require_interactions"]

logger = logging.getLogger(__name__)
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_BATCH = 256


class Recommender(ParamsMixin, ABC):
    """Base class: stores a config in ``__init__``; learned state ends in ``_``."""

    config_class: ClassVar[type[EngineConfig]]
    rating_model: ClassVar[bool] = False
    """True for models that predict explicit ratings (clipped to the rating range)."""

    def __init__(self, config: EngineConfig | None = None, **overrides: Any) -> None:
        cfg = config if config is not None else self.config_class()
        if not isinstance(cfg, self.config_class):
            raise DataValidationError(
                f"{type(self).__name__} needs a {self.config_class.__name__}, "
                f"got {type(cfg).__name__}"
            )
        self.config = cfg.replace(**overrides) if overrides else cfg

    # ----------------------------------------------------------------- fitting
    _progress: bool = False
    """Whether the fit in progress shows a bar over its iterations (see :meth:`_iterations`)."""

    def fit(self, interactions: Interactions, *, progress: bool = False) -> Self:
        """Learn from ``interactions`` and return ``self``; ``progress`` shows a bar on
        stderr over the iterations of iterative models (ALS, MF)."""
        require_interactions(interactions)
        if self.rating_model and interactions.rating_range is None:
            raise DataValidationError(
                f"{type(self).__name__} predicts ratings but the interactions have no "
                "rating column; set rating_col in InteractionsConfig or use ALS/EASE"
            )
        matrix = interactions.matrix
        sizes = {"users": matrix.shape[0], "items": matrix.shape[1], "interactions": matrix.nnz}
        with logged_fit(logger, type(self).__name__, **sizes):
            self._set_data(interactions)
            self._progress = bool(progress)
            try:
                self._fit(interactions.matrix)
            finally:
                del self._progress
        return self

    def _iterations(self, n: int) -> Iterator[int]:
        """``range(n)`` for a fit's iteration loop, with a bar when ``fit(progress=True)``
        and a DEBUG line per iteration."""
        name = type(self).__name__
        with progress_bar(n, enabled=self._progress, desc=name) as bar:
            for step in range(n):
                yield step
                logger.debug("%s: iteration %d/%d done", name, step + 1, n)
                bar.update()

    def _set_data(self, interactions: Interactions) -> None:
        """Keep the training data and each item's share of users who interacted with it."""
        self.interactions_ = interactions
        matrix = interactions.matrix
        self.popularity_: FloatArray = np.bincount(
            matrix.indices, minlength=matrix.shape[1]
        ).astype(np.float64) / max(matrix.shape[0], 1)

    @abstractmethod
    def _fit(self, matrix: sp.csr_matrix) -> None: ...

    @abstractmethod
    def _score_pairs(self, users: IntArray, items: IntArray) -> FloatArray: ...

    @abstractmethod
    def _score_users(self, users: IntArray) -> FloatArray: ...

    @abstractmethod
    def _state(self) -> dict[str, npt.NDArray[Any]]: ...

    @abstractmethod
    def _set_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None: ...

    def _fallback_pairs(
        self,
        users: IntArray,
        items: IntArray,
        user_known: npt.NDArray[np.bool_],
        item_known: npt.NDArray[np.bool_],
    ) -> FloatArray:
        """Scores for pairs with an unknown user or item: item popularity, else 0."""
        return np.where(item_known, self.popularity_[items], 0.0)

    def _fallback_user_scores(self) -> FloatArray:
        """Scores of every item for an unknown user: popularity."""
        return self.popularity_

    def _item_similarity(self, items: IntArray) -> FloatArray:
        """Cosine similarity of ``items`` to every item (co-occurrence by default)."""
        vectors = self.interactions_.matrix.T.tocsr().astype(bool).astype(np.float64)
        norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
        sims = np.asarray((vectors[items] @ vectors.T).todense())
        return cosine_scale(sims, norms[items], norms)

    # ------------------------------------------------------------ public API
    def _check_fitted(self) -> Interactions:
        if not hasattr(self, "interactions_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet; call fit(interactions) first"
            )
        return self.interactions_

    def predict(
        self,
        pairs: pd.DataFrame,
        *,
        columns: Mapping[str, str] | None = None,
        user_col: str | None = None,
        item_col: str | None = None,
    ) -> pd.DataFrame:
        """Score each (user, item) row of ``pairs``.

        ``pairs`` holds ``user_id`` and ``item_id`` (``columns={canonical: yours}``
        names yours; ``user_col``/``item_col`` are deprecated).
        Returns ``[user_id, item_id, prediction, user_known, item_known]``; a
        pair with an unknown user or item gets the fallback score and
        ``False`` in the matching flag. Rating models clip to the rating range.
        """
        data = self._check_fitted()
        pairs = canonical_frame(
            pairs,
            {**data.config.legacy_names(("user_id", "item_id")), **dict(columns or {})},
            accepted=("user_id", "item_id"),
            name="pairs",
            legacy={"user_col": ("user_id", user_col), "item_col": ("item_id", item_col)},
        )
        ucol, icol = "user_id", "item_id"
        pairs = check_frame(
            pairs, (Column(ucol, "id"), Column(icol, "id")), name="pairs", allow_empty=True
        )
        users, user_known = data.user_index(pairs[ucol].to_numpy())
        items, item_known = data.item_index(pairs[icol].to_numpy())
        both = user_known & item_known
        scores = self._fallback_pairs(users, items, user_known, item_known)
        if both.any():
            scores[both] = self._score_pairs(users[both], items[both])
        if self.rating_model and data.rating_range is not None:
            scores = np.clip(scores, *data.rating_range)
        return pd.DataFrame(
            {
                ucol: pairs[ucol].to_numpy(),
                icol: pairs[icol].to_numpy(),
                "prediction": scores,
                "user_known": user_known,
                "item_known": item_known,
            }
        )

    def score_items(self, users: Any) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Score matrix ``(len(users), n_items)`` (columns follow ``interactions_.item_ids``)
        and a flag per user saying whether it was known (unknown rows hold the fallback)."""
        data = self._check_fitted()
        index, known = data.user_index(_ids(users, "users"))
        scores = np.empty((len(index), data.n_items))
        scores[~known] = self._fallback_user_scores()
        rows = np.flatnonzero(known)
        for start in range(0, len(rows), _BATCH):
            chunk = rows[start : start + _BATCH]
            scores[chunk] = self._score_users(index[chunk])
        return scores, known

    def recommend(
        self,
        users: Any,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        items: Any = None,
        exclude_items: Any = None,
    ) -> pd.DataFrame:
        """Top-``k`` items per user: ``[user_id, item_id, score, rank, user_known]``.

        ``rank`` starts at 1. ``exclude_seen`` drops items the user interacted
        with in the training data. ``items`` (an allow list, e.g. what is in
        stock) restricts the candidates to those ids; ``exclude_items`` (a deny
        list, e.g. hidden or sold-out items) removes ids. Both apply before the
        top ``k`` are taken, so a user still gets ``k`` items when ``k`` allowed
        ones remain; ids the model does not know are ignored. Unknown users get
        the most popular allowed items.
        """
        data = self._check_fitted()
        k = check_scalar(k, "k", "count", ge=1)
        check_scalar(exclude_seen, "exclude_seen", "flag")
        allowed = self._candidate_mask(data, items, exclude_items)
        user_values = _ids(users, "users")
        index, known = data.user_index(user_values)
        frames = []
        for start in range(0, len(user_values), _BATCH):
            sl = slice(start, start + _BATCH)
            scores, _ = self.score_items(user_values[sl])
            scores[:, ~allowed] = -np.inf
            if exclude_seen:
                seen = data.matrix[index[sl]].tocoo()
                mask = known[sl][seen.row]
                scores[seen.row[mask], seen.col[mask]] = -np.inf
            frames.append(_top_k(scores, k, user_values[sl], known[sl], data))
        if not frames:
            return _top_k(np.empty((0, data.n_items)), k, user_values, known, data)
        return pd.concat(frames, ignore_index=True)

    @staticmethod
    def _candidate_mask(
        data: Interactions, items: Any, exclude_items: Any
    ) -> npt.NDArray[np.bool_]:
        """Which of the model's items may be recommended under the allow/deny lists."""
        allowed = np.ones(data.n_items, dtype=bool)
        for name, ids, keep in (("items", items, True), ("exclude_items", exclude_items, False)):
            if ids is None:
                continue
            values = np.asarray(list(ids) if isinstance(ids, set | frozenset) else ids)
            if isinstance(ids, str | bytes) or values.ndim != 1:
                raise DataValidationError(
                    f"{name} must be a one-dimensional list of item ids, got {type(ids).__name__}"
                    f"; wrap a single id in a list: {name}=[...]"
                )
            index, known = data.item_index(values)
            listed = np.zeros(data.n_items, dtype=bool)
            listed[index[known]] = True
            allowed &= listed if keep else ~listed
        return allowed

    def similar_items(self, items: Any, k: int = 10) -> pd.DataFrame:
        """The ``k`` most similar items to each of ``items``:
        ``[item_id, similar_item_id, score, rank]``; unknown items raise."""
        data = self._check_fitted()
        k = check_scalar(k, "k", "count", ge=1)
        items = _ids(items, "items")
        index, known = data.item_index(items)
        if not known.all():
            missing = np.asarray(items)[~known][:5].tolist()
            raise DataValidationError(
                f"similar_items: {int((~known).sum())} unknown item id(s), e.g. {missing}; "
                "only items seen in fit have neighbours"
            )
        sims = self._item_similarity(index)
        sims[np.arange(len(index)), index] = -np.inf
        kk = min(k, data.n_items - 1)
        top = _top_columns(sims, kk)
        icol = "item_id"
        return pd.DataFrame(
            {
                icol: np.repeat(np.asarray(items), kk),
                f"similar_{icol}": data.item_ids[top.ravel()],
                "score": np.take_along_axis(sims, top, axis=1).ravel(),
                "rank": np.tile(np.arange(1, kk + 1), len(index)),
            }
        )

    # ------------------------------------------------------------ persistence
    def _extra_meta(self) -> dict[str, Any]:
        """Model-specific entries of the saved state (none by default)."""
        return {}

    def save(self, path: str | Path) -> Path:
        """Save to folder ``path`` (:mod:`chainmall._persist`: ``manifest.json`` +
        ``arrays.npz``, no pickle); returns the folder."""
        data = self._check_fitted()
        state = {
            "interactions_config": data.config.to_dict(),
            "rating_range": list(data.rating_range) if data.rating_range else None,
            "user_ids": json_values(data.user_ids),
            "item_ids": json_values(data.item_ids),
            **self._extra_meta(),
        }
        arrays = {
            "matrix_indptr": data.matrix.indptr,
            "matrix_indices": data.matrix.indices,
            "matrix_data": data.matrix.data,
            "popularity": self.popularity_,
            **{f"state_{k}": v for k, v in self._state().items()},
        }
        if data.ts_matrix is not None:  # same sparsity as the matrix: the values suffice
            arrays["matrix_ts"] = data.ts_matrix.data
        return save_folder(path, self, config=self.config, state=state, arrays=arrays)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a model saved by :meth:`save` (hashes and class checked, no pickle).

        Raises:
            ModelFileError: the folder is incomplete, changed, corrupt or holds another model.
        """
        saved = load_folder(path, cls)
        with reading(path):
            return cls._from_saved(saved.config, saved.state, saved.arrays())

    @classmethod
    def _from_saved(
        cls, config: Any, meta: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
    ) -> Self:
        """The model described by a saved config, state and arrays."""
        model = cls(cls.config_class.from_dict(config))
        user_ids, item_ids = np.asarray(meta["user_ids"]), np.asarray(meta["item_ids"])
        matrix = sp.csr_matrix(
            (arrays["matrix_data"], arrays["matrix_indices"], arrays["matrix_indptr"]),
            shape=(len(user_ids), len(item_ids)),
        )
        rating_range = (
            (float(meta["rating_range"][0]), float(meta["rating_range"][1]))
            if meta["rating_range"]
            else None
        )
        ts_matrix = None
        if "matrix_ts" in arrays:
            ts_matrix = sp.csr_matrix(
                (arrays["matrix_ts"], matrix.indices, matrix.indptr), shape=matrix.shape
            )
        model.interactions_ = Interactions(
            matrix,
            user_ids,
            item_ids,
            rating_range,
            InteractionsConfig.from_dict(meta["interactions_config"]),
            ts_matrix=ts_matrix,
        )
        model.popularity_ = arrays["popularity"]
        model._set_state({k[6:]: v for k, v in arrays.items() if k.startswith("state_")})
        return model


def _ids(values: Any, name: str) -> npt.NDArray[Any]:
    """A one-dimensional array of ids (a single id must be wrapped in a list)."""
    array = np.asarray(list(values) if isinstance(values, set | frozenset) else values)
    if isinstance(values, str | bytes) or array.ndim != 1:
        raise DataValidationError(
            f"{name} must be a one-dimensional list of ids, got {type(values).__name__}; "
            f"wrap a single id in a list: {name}=[...]"
        )
    if array.dtype == object and pd.isna(array).any():
        raise DataValidationError(
            f"{name} holds missing ids at positions {np.flatnonzero(pd.isna(array))[:5].tolist()}"
        )
    return array


def require_interactions(obj: object) -> Interactions:
    """``obj`` if it is an :class:`Interactions`, else a clear error."""
    if not isinstance(obj, Interactions):
        raise DataValidationError(
            f"fit needs an Interactions, got {type(obj).__name__}; "
            "build one with Interactions.from_frame(frame)"
        )
    return obj


def cosine_scale(dots: FloatArray, left: FloatArray, right: FloatArray) -> FloatArray:
    denom = np.outer(left, right)
    return np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)


def _top_columns(scores: FloatArray, k: int) -> IntArray:
    """Column indices of the ``k`` largest values per row, best first."""
    if k <= 0 or scores.shape[1] == 0:
        return np.empty((scores.shape[0], 0), dtype=np.int64)
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1).astype(np.int64)


def _top_k(
    scores: FloatArray,
    k: int,
    users: npt.NDArray[Any],
    known: npt.NDArray[np.bool_],
    data: Interactions,
) -> pd.DataFrame:
    top = _top_columns(scores, k)
    top_scores = np.take_along_axis(scores, top, axis=1)
    keep = np.isfinite(top_scores)  # fewer than k unseen items left
    n = top.shape[1]
    return pd.DataFrame(
        {
            "user_id": np.repeat(users, n)[keep.ravel()],
            "item_id": data.item_ids[top.ravel()][keep.ravel()],
            "score": top_scores.ravel()[keep.ravel()],
            "rank": np.tile(np.arange(1, n + 1), len(users))[keep.ravel()],
            "user_known": np.repeat(known, n)[keep.ravel()],
        }
    )
