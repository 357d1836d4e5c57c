"""EASE.partial_fit equals a refit on the merged data; Interactions.extend equals from_frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.recommend import EASE, Interactions
from chainmall.recommend._incremental import gram_inverse, updated_gram_inverse

TOLERANCE = 1e-9
"""Largest allowed gap between partial_fit and refit item weights (float64 round-off)."""


def implicit(frame: pd.DataFrame, **overrides: object) -> Interactions:
    return Interactions.from_frame(frame, rating_col=None, **overrides)  # type: ignore[arg-type]


def assert_same_model(updated: EASE, refit: EASE, users: list[object]) -> None:
    a, b = updated.interactions_, refit.interactions_
    np.testing.assert_array_equal(a.user_ids, b.user_ids)
    np.testing.assert_array_equal(a.item_ids, b.item_ids)
    assert (a.matrix != b.matrix).nnz == 0
    np.testing.assert_allclose(updated.item_weights_, refit.item_weights_, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(updated.popularity_, refit.popularity_)
    scores, _ = updated.score_items(users)
    np.testing.assert_allclose(scores, refit.score_items(users)[0], atol=TOLERANCE)
    # the same lists up to the order of tied items (ties break on round-off)
    got, want = updated.recommend(users, k=5), refit.recommend(users, k=5)
    pd.testing.assert_frame_equal(got[["user_id", "rank"]], want[["user_id", "rank"]])
    np.testing.assert_allclose(got.score, want.score, atol=TOLERANCE)


@pytest.mark.parametrize("half_life", [None, 3.0])
def test_new_users_items_and_rows_equal_a_refit(ratings: pd.DataFrame, half_life) -> None:  # type: ignore[no-untyped-def]
    ordered = ratings.sort_values("ts", kind="stable")
    base, later = ordered.iloc[: len(ordered) // 2], ordered.iloc[len(ordered) // 2 :]
    new_user = pd.DataFrame(
        {"user_id": [999, 999], "item_id": ["sku1", "brand-new"], "rating": [5.0, 4.0]}
    ).assign(ts=ordered.ts.max() + pd.Timedelta(1, "h"))
    update = pd.concat([later, new_user], ignore_index=True)
    model = EASE(reg=5.0, recency_half_life=half_life).fit(implicit(base))
    assert model.partial_fit(update) is model
    refit = EASE(reg=5.0, recency_half_life=half_life).fit(implicit(pd.concat([base, update])))
    assert "brand-new" in model.interactions_.item_ids
    assert_same_model(model, refit, [100, 101, 999, 12345])


def test_daily_batches_stay_equal_to_a_refit(rating_factory) -> None:  # type: ignore[no-untyped-def]
    frame = rating_factory(n_users=60, n_items=50, density=0.2, seed=4).sort_values("ts")
    chunks = np.array_split(np.arange(len(frame)), 12)
    model = EASE(reg=3.0).fit(implicit(frame.iloc[chunks[0]]))
    for chunk in chunks[1:]:
        model.partial_fit(frame.iloc[chunk])
    refit = EASE(reg=3.0).fit(implicit(frame))
    assert_same_model(model, refit, frame.user_id.unique()[:10].tolist())


def test_both_low_rank_forms_and_the_fresh_inverse_match() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items = 40, 30
    dense = rng.random((n_users, n_items)) < 0.3
    dense[:, 0] = True
    u, i = np.nonzero(dense)
    frame = pd.DataFrame({"user_id": u, "item_id": i})
    old = Interactions.from_frame(frame[frame.user_id >= 3], rating_col=None, ts_col=None)
    inverse = gram_inverse(old.matrix, 2.0)
    # by users: one heavy user touches every item; by items: many users, two items
    heavy = pd.DataFrame({"user_id": [0] * n_items, "item_id": np.arange(n_items)})
    light = pd.DataFrame({"user_id": np.arange(100, 140), "item_id": [1, 2] * 20})
    copies = frame.assign(user_id=frame.user_id + 1000)  # touches all: a fresh inverse
    for update in (heavy, light, frame[frame.user_id < 3], copies):
        new = old.extend(update)
        users, _ = new.user_index(update.user_id.unique())
        got = updated_gram_inverse(inverse, old, new, users, 2.0)
        np.testing.assert_allclose(got, gram_inverse(new.matrix, 2.0), atol=1e-12)


def test_an_update_of_known_cells_changes_nothing_under_sum_rules() -> None:
    frame = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [5, 6, 5]})
    model = EASE(reg=1.0).fit(implicit(frame, ts_col=None, duplicates="sum"))
    before = model.item_weights_.copy()
    model.partial_fit(frame.head(1))  # the count grows, the binary pattern does not
    np.testing.assert_allclose(model.item_weights_, before, atol=TOLERANCE)
    assert model.interactions_.matrix[0, 0] == 2.0


def test_partial_fit_needs_a_fit_and_follows_the_duplicate_rule(ratings: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError):
        EASE().partial_fit(ratings)
    model = EASE().fit(implicit(ratings))
    with pytest.raises(DataValidationError, match="sharing a"):
        model.partial_fit(ratings.head(2))
    with pytest.raises(DataValidationError, match="missing column"):
        model.partial_fit(ratings.drop(columns="ts"))


def test_saved_model_keeps_timestamps_and_updates_like_the_original(
    ratings: pd.DataFrame, tmp_path: Path
) -> None:
    ordered = ratings.sort_values("ts", kind="stable")
    base, later = ordered.iloc[:200], ordered.iloc[200:]
    model = EASE(reg=5.0, recency_half_life=4.0).fit(implicit(base))
    loaded = EASE.load(model.save(tmp_path / "ease"))
    assert loaded.interactions_.ts_matrix is not None
    model.partial_fit(later)
    loaded.partial_fit(later)
    np.testing.assert_allclose(loaded.item_weights_, model.item_weights_, atol=TOLERANCE)


frames = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 9), st.integers(0, 50)), min_size=2, max_size=40
)


@settings(max_examples=40, deadline=None)
@given(frames, st.integers(1, 39), st.sampled_from(["keep_latest", "sum"]))
def test_any_split_into_fit_and_update_equals_a_refit(
    rows: list[tuple[int, int, int]], cut: int, rule: str
) -> None:
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "hour"])
    frame["ts"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(frame.hour, unit="h")
    cut = min(cut, len(frame) - 1)
    base, update = frame.iloc[:cut], frame.iloc[cut:]
    model = EASE(reg=2.0, recency_half_life=2.0).fit(implicit(base, duplicates=rule))
    model.partial_fit(update)
    refit = EASE(reg=2.0, recency_half_life=2.0).fit(implicit(frame, duplicates=rule))
    assert_same_model(model, refit, frame.user_id.unique().tolist())


@settings(max_examples=40, deadline=None)
@given(frames, st.integers(1, 39), st.sampled_from(["keep_latest", "sum"]))
def test_extend_equals_from_frame_on_the_concatenation(
    rows: list[tuple[int, int, int]], cut: int, rule: str
) -> None:
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])
    frame["rating"] = frame.rating % 5 + 1.0
    frame["ts"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        np.arange(len(frame)) % 7, unit="h"
    )  # ties in time on purpose
    cut = min(cut, len(frame) - 1)
    extended = Interactions.from_frame(frame.iloc[:cut], duplicates=rule).extend(frame.iloc[cut:])
    whole = Interactions.from_frame(frame, duplicates=rule)
    np.testing.assert_array_equal(extended.user_ids, whole.user_ids)
    np.testing.assert_array_equal(extended.item_ids, whole.item_ids)
    np.testing.assert_allclose(extended.matrix.toarray(), whole.matrix.toarray())
    assert extended.ts_matrix is not None and whole.ts_matrix is not None
    np.testing.assert_allclose(extended.ts_matrix.toarray(), whole.ts_matrix.toarray())
    assert (extended.rejected["row"] >= 0).all()
    assert extended.matrix.nnz + len(extended.rejected) <= len(frame)


def test_extend_keeps_catalogue_items_without_interactions(ratings: pd.DataFrame) -> None:
    data = Interactions.from_frame(ratings).with_items(["shelf-only"])
    assert data.matrix[:, data.item_index(["shelf-only"])[0][0]].nnz == 0
    more = data.extend(ratings.head(0))
    assert "shelf-only" in more.item_ids
    np.testing.assert_array_equal(more.item_ids, data.item_ids)
