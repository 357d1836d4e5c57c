"""DemandModel: monotone in own price, one own-price feature, intervals, save/load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import chainmall
from chainmall.exceptions import (
    ComplianceConfigError,
    DataValidationError,
    MonotonicityError,
    NotFittedError,
)
from chainmall.pricing import DemandFeatureBuilder, DemandModel
from chainmall.pricing.layers import DEFAULT_CATALOG

Fitted = tuple[DemandFeatureBuilder, pd.DataFrame, DemandModel]


def test_import_does_not_load_xgboost() -> None:
    code = "import sys, chainmall.pricing; print('xgboost' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_predict_before_fit_raises() -> None:
    with pytest.raises(NotFittedError):
        DemandModel().predict(pd.DataFrame({"log_price": [1.0]}))


def test_fit_passes_grid_check_and_curves_never_rise(fitted: Fitted) -> None:
    _, feats, model = fitted
    cols = model.feature_names_
    assert model.train_report_.max_rise == 0.0
    test = feats.loc[feats["ds"] >= 50, cols]
    report = model.check_monotone(test)
    assert report.rows == len(test)
    curves = model.price_curve(test, np.linspace(4.5, 6.5, 15))
    assert (np.diff(curves, axis=1) <= 1e-9).all()


def test_forecast_beats_store_mean(fitted: Fitted) -> None:
    _, feats, model = fitted
    test = feats[feats["ds"] >= 50]
    pred = model.predict(test[model.feature_names_])
    err_model = np.mean((test["log_units"] - pred) ** 2)
    err_mean = np.mean((test["log_units"] - test["store_product_mean"]) ** 2)
    assert err_model < err_mean


def test_intervals_bracket_the_point_forecast(fitted: Fitted) -> None:
    _, feats, model = fitted
    iv = model.predict_interval(feats[model.feature_names_].head(50), coverage=0.8)
    assert (iv["units_low"] <= iv["units"]).all()
    assert (iv["units"] <= iv["units_high"]).all()
    wide = model.predict_interval(feats[model.feature_names_].head(50), coverage=0.95)
    assert (wide["units_high"] >= iv["units_high"]).all()


def test_second_own_price_column_is_refused(fitted: Fitted) -> None:
    builder, feats, model = fitted
    cols = model.feature_names_
    X = feats[cols].assign(ref_log_price=np.exp(feats["log_price"]) * 1.5)
    with pytest.raises(DataValidationError, match="exactly one feature"):
        DemandModel(model.config).fit(X, feats["log_units"], catalog=builder.catalog_for(cols))


def test_user_feature_is_refused_at_fit(fitted: Fitted) -> None:
    builder, feats, model = fitted
    cols = model.feature_names_
    X = feats[cols].assign(user_price_sensitivity=np.random.default_rng(0).random(len(feats)))
    with pytest.raises(ComplianceConfigError, match="user_price_sensitivity"):
        DemandModel(model.config).fit(X, feats["log_units"], catalog=builder.catalog_for(cols))
    with pytest.raises(ComplianceConfigError, match="not declared"):
        DemandModel(model.config).fit(
            X.rename(columns={"user_price_sensitivity": "x"}),
            feats["log_units"],
            catalog=DEFAULT_CATALOG,
        )


class _RisingBooster:
    """Stands in for a booster whose demand rises with price (what the check must catch)."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X[:, 0] * 0.5)


def test_grid_check_raises_on_rising_curve(fitted: Fitted) -> None:
    _, feats, model = fitted
    broken = DemandModel(model.config)
    broken.boosters_ = (_RisingBooster(),)
    broken.feature_names_ = model.feature_names_
    broken.price_range_ = model.price_range_
    with pytest.raises(MonotonicityError, match="rises with own price") as raised:
        broken.check_monotone(feats[model.feature_names_].head(20))
    assert isinstance(raised.value, chainmall.ChainmallError)
    assert isinstance(raised.value, RuntimeError)
    assert chainmall.pricing.MonotonicityError is chainmall.MonotonicityError


def test_save_load_round_trip(fitted: Fitted, tmp_path: Path) -> None:
    _, feats, model = fitted
    folder = model.save(tmp_path / "m")
    assert {p.name for p in folder.iterdir()} == {"booster.json", "manifest.json"}
    loaded = DemandModel.load(folder)
    X = feats[model.feature_names_].head(100)
    np.testing.assert_allclose(loaded.predict(X), model.predict(X), rtol=1e-6)
    assert loaded.version_ == model.version_
    np.testing.assert_allclose(loaded.residual_quantiles_, model.residual_quantiles_)


def test_load_refuses_mismatched_manifest(fitted: Fitted, tmp_path: Path) -> None:
    _, _, model = fitted
    folder = model.save(tmp_path / "m")
    manifest = folder / "manifest.json"
    manifest.write_text(manifest.read_text().replace(model.version_, "xgb-000000000000"))
    with pytest.raises(DataValidationError, match="do not belong together"):
        DemandModel.load(folder)
    with pytest.raises(DataValidationError, match="holds no manifest"):
        DemandModel.load(tmp_path / "missing")


def test_bag_is_the_mean_of_single_seed_models_and_round_trips(
    fitted: Fitted, tmp_path: Path
) -> None:
    builder, feats, model = fitted
    cols = model.feature_names_
    train = feats[feats["ds"] < 50]
    catalog = builder.catalog_for(cols)

    def fit(**update: int) -> DemandModel:
        cfg = model.config.model_copy(update=update)
        return DemandModel(cfg).fit(train[cols], train["log_units"], catalog=catalog)

    bag = fit(n_boosters=2, seed=4)
    singles = [fit(seed=4), fit(seed=5)]
    test = feats.loc[feats["ds"] >= 50, cols]
    expected = (singles[0].predict(test) + singles[1].predict(test)) / 2
    np.testing.assert_allclose(bag.predict(test), expected, rtol=1e-6)
    assert not np.allclose(singles[0].predict(test), singles[1].predict(test))
    assert bag.check_monotone(test).max_rise == 0.0
    folder = bag.save(tmp_path / "bag")
    assert {p.name for p in folder.iterdir()} == {
        "booster.json",
        "booster_1.json",
        "manifest.json",
    }
    np.testing.assert_allclose(DemandModel.load(folder).predict(test), bag.predict(test), rtol=1e-6)
    (folder / "booster_1.json").unlink()
    with pytest.raises(DataValidationError, match=r"booster_1\.json"):
        DemandModel.load(folder)


def test_refuses_the_earlier_sidecar_format(fitted: Fitted, tmp_path: Path) -> None:
    _, _, model = fitted
    folder = model.save(tmp_path / "old")
    (folder / "manifest.json").rename(folder / "demand_model.json")
    with pytest.raises(DataValidationError, match=r"earlier chainmall.*fit the model again"):
        DemandModel.load(folder)
