"""Reproducible evaluation protocols: seeded k-fold, leave-last-out by time, ranking.

* :func:`kfold_splits` — ``KFold(n_splits, shuffle=True, random_state=seed)``
  over the rows (the rating-prediction protocol of the benchmarks).
* :func:`leave_last_out` — per user, rows are put in time order (ties: input
  order). Positives are rows with ``rating >= min_rating``. The last positive is
  the test row, the one before it the validation row. ``train`` holds each
  user's rows before the validation row; ``train_full`` those before the test
  row (so it includes the validation row). Nothing after a user's test row is
  used. Users with fewer than two positives keep all rows in both training sets.
* :func:`rank_holdout` — 0-based rank of each held-out item among all items the
  user has not interacted with in training (full ranking), or among
  ``n_negatives`` sampled such items (sampled ranking). Ties count against the
  held-out item by half (mid-rank), so constant scores give no free hits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.model_selection import KFold

from chainmall._columns import canonical_frame
from chainmall._validation import Column, check_frame, check_scalar, require_frame
from chainmall.recommend._base import Recommender

__all__ = ["LeaveLastOut", "kfold_splits", "leave_last_out", "rank_holdout"]


def kfold_splits(
    frame: pd.DataFrame, n_splits: int = 5, *, seed: int = 0
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield ``(train, test)`` row splits of ``frame`` (seeded, shuffled k-fold)."""
    frame = require_frame(frame, "frame")
    check_scalar(n_splits, "n_splits", "count", ge=2, le=max(len(frame), 2))
    check_scalar(seed, "seed", "count", ge=0, le=2**32 - 1)
    folds = KFold(n_splits, shuffle=True, random_state=seed)
    for train, test in folds.split(np.arange(len(frame))):
        yield frame.iloc[train], frame.iloc[test]


@dataclass(frozen=True)
class LeaveLastOut:
    """The four parts of a leave-last-out split (frames keep the input's columns)."""

    train: pd.DataFrame
    validation: pd.DataFrame
    train_full: pd.DataFrame
    test: pd.DataFrame


def leave_last_out(
    frame: pd.DataFrame,
    *,
    min_rating: float = 4.0,
    columns: Mapping[str, str] | None = None,
    user_col: str | None = None,
    rating_col: str | None = None,
    ts_col: str | None = None,
) -> LeaveLastOut:
    """Split each user's history by time: last positive = test, previous = validation.

    ``frame`` holds ``user_id``, ``rating`` and ``ts`` (``columns={canonical: yours}``
    names yours; ``user_col``/``rating_col``/``ts_col`` are deprecated); the four
    frames returned carry the canonical names.

    Raises:
        DataValidationError: a missing or unhashable user id, a rating that is not a
            finite number >= 0, a timestamp that is missing, naive, text or in mixed
            zones, or an empty frame.
    """
    frame = canonical_frame(
        frame,
        columns,
        accepted=("user_id", "item_id", "rating", "ts"),
        name="frame",
        legacy={
            "user_col": ("user_id", user_col),
            "rating_col": ("rating", rating_col),
            "ts_col": ("ts", ts_col),
        },
    )
    user_col, rating_col, ts_col = "user_id", "rating", "ts"
    check_frame(
        frame,
        (
            Column(user_col, "id", one_type=True),
            Column(rating_col, "number", ge=0),
            Column(ts_col, "time"),
        ),
        name="frame",
        id_column=user_col,
    )
    min_rating = check_scalar(min_rating, "min_rating", "number")
    order = np.lexsort(
        (np.arange(len(frame)), frame[ts_col].to_numpy(), frame[user_col].to_numpy())
    )
    data = frame.iloc[order]
    positive = (data[rating_col] >= min_rating).to_numpy()
    users = data[user_col].to_numpy()
    pos_rank_from_end = (
        pd.Series(positive[::-1].astype(np.int64)).groupby(users[::-1]).cumsum().to_numpy()[::-1]
    )  # number of positives at or after each row
    n_pos = pd.Series(positive).groupby(users).transform("sum").to_numpy()
    evaluated = n_pos >= 2
    is_test = evaluated & positive & (pos_rank_from_end == 1)
    is_val = evaluated & positive & (pos_rank_from_end == 2)
    after_val = evaluated & ((pos_rank_from_end < 2) | is_val)
    after_test = evaluated & ((pos_rank_from_end < 1) | is_test)
    return LeaveLastOut(
        train=data[~after_val],
        validation=data[is_val],
        train_full=data[~after_test],
        test=data[is_test],
    )


def rank_holdout(
    model: Recommender,
    holdout: pd.DataFrame,
    *,
    n_negatives: int | None = None,
    seed: int = 0,
    columns: Mapping[str, str] | None = None,
    user_col: str | None = None,
    item_col: str | None = None,
) -> npt.NDArray[np.float64]:
    """0-based rank of each holdout row's item for its user (one row per user).

    Items the user interacted with in the model's training data are excluded
    from the candidates. Unknown held-out items rank last. With
    ``n_negatives``, candidates are that many unseen items sampled per user
    (seeded) plus the held-out item. ``holdout`` holds ``user_id`` and ``item_id``
    (``columns={canonical: yours}``; ``user_col``/``item_col`` are deprecated).
    """
    data = model._check_fitted()
    holdout = canonical_frame(
        holdout,
        {**data.config.legacy_names(("user_id", "item_id")), **dict(columns or {})},
        accepted=("user_id", "item_id"),
        name="holdout",
        legacy={"user_col": ("user_id", user_col), "item_col": ("item_id", item_col)},
    )
    ucol, icol = "user_id", "item_id"
    check_frame(
        holdout,
        (Column(ucol, "id", unique=True), Column(icol, "id")),
        name="holdout",
        id_column=ucol,
    )
    check_scalar(n_negatives, "n_negatives", "count", ge=1, le=data.n_items, allow_none=True)
    seed = check_scalar(seed, "seed", "count", ge=0)
    scores, _ = model.score_items(holdout[ucol].to_numpy())
    users, user_known = data.user_index(holdout[ucol].to_numpy())
    items, item_known = data.item_index(holdout[icol].to_numpy())
    seen = data.matrix[users].tocoo()
    keep = user_known[seen.row]
    scores[seen.row[keep], seen.col[keep]] = -np.inf
    rows = np.arange(len(items))
    target = np.where(item_known, scores[rows, items], -np.inf)
    scores[rows[item_known], items[item_known]] = -np.inf  # the target is not its own rival
    if n_negatives is None:
        above = (scores > target[:, None]).sum(axis=1)
        ties = (scores == target[:, None]).sum(axis=1)
        n_candidates = np.isfinite(scores).sum(axis=1) + 1
        ranks = above + 0.5 * ties
        full: npt.NDArray[np.float64] = np.where(item_known, ranks, n_candidates - 1)
        return full.astype(np.float64)
    rng = np.random.default_rng(seed)
    noise = rng.random(scores.shape)
    noise[~np.isfinite(scores)] = np.inf  # seen items are never drawn
    sampled = np.argpartition(noise, n_negatives - 1, axis=1)[:, :n_negatives]
    rivals = np.take_along_axis(scores, sampled, axis=1)
    ranks = (rivals > target[:, None]).sum(axis=1) + 0.5 * (rivals == target[:, None]).sum(axis=1)
    return np.where(item_known, ranks, n_negatives).astype(np.float64)
