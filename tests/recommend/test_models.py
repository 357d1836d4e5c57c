"""The shared model contract: fit/predict/recommend/similar_items/save/load, fallbacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.recommend import (
    EASE,
    BaselinePredictor,
    ImplicitALS,
    Interactions,
    KNNBaseline,
    MatrixFactorization,
    RatingBlend,
    Recommender,
)
from chainmall.recommend.metrics import rmse

SAVEABLE = [
    BaselinePredictor,
    lambda: KNNBaseline(k=5),
    lambda: KNNBaseline(kind="user", k=5),
    lambda: MatrixFactorization(n_factors=3),
    lambda: ImplicitALS(n_factors=4, n_iters=3),
    EASE,
]


@pytest.mark.parametrize("make", SAVEABLE)
def test_contract_and_round_trip(make, ratings: pd.DataFrame, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model: Recommender = make()
    with pytest.raises(NotFittedError):
        model.predict(ratings)
    data = Interactions.from_frame(ratings)
    assert model.fit(data) is model
    pred = model.predict(ratings)
    assert list(pred.columns) == ["user_id", "item_id", "prediction", "user_known", "item_known"]
    assert pred.user_known.all() and pred.item_known.all()
    recs = model.recommend([100, 101, 555], k=5)
    assert list(recs.columns) == ["user_id", "item_id", "score", "rank", "user_known"]
    seen = set(zip(ratings.user_id, ratings.item_id, strict=True))
    known = recs[recs.user_known]
    assert not any((u, i) in seen for u, i in zip(known.user_id, known.item_id, strict=True))
    assert (recs.groupby("user_id")["score"].apply(lambda s: s.is_monotonic_decreasing)).all()
    assert not recs.loc[recs.user_id == 555, "user_known"].any()
    sim = model.similar_items(["sku0", "sku1"], k=3)
    assert list(sim.columns) == ["item_id", "similar_item_id", "score", "rank"]
    assert not (sim.item_id == sim.similar_item_id).any()
    loaded = type(model).load(model.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict(ratings).prediction, pred.prediction)
    pd.testing.assert_frame_equal(loaded.recommend([100, 101, 555], k=5), recs)


def test_rating_models_clip_and_fall_back(ratings: pd.DataFrame) -> None:
    model = MatrixFactorization(n_factors=3).fit(Interactions.from_frame(ratings))
    pairs = pd.DataFrame(
        {"user_id": [100, 9999, 100, 9999], "item_id": ["sku0", "sku0", "new", "new"]}
    )
    out = model.predict(pairs)
    assert out.user_known.tolist() == [True, False, True, False]
    assert out.item_known.tolist() == [True, True, False, False]
    u, _ = model.interactions_.user_index([100])
    i, _ = model.interactions_.item_index(["sku0"])
    mu = model.global_mean_
    assert out.prediction[1] == pytest.approx(mu + model.item_bias_[i[0]])
    assert out.prediction[2] == pytest.approx(mu + model.user_bias_[u[0]])
    assert out.prediction[3] == pytest.approx(mu)
    assert out.prediction.between(1, 5).all()


def test_rating_model_needs_ratings(ratings: pd.DataFrame) -> None:
    implicit = Interactions.from_frame(ratings, rating_col=None)
    with pytest.raises(DataValidationError, match="no rating column"):
        KNNBaseline().fit(implicit)
    with pytest.raises(DataValidationError, match="needs an Interactions"):
        KNNBaseline().fit(ratings)  # type: ignore[arg-type]


def test_load_refuses_other_model(ratings: pd.DataFrame, tmp_path: Path) -> None:
    path = BaselinePredictor().fit(Interactions.from_frame(ratings)).save(tmp_path / "b")
    with pytest.raises(DataValidationError, match="holds a 'BaselinePredictor'"):
        EASE.load(path)
    with pytest.raises(DataValidationError, match="not a saved chainmall model"):
        EASE.load(tmp_path / "nothing")


def test_mf_learns_low_rank_structure(rating_factory) -> None:  # type: ignore[no-untyped-def]
    frame = rating_factory(n_users=120, n_items=60, density=0.4, seed=3)
    train = frame.sample(frac=0.8, random_state=0)
    test = frame.drop(train.index)
    data = Interactions.from_frame(train)
    base = rmse(BaselinePredictor().fit(data).predict(test).prediction, test.rating)
    mf = rmse(
        MatrixFactorization(n_factors=2, reg=0.5).fit(data).predict(test).prediction, test.rating
    )
    knn = rmse(KNNBaseline(k=20).fit(data).predict(test).prediction, test.rating)
    assert mf < 0.8 * base  # a rank-2 taste model is what MF is built for
    assert knn < base


def test_blend_weights_come_from_training_rows_only(rating_factory) -> None:  # type: ignore[no-untyped-def]
    frame = rating_factory(n_users=80, n_items=40, density=0.4, seed=5)
    data = Interactions.from_frame(frame)
    members = [MatrixFactorization(n_factors=2), KNNBaseline(k=10)]
    blend = RatingBlend(members, seed=1).fit(data)
    again = RatingBlend(members, seed=1).fit(data)
    np.testing.assert_array_equal(blend.weights_, again.weights_)  # seeded
    assert blend.selected_ == "stack"  # a rank-2 taste model: the two members complement
    # the fitted members are the ones trained on all rows: same as fitting them alone
    solo = MatrixFactorization(n_factors=2).fit(data)
    np.testing.assert_allclose(blend.fitted_members_[0].item_factors_, solo.item_factors_)
    assert blend.predict(frame).prediction.between(1, 5).all()
    scores = blend.validation_rmse_
    assert set(scores) == {"MatrixFactorization", "KNNBaseline", "stack"}
    assert scores["stack"] == min(scores.values())


def bias_only_ratings(seed: int) -> pd.DataFrame:
    """Ratings that are biases plus loud noise: nothing for MF or kNN to find."""
    rng = np.random.default_rng(seed)
    n_users, n_items = 150, 80
    observed = rng.random((n_users, n_items)) < 0.12
    observed[:, 0] = True
    u, i = np.nonzero(observed)
    bias_u, bias_i = rng.normal(0, 0.5, n_users), rng.normal(0, 0.5, n_items)
    raw = 3.5 + bias_u[u] + bias_i[i] + rng.normal(0, 1.0, len(u))
    return pd.DataFrame(
        {"user_id": u, "item_id": i, "rating": np.clip(np.round(raw), 1, 5), "ts": pd.NaT}
    ).drop(columns="ts")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blend_falls_back_to_its_best_member(seed: int) -> None:
    frame = bias_only_ratings(seed)
    train = frame.sample(frac=0.8, random_state=seed)
    test = frame.drop(train.index)
    data = Interactions.from_frame(train, ts_col=None)
    blend = RatingBlend().fit(data)
    scores = blend.validation_rmse_
    assert scores[blend.selected_] == min(scores.values())  # never worse on its validation
    stubborn = RatingBlend(min_gain=10.0).fit(data)  # the stack can never win by 10 stars
    members = {k: v for k, v in scores.items() if k != "stack"}
    assert stubborn.selected_ == min(members, key=members.__getitem__)
    assert len(stubborn.fitted_members_) == 1
    solo = type(stubborn.fitted_members_[0])(stubborn.fitted_members_[0].config).fit(data)
    np.testing.assert_allclose(
        stubborn.predict(test).prediction, solo.predict(test).prediction, rtol=0, atol=1e-12
    )
    on_test = {
        name: rmse(model.fit(data).predict(test).prediction, test.rating)
        for name, model in zip(
            blend.member_labels(),
            [MatrixFactorization(), KNNBaseline(), BaselinePredictor()],
            strict=True,
        )
    }
    assert rmse(blend.predict(test).prediction, test.rating) <= min(on_test.values()) + 0.01


def test_bias_golden_example() -> None:
    # two users, two items, no shrinkage: biases solve the additive model exactly
    frame = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 1], "rating": [5.0, 3.0, 3.0]})
    model = BaselinePredictor(reg_user=0.0, reg_item=0.0, n_iters=200).fit(
        Interactions.from_frame(frame, ts_col=None)
    )
    pred = model.predict(frame).prediction.to_numpy()
    np.testing.assert_allclose(pred, [5.0, 3.0, 3.0], atol=1e-6)
    assert model.global_mean_ == pytest.approx(11 / 3)


@pytest.mark.parametrize("min_gain", [0.0, 10.0])
def test_blend_save_load_round_trip(ratings: pd.DataFrame, tmp_path: Path, min_gain: float) -> None:
    members = [BaselinePredictor(), MatrixFactorization(n_factors=3, n_iters=3)]
    blend = RatingBlend(members, min_gain=min_gain).fit(Interactions.from_frame(ratings))
    folder = blend.save(tmp_path / "blend")
    meta = (folder / "manifest.json").read_text(encoding="utf-8")
    assert '"BaselinePredictor"' in meta and '"MatrixFactorization"' in meta
    loaded = RatingBlend.load(folder)
    assert [type(m).__name__ for m in loaded.members] == [
        "BaselinePredictor",
        "MatrixFactorization",
    ]
    assert [type(m) for m in loaded.fitted_members_] == [type(m) for m in blend.fitted_members_]
    assert loaded.members[1].config.n_factors == 3  # type: ignore[attr-defined]
    assert loaded.selected_ == blend.selected_
    assert loaded.validation_rmse_ == pytest.approx(blend.validation_rmse_)
    np.testing.assert_allclose(loaded.weights_, blend.weights_)
    np.testing.assert_allclose(
        loaded.predict(ratings).prediction, blend.predict(ratings).prediction
    )
    pd.testing.assert_frame_equal(
        loaded.recommend([100, 101], k=4), blend.recommend([100, 101], k=4)
    )
    with pytest.raises(DataValidationError, match="holds a 'BaselinePredictor'"):
        RatingBlend.load(
            BaselinePredictor().fit(Interactions.from_frame(ratings)).save(tmp_path / "b")
        )


def test_blend_needs_enough_ratings_to_hold_out() -> None:
    frame = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [1, 1, 2], "rating": [4.0, 3.0, 5.0]})
    with pytest.raises(DataValidationError, match="held-out"):
        RatingBlend().fit(Interactions.from_frame(frame, ts_col=None))


class SpyBaseline(BaselinePredictor):
    """Records the ratings each copy is fitted on and the pairs it is asked about."""

    log: ClassVar[list[tuple[str, Any]]] = []

    def _fit(self, matrix):  # type: ignore[no-untyped-def]
        SpyBaseline.log.append(("fit", matrix.copy()))
        super()._fit(matrix)

    def _score_pairs(self, users, items):  # type: ignore[no-untyped-def]
        SpyBaseline.log.append(("ask", (users.copy(), items.copy())))
        return super()._score_pairs(users, items)


@pytest.mark.parametrize("kfold_below", [0, 10**9])
def test_blend_members_never_predict_ratings_they_were_fitted_on(
    ratings: pd.DataFrame, kfold_below: int
) -> None:
    SpyBaseline.log = []
    data = Interactions.from_frame(ratings)
    RatingBlend([SpyBaseline()], kfold_below=kfold_below).fit(data)
    inner = SpyBaseline.log[:-1]  # the last entry is the refit on every rating
    assert [kind for kind, _ in inner] == ["fit", "ask"] * (len(inner) // 2)
    asked_cells = 0
    for (_, matrix), (_, (users, items)) in zip(inner[::2], inner[1::2], strict=True):
        assert not np.asarray(matrix[users, items]).any()  # held-out cells are absent
        asked_cells += len(users)
    if kfold_below:  # cross-fitting: every training rating is predicted exactly once
        assert len(inner) == 2 * 5 and asked_cells == data.matrix.nnz
    else:
        assert len(inner) == 2 and 0.1 < asked_cells / data.matrix.nnz < 0.2
    assert SpyBaseline.log[-1][0] == "fit" and SpyBaseline.log[-1][1].nnz == data.matrix.nnz
