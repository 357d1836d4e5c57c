"""ARIMA, XGBoost, LSTM and the hybrids on small seeded panels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import ConfigError
from chainmall.replenish import (
    AutoARIMA,
    CombinationForecaster,
    LSTMForecaster,
    ReplenishConfig,
    SeasonalNaive,
    XGBoostForecaster,
    ZhangHybrid,
)
from chainmall.replenish.hybrid import simplex_weights

CFG = ReplenishConfig(season_length=13)


def test_arima_recovers_seasonal_ar1() -> None:
    rng = np.random.default_rng(1)
    n, m, phi = 600, 13, 0.7
    w = np.zeros(n)
    for t in range(1, n):
        w[t] = phi * w[t - 1] + rng.normal()
    y = np.zeros(n)
    y[:m] = 100 + rng.normal(size=m)
    for t in range(m, n):
        y[t] = y[t - m] + w[t]
    df = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2020-01-03", periods=n, freq="W-FRI"), "y": y}
    )
    model = AutoARIMA(orders=[(0, 0), (1, 0), (0, 1)], data_config=CFG).fit(df)
    assert model.orders_[0].tolist() == [1, 0, 0]
    wd = y[m:] - y[:-m]
    ols = float(np.dot(wd[1:], wd[:-1]) / np.dot(wd[:-1], wd[:-1]))  # CSS AR(1) = OLS
    assert model.params_[0][0] == pytest.approx(ols, abs=0.02)
    assert model.params_[0][0] == pytest.approx(phi, abs=0.1)
    fc = model.predict(3, level=[90])
    # forecast of w decays geometrically: y_hat(T+1) - y(T+1-m) = phi * w_T
    assert fc["AutoARIMA"].iloc[0] - y[n - m] == pytest.approx(
        model.params_[0][0] * w[-1], rel=0.2, abs=0.3
    )
    assert (fc["AutoARIMA-hi-90"] > fc["AutoARIMA"]).all()


def test_arima_short_series_falls_back(make_panel: Any) -> None:
    model = AutoARIMA(data_config=CFG).fit(make_panel(1, 20))
    assert model.seasons_.tolist() == [0]
    assert "non-seasonal" in model.report_.loc[0, "reason"]
    assert len(model.predict(4)) == 4


def test_arima_history_update_matches_refit_free_forecast(make_panel: Any) -> None:
    df = make_panel(2, 80)
    cut = df["ds"].sort_values().unique()[-5]
    model = AutoARIMA(data_config=CFG).fit(df[df["ds"] <= cut])
    updated = model.predict(2, history=df)
    assert updated["ds"].min() > df["ds"].max()


def test_xgboost_deterministic_and_uses_exog(make_panel: Any) -> None:
    df = make_panel(3, 60)
    future = make_panel(3, 64)
    future = future[future["ds"] > df["ds"].max()]
    kw = {"horizon": 4, "n_estimators": 20, "data_config": CFG}
    a = XGBoostForecaster(**kw).fit(df, exog_cols=["promo"]).predict(4, level=[80], X_future=future)
    b = XGBoostForecaster(**kw).fit(df, exog_cols=["promo"]).predict(4, level=[80], X_future=future)
    pd.testing.assert_frame_equal(a, b)
    assert np.isfinite(a["XGBoost"]).all()
    with pytest.raises(ConfigError, match="horizons up to 4"):
        XGBoostForecaster(**kw).fit(df).predict(5)


def test_lstm_deterministic_with_seed(make_panel: Any) -> None:
    pytest.importorskip("torch")
    df = make_panel(3, 50)
    kw = {"horizon": 3, "input_size": 8, "hidden_size": 8, "epochs": 2, "data_config": CFG}
    a = LSTMForecaster(**kw).fit(df).predict(3)
    b = LSTMForecaster(**kw).fit(df).predict(3)
    pd.testing.assert_frame_equal(a, b)
    assert a["LSTM"].between(0, 200).all()


def test_simplex_weights_pick_the_exact_member() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(100, 10, 50)
    preds = np.column_stack([y + rng.normal(0, 20, 50), y, y - 30])
    w = simplex_weights(preds, y, np.ones(50))
    assert w.sum() == pytest.approx(1.0)
    assert (w >= 0).all()
    assert w[1] == pytest.approx(1.0, abs=1e-6)


def test_combination_weights_and_forecast(make_panel: Any) -> None:
    df = make_panel(3, 70)
    model = CombinationForecaster(
        [
            SeasonalNaive(data_config=CFG),
            XGBoostForecaster(horizon=4, n_estimators=20, data_config=CFG),
        ],
        horizon=4,
        data_config=CFG,
    ).fit(df)
    assert sum(model.weights_.values()) == pytest.approx(1.0)
    fc = model.predict(4, level=[80])
    members = [m.predict(4) for m in model.members_]
    expected = sum(
        model.weights_[m.name] * f[m.name].to_numpy()
        for m, f in zip(model.members_, members, strict=True)
    )
    assert fc["Combination"].to_numpy() == pytest.approx(expected)
    clone = model.clone()
    assert not hasattr(clone, "weights_")


def test_zhang_hybrid_adds_residual_forecast(make_panel: Any) -> None:
    pytest.importorskip("torch")
    df = make_panel(2, 70)
    lstm = LSTMForecaster(
        seasonal=False, horizon=4, input_size=6, hidden_size=4, epochs=1, data_config=CFG
    )
    model = ZhangHybrid(AutoARIMA(data_config=CFG), lstm, data_config=CFG).fit(df)
    fc = model.predict(4)
    base = model.base_.predict(4)["AutoARIMA"].to_numpy()
    resid = model.residual_.predict(4)["LSTM"].to_numpy()
    assert fc["ZhangHybrid"].to_numpy() == pytest.approx(base + resid)
