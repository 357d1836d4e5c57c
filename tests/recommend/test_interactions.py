"""Interactions: id maps, orientation, duplicate rule, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ColumnNotFoundError, ConfigError, DataValidationError
from chainmall.recommend import Interactions, InteractionsConfig


def test_users_are_rows_and_ids_map_back(ratings: pd.DataFrame) -> None:
    data = Interactions.from_frame(ratings)
    assert data.matrix.shape == (ratings.user_id.nunique(), ratings.item_id.nunique())
    back = data.to_frame().sort_values(["user_id", "item_id"]).reset_index(drop=True)
    expected = ratings.sort_values(["user_id", "item_id"]).reset_index(drop=True)
    assert back.user_id.tolist() == expected.user_id.tolist()
    assert back.item_id.tolist() == expected.item_id.tolist()
    np.testing.assert_allclose(back.value, expected.rating)


def test_lookup_flags_unknown_ids(ratings: pd.DataFrame) -> None:
    data = Interactions.from_frame(ratings)
    idx, known = data.user_index([100, 99999, 101])
    assert known.tolist() == [True, False, True]
    assert data.user_ids[idx[0]] == 100
    _, known_items = data.item_index(["sku0", "nope"])
    assert known_items.tolist() == [True, False]


def test_duplicates_raise_by_default(ratings: pd.DataFrame) -> None:
    doubled = pd.concat([ratings, ratings.head(3)], ignore_index=True)
    with pytest.raises(DataValidationError, match="6 rows sharing a \\(user_id, item_id\\) pair"):
        Interactions.from_frame(doubled)


def test_keep_latest_keeps_latest_and_reports_rejected() -> None:
    ts = pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-03"], utc=True)
    frame = pd.DataFrame(
        {"user_id": [1, 1, 2], "item_id": [5, 5, 5], "rating": [4.0, 2.0, 3.0], "ts": ts}
    )
    data = Interactions.from_frame(frame, duplicates="keep_latest")
    assert data.matrix[0, 0] == 4.0  # the 2024-01-02 row, not the earlier 2.0
    assert data.rejected["row"].tolist() == [1]
    assert data.rejected["reason"].str.contains("duplicate").all()


def test_sum_adds_implicit_counts() -> None:
    frame = pd.DataFrame({"user_id": [1, 1, 1], "item_id": [5, 5, 6]})
    data = Interactions.from_frame(frame, rating_col=None, ts_col=None, duplicates="sum")
    assert data.matrix.toarray().tolist() == [[2.0, 1.0]]
    assert data.rating_range is None


def test_out_of_range_rating_names_rows(ratings: pd.DataFrame) -> None:
    bad = ratings.copy()
    bad.loc[[0, 3], "rating"] = 7.0
    with pytest.raises(DataValidationError, match=r"must lie in \[1.0, 5.0\].*2 rows"):
        Interactions.from_frame(bad)


def test_missing_ids_empty_and_missing_column(ratings: pd.DataFrame) -> None:
    holes = ratings.astype({"user_id": "float64"})
    holes.loc[2, "user_id"] = np.nan
    with pytest.raises(DataValidationError, match="missing values"):
        Interactions.from_frame(holes)
    with pytest.raises(DataValidationError, match="empty"):
        Interactions.from_frame(ratings.iloc[:0])
    with pytest.raises(ColumnNotFoundError, match="did you mean 'ratings'"):
        Interactions.from_frame(ratings.rename(columns={"rating": "ratings"}))


def test_naive_timestamps_and_bad_config_fail(ratings: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="timezone-aware"):
        Interactions.from_frame(ratings.assign(ts=ratings.ts.dt.tz_localize(None)))
    with pytest.raises(ConfigError, match="rating_max"):
        InteractionsConfig(rating_min=5, rating_max=1)
    with pytest.raises(ConfigError, match="did you mean 'duplicates'"):
        InteractionsConfig.from_dict({"duplicate": "raise"})


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(1, 5)), min_size=1, max_size=40
    )
)
def test_keep_latest_leaves_one_cell_per_pair(rows: list[tuple[int, int, int]]) -> None:
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"]).astype({"rating": float})
    frame["ts"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        np.arange(len(frame)), unit="h"
    )
    data = Interactions.from_frame(frame, duplicates="keep_latest")
    pairs = frame.drop_duplicates(["user_id", "item_id"])
    assert data.matrix.nnz == len(pairs)
    assert data.matrix.nnz + len(data.rejected) == len(frame)
    latest = frame.groupby(["user_id", "item_id"]).rating.last()
    for (user, item), rating in latest.items():
        u, _ = data.user_index([user])
        i, _ = data.item_index([item])
        assert data.matrix[u[0], i[0]] == rating


def test_columns_and_legacy_config_fields_give_the_same_canonical_results(
    ratings: pd.DataFrame,
) -> None:
    from chainmall.recommend import EASE

    names = {"user_id": "openid", "item_id": "sku", "rating": "stars", "ts": "at"}
    theirs = ratings.rename(columns=names)
    new = Interactions.from_frame(theirs, columns=names)
    with pytest.warns(FutureWarning, match="columns="):
        old = Interactions.from_frame(
            theirs, user_col="openid", item_col="sku", rating_col="stars", ts_col="at"
        )
    assert (new.matrix != old.matrix).nnz == 0
    np.testing.assert_array_equal(new.user_ids, old.user_ids)
    assert list(new.to_frame().columns) == ["user_id", "item_id", "value"]
    model = EASE(reg=5.0).fit(new)
    pairs = theirs[["openid", "sku"]].head(5)
    scored = model.predict(pairs, columns={"user_id": "openid", "item_id": "sku"})
    with pytest.warns(FutureWarning, match="columns="):
        legacy = model.predict(pairs, user_col="openid", item_col="sku")
    pd.testing.assert_frame_equal(scored, legacy)
    assert list(scored.columns[:2]) == ["user_id", "item_id"]
    assert list(model.recommend(new.user_ids[:2], k=3).columns[:2]) == ["user_id", "item_id"]


def test_unknown_columns_key_lists_the_accepted_keys(ratings: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="accepted keys"):
        Interactions.from_frame(ratings, columns={"user": "user_id"})
