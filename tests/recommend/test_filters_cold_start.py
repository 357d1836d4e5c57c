"""Allow/deny lists at recommend time, and EASE cold start from item features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ColumnNotFoundError, DataValidationError
from chainmall.recommend import EASE, ImplicitALS, Interactions, MatrixFactorization
from chainmall.recommend.item_features import ItemFeatures
from tests.recommend.conftest import make_ratings


@pytest.fixture(scope="module")
def fitted() -> EASE:
    return EASE(reg=5.0).fit(Interactions.from_frame(make_ratings(), rating_col=None))


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(0, 29)), st.integers(1, 12))
def test_denied_items_are_never_returned(fitted: EASE, denied: set[int], k: int) -> None:
    deny = [f"sku{j}" for j in denied]
    users = [100, 101, 102, 9999]
    recs = fitted.recommend(users, k, exclude_items=deny)
    assert not recs.item_id.isin(deny).any()
    seen = fitted.interactions_.to_frame()
    for user in users:
        rated = set(seen.loc[seen.user_id == user, "item_id"])
        left = set(fitted.interactions_.item_ids) - set(deny) - rated
        got = recs[recs.user_id == user]
        assert len(got) == min(k, len(left))  # the list is refilled from allowed items
        assert got["rank"].tolist() == list(range(1, len(got) + 1))


def test_allow_list_restricts_and_equals_the_complementary_deny_list(fitted: EASE) -> None:
    items = fitted.interactions_.item_ids
    allow = {"sku3", "sku7", "sku11", "sku20", "not-in-catalogue"}
    recs = fitted.recommend([100, 101], 3, items=allow)
    assert set(recs.item_id) <= allow - {"not-in-catalogue"}
    deny = [i for i in items if i not in allow]
    pd.testing.assert_frame_equal(recs, fitted.recommend([100, 101], 3, exclude_items=deny))
    both = fitted.recommend([100], 10, items=allow, exclude_items=["sku3"])
    assert "sku3" not in set(both.item_id)


@pytest.mark.parametrize(
    "make", [lambda: ImplicitALS(n_factors=3, n_iters=2), lambda: MatrixFactorization(n_factors=2)]
)
def test_filters_work_for_every_model(make, ratings: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    model = make().fit(Interactions.from_frame(ratings))
    recs = model.recommend([100, 5555], 5, exclude_items=["sku1", "sku2"], items=None)
    assert not recs.item_id.isin(["sku1", "sku2"]).any()
    assert len(model.recommend([100], 5, items=[])) == 0


def test_bad_filter_arguments_fail_clearly(fitted: EASE) -> None:
    with pytest.raises(DataValidationError, match="wrap a single id in a list"):
        fitted.recommend([100], 3, exclude_items="sku1")
    with pytest.raises(DataValidationError, match="one-dimensional"):
        fitted.recommend([100], 3, items=[["sku1"]])
    # ids of another type are unknown, not a crash
    assert len(fitted.recommend([100], 3, exclude_items=[1, 2])) == 3


def taste_groups(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users of group g like items of category g; a few items of each category are cold."""
    rng = np.random.default_rng(seed)
    n_users, n_items = 80, 40
    category = np.arange(n_items) % 2
    group = np.arange(n_users) % 2
    likes = (group[:, None] == category[None, :]) & (rng.random((n_users, n_items)) < 0.5)
    likes |= rng.random((n_users, n_items)) < 0.05  # noise
    cold = np.arange(n_items) >= 32
    likes[:, cold] = False
    u, i = np.nonzero(likes)
    frame = pd.DataFrame({"user_id": u, "item_id": [f"i{j}" for j in i]})
    features = pd.DataFrame(
        {
            "item_id": [f"i{j}" for j in range(n_items)],
            "category_b": category.astype(bool),
            "price": rng.normal(50, 10, n_items),
        }
    )
    return frame, features


def test_cold_items_are_scored_from_features_for_the_right_users() -> None:
    frame, features = taste_groups()
    data = Interactions.from_frame(frame, rating_col=None, ts_col=None)
    model = EASE(reg=2.0).fit(data, item_features=features)
    cold = [f"i{j}" for j in range(32, 40)]
    assert sorted(model.cold_items()) == sorted(cold)
    recs = model.recommend(np.arange(80), 2, items=cold)
    category_b = recs.item_id.str[1:].astype(int) % 2 == 1
    group_b = recs.user_id % 2 == 1
    assert (category_b == group_b).mean() > 0.95
    plain = EASE(reg=2.0).fit(data)
    assert not set(cold) & set(plain.interactions_.item_ids)  # only features bring them in


def test_cold_item_turns_warm_after_partial_fit_and_features_round_trip(tmp_path: Path) -> None:
    frame, features = taste_groups()
    data = Interactions.from_frame(frame, rating_col=None, ts_col=None)
    model = EASE(reg=2.0).fit(data, item_features=features.iloc[:36])
    assert "i37" not in model.interactions_.item_ids
    model.partial_fit(frame.head(0), item_features=features.iloc[36:])
    assert "i37" in model.cold_items()
    model.partial_fit(pd.DataFrame({"user_id": [1, 3], "item_id": ["i33", "i33"]}))
    assert "i33" not in model.cold_items()
    loaded = EASE.load(model.save(tmp_path / "cold"))
    np.testing.assert_allclose(loaded.item_weights_, model.item_weights_)
    assert sorted(loaded.cold_items()) == sorted(model.cold_items())
    refit = EASE(reg=2.0).fit(
        Interactions.from_frame(
            pd.concat([frame, pd.DataFrame({"user_id": [1, 3], "item_id": ["i33", "i33"]})]),
            rating_col=None,
            ts_col=None,
        ),
        item_features=features,
    )
    np.testing.assert_allclose(model.item_weights_, refit.item_weights_, atol=1e-9)


def test_item_features_are_validated() -> None:
    _, features = taste_groups()
    with pytest.raises(ColumnNotFoundError):
        ItemFeatures.from_frame(features.rename(columns={"item_id": "sku"}))
    with pytest.raises(DataValidationError, match="at least one row and one feature"):
        ItemFeatures.from_frame(features[["item_id"]])
    holes = features.assign(price=features.price.where(features.index != 3))
    with pytest.raises(DataValidationError, match=r"missing values.*i3"):
        ItemFeatures.from_frame(holes)
    with pytest.raises(DataValidationError, match="unique"):
        ItemFeatures.from_frame(pd.concat([features, features.head(1)]))
    with pytest.raises(DataValidationError, match="numeric"):
        ItemFeatures.from_frame(features.assign(price="cheap"))
    with pytest.raises(DataValidationError, match="infinite"):
        ItemFeatures.from_frame(features.assign(price=np.inf))
    base = ItemFeatures.from_frame(features)
    with pytest.raises(DataValidationError, match="same feature columns"):
        base.updated(ItemFeatures.from_frame(features.drop(columns="price")))
    frame, _ = taste_groups()
    data = Interactions.from_frame(frame, rating_col=None, ts_col=None)
    with pytest.raises(DataValidationError, match="same id type"):
        EASE().fit(data, item_features=features.assign(item_id=np.arange(len(features))))
