"""Metrics worked by hand, protocol invariants, and the real MovieLens data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.exceptions import DataValidationError
from chainmall.recommend import (
    EASE,
    Interactions,
    RatingBlend,
    kfold_splits,
    leave_last_out,
    rank_holdout,
)
from chainmall.recommend.metrics import (
    catalogue_coverage,
    hit_rate_at_k,
    long_tail_share,
    mae,
    ndcg_at_k,
    normalised_mae,
    precision_recall_at_k,
    rmse,
)


def test_error_metrics_by_hand() -> None:
    assert rmse([3, 4], [1, 4]) == pytest.approx(np.sqrt(2))
    assert mae([3, 4], [1, 4]) == pytest.approx(1.0)
    assert normalised_mae([3, 4], [1, 4], 1, 5) == pytest.approx(0.25)
    with pytest.raises(DataValidationError):
        rmse([1, 2], [1])


def test_ranking_metrics_by_hand() -> None:
    ranks = np.array([0, 1, 10, 3])
    assert hit_rate_at_k(ranks, 10) == 0.75
    assert ndcg_at_k(ranks, 10) == pytest.approx((1 + 1 / np.log2(3) + 1 / np.log2(5)) / 4)
    recs = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [1, 2, 3, 1], "rank": [1, 2, 1, 2]})
    rel = pd.DataFrame({"user_id": [1, 2, 2], "item_id": [2, 9, 8]})
    assert precision_recall_at_k(recs, rel, 2) == pytest.approx((0.25, 0.5))
    assert catalogue_coverage(recs, 6) == pytest.approx(0.5)
    history = pd.DataFrame({"item_id": [1] * 8 + [2, 3]})  # item 1 is the head
    assert long_tail_share(recs, history) == pytest.approx(0.5)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=50), st.integers(1, 30))
def test_ndcg_bounded_by_hit_rate(ranks: list[float], k: int) -> None:
    assert 0 <= ndcg_at_k(ranks, k) <= hit_rate_at_k(ranks, k) <= 1


def test_leave_last_out_is_time_honest(ratings: pd.DataFrame) -> None:
    split = leave_last_out(ratings)
    assert split.test.user_id.is_unique and split.validation.user_id.is_unique
    assert (split.test.rating >= 4).all() and (split.validation.rating >= 4).all()
    for part in (split.validation, split.test):
        assert not part.index.isin(split.train.index).any()
    assert not split.test.index.isin(split.train_full.index).any()
    assert split.validation.index.isin(split.train_full.index).all()
    last_train = split.train_full.groupby("user_id").ts.max()
    test_ts = split.test.set_index("user_id").ts
    assert (last_train.reindex(test_ts.index) <= test_ts).all()
    later_pos = split.train_full.merge(
        split.test[["user_id", "ts"]], on="user_id", suffixes=("", "_t")
    )
    assert not ((later_pos.rating >= 4) & (later_pos.ts > later_pos.ts_t)).any()


def test_kfold_is_seeded_partition(ratings: pd.DataFrame) -> None:
    tests = [t.index for _, t in kfold_splits(ratings, 5, seed=0)]
    again = [t.index for _, t in kfold_splits(ratings, 5, seed=0)]
    assert all(a.equals(b) for a, b in zip(tests, again, strict=True))
    assert sorted(np.concatenate(tests)) == sorted(ratings.index)


def test_rank_holdout_full_and_sampled(ratings: pd.DataFrame) -> None:
    split = leave_last_out(ratings)
    model = EASE(reg=10.0).fit(Interactions.from_frame(split.train_full, rating_col=None))
    full = rank_holdout(model, split.test)
    sampled = rank_holdout(model, split.test, n_negatives=5, seed=0)
    n_items = model.interactions_.n_items
    assert ((full >= 0) & (full < n_items)).all()
    assert ((sampled >= 0) & (sampled <= 5)).all()
    assert hit_rate_at_k(sampled, 3) >= hit_rate_at_k(full, 3)  # fewer rivals


@pytest.mark.realdata
def test_movielens_one_fold_beats_bias_anchor(data_home) -> None:  # type: ignore[no-untyped-def]
    from chainmall.datasets import load_movielens_100k

    frame = load_movielens_100k(data_home=data_home)
    train, test = next(iter(kfold_splits(frame, 5, seed=0)))
    pred = RatingBlend().fit(Interactions.from_frame(train)).predict(test).prediction
    assert rmse(pred, test.rating) < 0.91  # surprise BaselineOnly is 0.944, SVD++ 0.919
    assert mae(pred, test.rating) < 0.72


@pytest.mark.slow
@pytest.mark.realdata
def test_movielens_daily_updates_equal_a_refit(data_home) -> None:  # type: ignore[no-untyped-def]
    from chainmall.datasets import load_movielens_100k

    frame = load_movielens_100k(data_home=data_home).sort_values("ts", kind="stable")
    day = frame.ts.dt.floor("D")
    last_days = day >= day.unique()[-5]
    model = EASE(recency_half_life=20.0).fit(
        Interactions.from_frame(frame[~last_days], rating_col=None)
    )
    for _, batch in frame[last_days].groupby(day[last_days]):
        model.partial_fit(batch)
    refit = EASE(recency_half_life=20.0).fit(Interactions.from_frame(frame, rating_col=None))
    assert np.abs(model.item_weights_ - refit.item_weights_).max() < 1e-9
    users = frame.user_id.unique()[:100]
    pd.testing.assert_frame_equal(
        model.recommend(users, 10).drop(columns="score"),
        refit.recommend(users, 10).drop(columns="score"),
    )


def test_ranking_metrics_and_item_features_take_columns_like_the_legacy_keywords() -> None:
    import warnings

    from chainmall.recommend.item_features import ItemFeatures
    from chainmall.recommend.metrics import (
        catalogue_coverage,
        long_tail_share,
        precision_recall_at_k,
    )

    recs = pd.DataFrame({"openid": ["a", "a", "b"], "sku": [1, 2, 3], "rank": [1, 2, 1]})
    relevant = pd.DataFrame({"openid": ["a", "b", "b"], "sku": [2, 3, 4]})
    cols = {"user_id": "openid", "item_id": "sku"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = precision_recall_at_k(recs, relevant, 2, columns=cols)
        coverage = catalogue_coverage(recs, 6, columns={"item_id": "sku"})
        tail = long_tail_share(recs, relevant, columns={"item_id": "sku"})
        features = ItemFeatures.from_frame(
            pd.DataFrame({"sku": [2, 1], "price": [3.0, 4.0]}), columns={"item_id": "sku"}
        )
    assert new == (0.5, 0.75)
    with pytest.warns(FutureWarning, match=r"columns=\{'(user|item)_id'"):
        assert precision_recall_at_k(recs, relevant, 2, user_col="openid", item_col="sku") == new
    with pytest.warns(FutureWarning):
        assert catalogue_coverage(recs, 6, item_col="sku") == coverage == 0.5
    with pytest.warns(FutureWarning):
        assert long_tail_share(recs, relevant, item_col="sku") == tail
    with pytest.warns(FutureWarning, match="item_col="):
        old = ItemFeatures.from_frame(
            pd.DataFrame({"sku": [2, 1], "price": [3.0, 4.0]}), item_col="sku"
        )
    assert features.item_ids.tolist() == old.item_ids.tolist() == [1, 2]
    canonical = recs.rename(columns={"openid": "user_id", "sku": "item_id"})
    assert (
        precision_recall_at_k(canonical, relevant.set_axis(["user_id", "item_id"], axis=1), 2)
        == new
    )
