"""Simulated users for slate recommendation: user split, visible history, hidden truth.

Protocol (see ``docs/recommend_rl.md``): users are split train/validation/test
(seeded). For every user the first ``n_visible`` ratings by time are the
*visible history*; the rest are *hidden* and only the simulator reads them.
Agents may learn from :meth:`SimulationData.logged` — every rating of the train
users and the visible history of the others — never from hidden ratings of
validation or test users.

Click models (what makes a shown item clicked):

* ``"logged"`` (S1): the user's hidden rating is ``>= click_threshold``;
  an item the user never rated is not clicked.
* ``"restricted"`` (S2): as S1, but only the user's hidden rated items may be
  shown (the candidate set is the hidden rated items).
* ``"model_based"`` (S3): unknown ratings are filled by a
  :class:`~chainmall.recommend.MatrixFactorization` fitted on all ratings (the
  simulator's private model; agents never see it), then thresholded.

Optional behavioural effects turn the 0/1 relevance into a probability:
``fatigue`` multiplies it by ``(1 − fatigue)^step`` and ``novelty`` by
``(1 − novelty)`` for head items (the most popular items making up
``head_share`` of the logged ratings), which users already know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from pydantic import Field, model_validator

from chainmall._validation import check_array, check_frame
from chainmall.config import EngineConfig
from chainmall.exceptions import DataValidationError
from chainmall.recommend._base import FloatArray, IntArray
from chainmall.recommend.config import InteractionsConfig, MFConfig
from chainmall.recommend.interactions import Interactions
from chainmall.recommend.mf import MatrixFactorization

__all__ = ["SimulationData", "SimulatorConfig", "Split", "build_simulation"]

Split = Literal["train", "validation", "test"]
BoolArray = npt.NDArray[np.bool_]


class SimulatorConfig(EngineConfig):
    """How simulated users are built from a ratings frame and how they click."""

    click_model: Literal["logged", "restricted", "model_based"] = Field(
        "logged",
        description="S1 'logged': click = hidden rating >= threshold, unrated = no click; "
        "S2 'restricted': candidates are the user's hidden rated items; S3 'model_based': "
        "unknown ratings filled by a private matrix factorisation",
    )
    n_steps: int = Field(10, ge=1, description="slates per episode (count)")
    slate_size: int = Field(10, ge=1, description="items per slate (count)")
    n_visible: int = Field(
        10, ge=1, description="first ratings by time that form the visible history (count)"
    )
    click_threshold: float = Field(4.0, description="hidden rating that makes a click (rating)")
    train_fraction: float = Field(0.6, gt=0, lt=1, description="share of users for training")
    validation_fraction: float = Field(
        0.2, ge=0, lt=1, description="share of users for validation (the rest is test)"
    )
    split_seed: int = Field(0, description="seed of the user split")
    fatigue: float = Field(
        0.0, ge=0, lt=1, description="click probability shrinks by (1 - fatigue)^step"
    )
    novelty: float = Field(
        0.0, ge=0, le=1, description="click probability of head items shrinks by (1 - novelty)"
    )
    head_share: float = Field(
        0.2, gt=0, lt=1, description="head items: most popular items holding this share of ratings"
    )
    columns: InteractionsConfig = Field(
        default_factory=lambda: InteractionsConfig(duplicates="keep_latest"),
        description="column names, rating range and duplicate rule of the ratings frame",
    )
    fill_model: MFConfig = Field(
        default_factory=MFConfig, description="matrix factorisation that fills S3 ratings"
    )

    @model_validator(mode="after")
    def _check_split(self) -> Self:
        if self.train_fraction + self.validation_fraction >= 1:
            raise ValueError(
                f"train_fraction + validation_fraction = "
                f"{self.train_fraction + self.validation_fraction} leaves no test users; "
                "keep their sum below 1"
            )
        if self.columns.rating_col is None or self.columns.ts_col is None:
            raise ValueError("the simulator needs a rating column and a timestamp column")
        return self


@dataclass(frozen=True, eq=False)
class SimulationData:
    """Every rating, split into what agents may see and what only the simulator reads.

    Build it with :func:`build_simulation`. ``ratings`` and ``visible`` are
    user×item CSR matrices over ``user_ids`` × ``item_ids``.
    """

    config: SimulatorConfig
    user_ids: npt.NDArray[Any]
    item_ids: npt.NDArray[Any]
    ratings: sp.csr_matrix
    """All ratings: private to the simulator."""
    visible: sp.csr_matrix
    """The first ``n_visible`` ratings by time of every user."""
    splits: dict[str, IntArray]
    """Row indices of the users of each split ("train", "validation", "test")."""
    head: BoolArray
    """Items in the popularity head (used by the ``novelty`` effect)."""
    filled: FloatArray | None
    """S3 only: every user's MF-filled ratings (private to the simulator)."""

    @property
    def n_items(self) -> int:
        """Number of items in the catalogue."""
        return len(self.item_ids)

    def users(self, split: Split | IntArray) -> IntArray:
        """Row indices of a split's users (an index array passes through)."""
        if isinstance(split, str):
            if split not in self.splits:
                raise DataValidationError(
                    f"unknown split {split!r}; use one of {sorted(self.splits)}"
                )
            return self.splits[split]
        index = check_array(split, "users", "count", ge=0, lt=len(self.user_ids))
        return np.asarray(index, dtype=np.int64)

    def logged(self) -> Interactions:
        """What agents may learn from: train users' ratings + everyone's visible history.

        Rows and columns cover every user and item (an item seen only in hidden
        ratings has an empty column), so indices match the simulator's.
        """
        is_train = np.zeros(len(self.user_ids), dtype=bool)
        is_train[self.splits["train"]] = True
        train_rows = sp.diags(is_train.astype(np.float64)) @ self.ratings
        other_rows = sp.diags((~is_train).astype(np.float64)) @ self.visible
        matrix = sp.csr_matrix(train_rows + other_rows)
        matrix.eliminate_zeros()
        matrix.sort_indices()
        cols = self.config.columns
        return Interactions(
            matrix, self.user_ids, self.item_ids, (cols.rating_min, cols.rating_max), cols
        )

    def hidden(self, users: IntArray) -> sp.csr_matrix:
        """Hidden ratings of ``users`` (simulator only)."""
        rows: sp.csr_matrix = self.ratings[users] - self.visible[users]
        rows.eliminate_zeros()
        return rows

    def relevance(self, users: IntArray) -> tuple[FloatArray, BoolArray]:
        """Click probability before fatigue/novelty and the candidate mask, per user×item."""
        cfg = self.config
        visible = self.visible[users].toarray() > 0
        hidden = self.hidden(users).toarray()
        if cfg.click_model == "model_based":
            assert self.filled is not None
            truth = np.where(hidden > 0, hidden, self.filled[users])
            truth[visible] = 0.0
            candidates = ~visible
        else:
            truth = hidden
            candidates = hidden > 0 if cfg.click_model == "restricted" else ~visible
        return (truth >= cfg.click_threshold).astype(np.float64), candidates


def build_simulation(frame: pd.DataFrame, config: SimulatorConfig | None = None) -> SimulationData:
    """Validate a ratings frame and split it into users, visible history and hidden truth."""
    cfg = config or SimulatorConfig()
    check_frame(frame, (), name="frame")
    data = Interactions.from_frame(frame, cfg.columns)
    assert data.ts_matrix is not None
    visible = _first_by_time(data.matrix, data.ts_matrix, cfg.n_visible)
    rng = np.random.default_rng(cfg.split_seed)
    order = rng.permutation(data.n_users)
    n_train = round(cfg.train_fraction * data.n_users)
    n_val = round(cfg.validation_fraction * data.n_users)
    if n_train == 0 or data.n_users - n_train - n_val <= 0:
        raise DataValidationError(
            f"{data.n_users} user(s) cannot be split into train/validation/test with "
            f"fractions {cfg.train_fraction}/{cfg.validation_fraction}; pass more users"
        )
    splits = {
        "train": np.sort(order[:n_train]).astype(np.int64),
        "validation": np.sort(order[n_train : n_train + n_val]).astype(np.int64),
        "test": np.sort(order[n_train + n_val :]).astype(np.int64),
    }
    counts = np.bincount(data.matrix.indices, minlength=data.n_items).astype(np.float64)
    ranked = np.argsort(-counts, kind="stable")
    cumulative = np.cumsum(counts[ranked]) / max(counts.sum(), 1.0)
    head = np.zeros(data.n_items, dtype=bool)
    head[ranked[(cumulative - counts[ranked] / max(counts.sum(), 1.0)) < cfg.head_share]] = True
    filled = None
    if cfg.click_model == "model_based":
        model = MatrixFactorization(cfg.fill_model).fit(data)
        filled, _ = model.score_items(data.user_ids)
    return SimulationData(
        cfg, data.user_ids, data.item_ids, data.matrix, visible, splits, head, filled
    )


def _first_by_time(matrix: sp.csr_matrix, ts: sp.csr_matrix, n_first: int) -> sp.csr_matrix:
    """Each row's ``n_first`` earliest cells (ties: lower item index first)."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, ts.data, rows))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - matrix.indptr[rows[order]]
    keep = rank < n_first
    out = sp.csr_matrix((matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape)
    out.sort_indices()
    return out
