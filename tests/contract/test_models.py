"""The fitted-model contract, checked the same way for every model class.

In the spirit of scikit-learn's ``check_estimator``: each model is fitted once on
small data, then: predict → save → load (a classmethod) → identical predict;
predict and save before fit raise ``NotFittedError``; a changed file, a newer
format and a folder of another class raise ``ModelFileError``; ``get_params`` →
``set_params`` round-trips and refuses unknown names; unknown ids get the
documented behaviour; bad input raises a ``ChainmallError``. Models that score a
caller's rows return a Series (one quantity, named) or a DataFrame indexed like the
caller's frame, whose array is available without a copy.

Not covered: the abstract bases ``Recommender`` and ``RatingModel`` (their
subclasses are).
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import ChainmallError, ConfigError, ModelFileError, NotFittedError
from tests.contract import data

OJ_COLUMNS = {"store_id": "store", "item_id": "brand", "ds": "week"}
"""The builder's canonical names -> the orange-juice (and simulated market) columns."""

Model = Any


@dataclass(frozen=True)
class ModelCase:
    """How to build, fit, use and misuse one model class."""

    name: str
    make: Callable[[], Model]
    fit: Callable[[Model], Model]
    predict: Callable[[Model], Any]
    bad_input: Callable[[Model], Any]
    unknown_ids: Callable[[Model], None] | None = None
    requires: tuple[str, ...] = ()


# -- recommenders ------------------------------------------------------------------
def _interactions() -> Any:
    from chainmall.recommend import Interactions

    return Interactions.from_frame(data.ratings(20, 12))


def _pairs() -> pd.DataFrame:
    return data.ratings(20, 12)[["user_id", "item_id"]].head(30)


def _recommender_unknown(model: Model) -> None:
    """Unknown users and items get the fallback score, flagged; nothing is dropped."""
    pairs = pd.DataFrame({"user_id": [0, 999], "item_id": [999, 0]})
    out = model.predict(pairs)
    assert out["user_id"].tolist() == [0, 999]
    assert out["user_known"].tolist() == [True, False]
    assert out["item_known"].tolist() == [False, True]
    assert np.isfinite(out["prediction"]).all()
    assert (model.recommend([999], k=2)["user_known"] == False).all()  # noqa: E712


def _recommender(name: str, **overrides: Any) -> ModelCase:
    def make() -> Model:
        import chainmall.recommend as rec

        return getattr(rec, name)(**overrides)

    return ModelCase(
        name,
        make,
        lambda m: m.fit(_interactions()),
        lambda m: m.predict(_pairs()),
        lambda m: m.predict(_pairs().drop(columns="item_id")),
        _recommender_unknown,
    )


@cache
def _simulation() -> Any:
    from chainmall.recommend import SimulatorConfig, build_simulation

    config = SimulatorConfig(n_visible=3, n_steps=2, slate_size=3)
    return build_simulation(data.ratings(40, 15), config)


def _ddpg() -> ModelCase:
    def make() -> Model:
        from chainmall.recommend import DDPGRecommender

        return DDPGRecommender(data.tiny_ddpg_config())

    def predict(model: Model) -> Any:
        from chainmall.recommend import SlateSimulator

        sim = _simulation()
        return model.scores(SlateSimulator(sim).reset(sim.users("test")))

    return ModelCase(
        "DDPGRecommender",
        make,
        lambda m: m.fit(_simulation()),
        predict,
        lambda m: make().fit(_simulation(), item_embeddings=np.ones((3, 4))),
        requires=("torch",),
    )


# -- forecasters -------------------------------------------------------------------
def _forecast_unknown(model: Model) -> None:
    """Forecasts cover the fitted series; history lacking one of them is refused by id."""
    history = data.demand()
    with pytest.raises(ChainmallError, match="sku2"):
        model.predict(2, history=history[history["unique_id"] != "sku2"])


def _forecaster(name: str, make: Callable[[], Model], **extra: Any) -> ModelCase:
    return ModelCase(
        name,
        make,
        lambda m: m.fit(data.demand()),
        lambda m: m.predict(2, level=[80]),
        lambda m: m.predict(2, level=[150]),
        _forecast_unknown,
        **extra,
    )


def _replenish(name: str, *args: Any, **kwargs: Any) -> Callable[[], Model]:
    def make() -> Model:
        import chainmall.replenish as rep

        built = [a() if callable(a) else a for a in args]
        return getattr(rep, name)(
            *built, data_config=rep.ReplenishConfig(season_length=4), **kwargs
        )

    return make


_LSTM = {"horizon": 2, "input_size": 4, "hidden_size": 3, "epochs": 1, "seasonal": False}


# -- segment -----------------------------------------------------------------------
@cache
def _summary() -> pd.DataFrame:
    from tests.contract.cases_segment import _summary as summary

    return summary()


def _impossible(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(t_x=frame["T"] + 1)


def _btyd(name: str) -> ModelCase:
    def make() -> Model:
        import chainmall.segment as seg

        return getattr(seg, name)()

    return ModelCase(
        name,
        make,
        lambda m: m.fit(_summary()),
        lambda m: m.expected_purchases(10, _summary()),
        lambda m: m.p_alive(_impossible(_summary())),
    )


@cache
def _bgbb_data() -> pd.DataFrame:
    from chainmall.segment.published import donations_1995

    return donations_1995()


def _spend_summary() -> pd.DataFrame:
    frame = _summary()
    return frame.assign(mean_repeat_spend_fen=np.where(frame["x"] > 0, 3_000.0, 0.0))


def _segment_cases() -> list[ModelCase]:
    from tests.contract.cases_segment import _VALUE, _log

    def value() -> Model:
        from chainmall.segment import CustomerValueModel

        return CustomerValueModel(_VALUE)

    def gamma_gamma() -> Model:
        from chainmall.segment import GammaGamma

        return GammaGamma()

    def sbg() -> Model:
        from chainmall.segment import ShiftedBetaGeometric

        return ShiftedBetaGeometric()

    def bgbb() -> Model:
        from chainmall.segment import BetaGeoBetaBinom

        return BetaGeoBetaBinom()

    def survival() -> pd.DataFrame:
        from chainmall.segment import survival_table

        return survival_table([1000, 631, 468, 382, 326])

    return [
        *(_btyd(name) for name in ("BetaGeo", "ModifiedBetaGeo", "ParetoNBD")),
        ModelCase(
            "BetaGeoBetaBinom",
            bgbb,
            lambda m: m.fit(_bgbb_data(), weight="count"),
            lambda m: m.expected_purchases(3, _bgbb_data()),
            lambda m: m.p_alive(_impossible(_bgbb_data())),
        ),
        ModelCase(
            "GammaGamma",
            gamma_gamma,
            lambda m: m.fit(_spend_summary()),
            lambda m: m.expected_spend(_spend_summary()),
            lambda m: m.expected_spend(_spend_summary().drop(columns="x")),
        ),
        ModelCase(
            "ShiftedBetaGeometric",
            sbg,
            lambda m: m.fit(survival(), weight="count"),
            lambda m: m.survival([1, 5, 12]),
            lambda m: m.expected_renewals([1], discount_rate=-1.0),
        ),
        ModelCase(
            "CustomerValueModel",
            value,
            lambda m: m.fit(_log()),
            lambda m: m.predict(13),
            lambda m: m.predict(-1),
        ),
    ]


# -- pricing -----------------------------------------------------------------------
@cache
def _market() -> pd.DataFrame:
    from chainmall.pricing import simulate_market

    market = simulate_market(n_stores=4, n_products=2, n_weeks=30, seed=1)
    return market.history.rename(columns={"price_fen": "price", "product": "brand"})


def _builder() -> Model:
    from chainmall.pricing import DemandFeatureBuilder

    return DemandFeatureBuilder(columns=OJ_COLUMNS)


def _features() -> pd.DataFrame:
    history = _market()
    builder = _builder().fit(history)
    feats = builder.transform(history)
    return feats[builder.feature_columns(feats)]


def _loglog_frame() -> pd.DataFrame:
    market = _market()
    return market.assign(log_price=np.log(market["price"] / 100.0))


def _pricing_cases() -> list[ModelCase]:
    def demand_model() -> Model:
        from chainmall.pricing import DemandConfig, DemandModel

        return DemandModel(DemandConfig(n_estimators=10, max_depth=2, monotone_grid=3))

    def fit_demand(model: Model) -> Model:
        history = _market()
        builder = _builder().fit(history)
        feats = _features()
        return model.fit(
            feats,
            builder.target(history),
            catalog=builder.catalog_for(list(feats.columns)),
            periods=history["week"],
        )

    def loglog() -> Model:
        from chainmall.pricing import LogLogModel

        return LogLogModel(group="brand", fixed_effects=("store",), controls=("feat",))

    return [
        ModelCase(
            "LogLogModel",
            loglog,
            lambda m: m.fit(_loglog_frame(), np.log1p(_market()["units"])),
            lambda m: m.predict(_loglog_frame()),
            lambda m: m.predict(_loglog_frame().drop(columns="log_price")),
        ),
        ModelCase(
            "DemandFeatureBuilder",
            _builder,
            lambda m: m.fit(_market()),
            lambda m: m.transform(_market()),
            lambda m: m.transform(_market().drop(columns="price")),
        ),
        ModelCase(
            "DemandModel",
            demand_model,
            fit_demand,
            lambda m: m.predict(_features()),
            lambda m: m.predict(_features().drop(columns="log_price")),
            requires=("xgboost",),
        ),
    ]


CASES = [
    *(_recommender(name) for name in ("BaselinePredictor", "KNNBaseline", "ImplicitALS", "EASE")),
    _recommender("MatrixFactorization", n_factors=3, n_iters=3),
    _recommender("RatingBlend"),
    _ddpg(),
    _forecaster("Naive", _replenish("Naive")),
    _forecaster("SeasonalNaive", _replenish("SeasonalNaive")),
    _forecaster("Croston", _replenish("Croston")),
    _forecaster("AutoARIMA", _replenish("AutoARIMA")),
    _forecaster(
        "XGBoostForecaster",
        _replenish("XGBoostForecaster", horizon=2, n_estimators=5),
        requires=("xgboost",),
    ),
    _forecaster("LSTMForecaster", _replenish("LSTMForecaster", **_LSTM), requires=("torch",)),
    _forecaster(
        "ZhangHybrid",
        _replenish("ZhangHybrid", _replenish("AutoARIMA"), _replenish("LSTMForecaster", **_LSTM)),
        requires=("torch",),
    ),
    _forecaster(
        "CombinationForecaster",
        _replenish(
            "CombinationForecaster",
            [_replenish("Naive")(), _replenish("SeasonalNaive")()],
            horizon=2,
        ),
    ),
    *_segment_cases(),
    *_pricing_cases(),
]
PARAMS = [pytest.param(case, id=case.name) for case in CASES]
_FITTED: dict[str, Model] = {}


def _skip_missing(case: ModelCase) -> None:
    missing = [m for m in case.requires if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{case.name} needs {', '.join(missing)} (not installed)")


def _fitted(case: ModelCase) -> Model:
    _skip_missing(case)
    if case.name not in _FITTED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # column spellings in transition
            _FITTED[case.name] = case.fit(case.make())
    return _FITTED[case.name]


def _assert_same(left: Any, right: Any) -> None:
    if isinstance(left, pd.DataFrame):
        pd.testing.assert_frame_equal(left, right)
    elif isinstance(left, pd.Series):
        pd.testing.assert_series_equal(left, right)
    else:
        assert np.isfinite(np.asarray(left, dtype=float)).all()
        np.testing.assert_array_equal(np.asarray(left), np.asarray(right))


def _wrong_class(case: ModelCase) -> type:
    from chainmall.replenish import Naive
    from chainmall.segment import GammaGamma

    return Naive if case.name != "Naive" else GammaGamma


@pytest.mark.parametrize("case", PARAMS)
def test_fit_predict_save_load_predicts_the_same(case: ModelCase, tmp_path: Path) -> None:
    model = _fitted(case)
    before = case.predict(model)
    folder = model.save(tmp_path / "model")
    assert isinstance(folder, Path) and (folder / "manifest.json").is_file()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["class"].endswith(f".{case.name}")
    loaded = type(model).load(folder)
    assert type(loaded) is type(model)
    _assert_same(case.predict(loaded), before)
    assert loaded.get_params().keys() == model.get_params().keys()


@pytest.mark.parametrize("case", PARAMS)
def test_predict_and_save_before_fit_raise_not_fitted(case: ModelCase, tmp_path: Path) -> None:
    _skip_missing(case)
    with pytest.raises(NotFittedError):
        case.predict(case.make())
    with pytest.raises(NotFittedError):
        case.make().save(tmp_path / "unfitted")


@pytest.mark.parametrize("case", PARAMS)
def test_changed_newer_or_foreign_folders_are_refused(case: ModelCase, tmp_path: Path) -> None:
    model = _fitted(case)
    folder = model.save(tmp_path / "model")
    with pytest.raises(ModelFileError, match="not a"):
        _wrong_class(case).load(folder)
    manifest_file = folder / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest_file.write_text(json.dumps(manifest | {"format_version": 99}))
    with pytest.raises(ModelFileError, match="upgrade chainmall"):
        type(model).load(folder)
    manifest_file.write_text(json.dumps(manifest))
    first = sorted(manifest["files"])[0]
    (folder / first).write_bytes((folder / first).read_bytes() + b"\0")
    with pytest.raises(ModelFileError, match="SHA-256 hash"):
        type(model).load(folder)


@pytest.mark.parametrize("case", PARAMS)
def test_get_params_set_params_round_trip(case: ModelCase) -> None:
    _skip_missing(case)
    params = case.make().get_params()
    fresh = case.make()
    assert fresh.set_params(**params) is fresh
    assert fresh.get_params() == params
    with pytest.raises(ConfigError):
        fresh.set_params(no_such_parameter=1)
    assert fresh.get_params() == params


@pytest.mark.parametrize("case", [p for p in PARAMS if p.values[0].unknown_ids is not None])
def test_unknown_ids_get_the_documented_behaviour(case: ModelCase) -> None:
    assert case.unknown_ids is not None
    case.unknown_ids(_fitted(case))


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input_raises_a_chainmall_error(case: ModelCase) -> None:
    model = _fitted(case)
    with pytest.raises(ChainmallError):
        case.bad_input(model)


# -- predictions keyed by the caller's rows ----------------------------------------
@dataclass(frozen=True)
class RowPrediction:
    """One prediction method that scores the rows of a caller's frame."""

    case: str
    method: str
    frame: Callable[[], pd.DataFrame]
    call: Callable[[Model, pd.DataFrame], Any]
    name: str


def _shuffled(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in reverse order under string labels: a default index cannot pass by luck."""
    out = frame.iloc[::-1]
    return out.set_axis([f"row{i}" for i in range(len(out))])


def _clv(model: Model, frame: pd.DataFrame) -> Any:
    from chainmall.segment import customer_lifetime_value

    spend = _fitted(next(c for c in CASES if c.name == "GammaGamma"))
    return customer_lifetime_value(model, spend, frame, periods=3)


def _btyd_rows(case: str, frame: Callable[[], pd.DataFrame], t: float) -> list[RowPrediction]:
    return [
        RowPrediction(case, "p_alive", frame, lambda m, f: m.p_alive(f), "p_alive"),
        RowPrediction(
            case,
            "expected_purchases",
            frame,
            lambda m, f: m.expected_purchases(t, f),
            "expected_purchases",
        ),
        RowPrediction(
            case, "p_no_purchase", frame, lambda m, f: m.p_no_purchase(t, f), "p_no_purchase"
        ),
    ]


ROW_PREDICTIONS = [
    *(
        row
        for name in ("BetaGeo", "ModifiedBetaGeo", "ParetoNBD")
        for row in _btyd_rows(name, _summary, 10.0)
    ),
    *_btyd_rows("BetaGeoBetaBinom", _bgbb_data, 3),
    RowPrediction(
        "ParetoNBD", "customer_lifetime_value", _spend_summary, _clv, "customer_lifetime_value"
    ),
    RowPrediction(
        "GammaGamma",
        "expected_spend",
        _spend_summary,
        lambda m, f: m.expected_spend(f),
        "expected_spend",
    ),
    RowPrediction(
        "LogLogModel", "predict", _loglog_frame, lambda m, f: m.predict(f), "log1p_units"
    ),
    RowPrediction("DemandModel", "predict", _features, lambda m, f: m.predict(f), "log1p_units"),
    RowPrediction(
        "DemandModel", "predict_units", _features, lambda m, f: m.predict_units(f), "units"
    ),
]


@pytest.mark.parametrize(
    "row", [pytest.param(r, id=f"{r.case}.{r.method}") for r in ROW_PREDICTIONS]
)
def test_row_predictions_are_series_keyed_by_the_callers_rows(row: RowPrediction) -> None:
    model = _fitted(next(c for c in CASES if c.name == row.case))
    frame = row.frame()
    shuffled = _shuffled(frame)
    out = row.call(model, shuffled)
    assert isinstance(out, pd.Series)
    assert out.name == row.name
    pd.testing.assert_index_equal(out.index, shuffled.index)
    # the same numbers as on the frame in its own order, each under its own row
    plain = row.call(model, frame)
    np.testing.assert_allclose(out.to_numpy(), plain.to_numpy()[::-1], rtol=1e-12)
    assert out.dtype == np.float64


# -- predictions keyed by the periods asked for -------------------------------------
PERIOD_PREDICTIONS = [
    ("ShiftedBetaGeometric", "survival", lambda m, t: m.survival(t)),
    ("ShiftedBetaGeometric", "retention_rate", lambda m, t: m.retention_rate(t)),
    (
        "ShiftedBetaGeometric",
        "expected_renewals",
        lambda m, t: m.expected_renewals(t, discount_rate=0.1),
    ),
]


@pytest.mark.parametrize(
    ("case", "name", "call"), [pytest.param(*p, id=f"{p[0]}.{p[1]}") for p in PERIOD_PREDICTIONS]
)
def test_period_predictions_are_series_keyed_by_the_periods_asked_for(
    case: str, name: str, call: Callable[[Model, Any], Any]
) -> None:
    model = _fitted(next(c for c in CASES if c.name == case))
    periods = [9, 1, 4, 2]
    out = call(model, periods)
    assert isinstance(out, pd.Series)
    assert out.name == name
    assert out.index.tolist() == periods
    assert out.dtype == np.float64
    # the same number for a period whatever else is asked and in which order
    for period in periods:
        assert out[period] == call(model, period).iloc[0]
