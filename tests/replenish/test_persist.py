"""Save / load round trips (JSON + npz + native files, no pickle) for every forecaster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainmall.exceptions import DataValidationError, NotFittedError
from chainmall.replenish import (
    AutoARIMA,
    CombinationForecaster,
    Croston,
    LSTMForecaster,
    Naive,
    ReplenishConfig,
    SeasonalNaive,
    XGBoostForecaster,
    ZhangHybrid,
)
from chainmall.replenish._base import Forecaster

CFG = ReplenishConfig(season_length=13)


def _models() -> list[Forecaster]:
    models: list[Forecaster] = [
        Naive(data_config=CFG),
        SeasonalNaive(data_config=CFG),
        Croston(method="tsb", data_config=CFG),
        AutoARIMA(data_config=CFG),
        XGBoostForecaster(horizon=4, n_estimators=15, data_config=CFG),
        CombinationForecaster(
            [SeasonalNaive(data_config=CFG), AutoARIMA(data_config=CFG, alias="ARIMA")],
            horizon=4,
            data_config=CFG,
        ),
    ]
    try:
        import torch  # noqa: F401
    except ImportError:
        return models
    lstm = LSTMForecaster(
        seasonal=False, horizon=4, input_size=6, hidden_size=4, epochs=1, data_config=CFG
    )
    models += [
        LSTMForecaster(horizon=4, input_size=6, hidden_size=4, epochs=1, data_config=CFG),
        ZhangHybrid(AutoARIMA(data_config=CFG), lstm, data_config=CFG),
    ]
    return models


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.name)
def test_save_load_round_trip(model: Forecaster, make_panel: Any, tmp_path: Path) -> None:
    df = make_panel(3, 70)
    fitted = model.fit(df)
    before = fitted.predict(4, level=[80])
    folder = fitted.save(tmp_path / "m")
    loaded = type(model).load(folder)
    pd.testing.assert_frame_equal(loaded.predict(4, level=[80]), before)
    pd.testing.assert_frame_equal(loaded.report_, fitted.report_)
    newer = make_panel(3, 74)
    pd.testing.assert_frame_equal(
        loaded.predict(4, history=newer), fitted.predict(4, history=newer)
    )
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:  # loads without pickle
        assert "panel_values" in npz.files
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["class"] == f"{type(model).__module__}.{type(model).__qualname__}"


def test_save_before_fit_and_wrong_class(make_panel: Any, tmp_path: Path) -> None:
    with pytest.raises(NotFittedError):
        SeasonalNaive(data_config=CFG).save(tmp_path / "x")
    SeasonalNaive(data_config=CFG).fit(make_panel(2, 40)).save(tmp_path / "sn")
    with pytest.raises(DataValidationError, match="not a Naive"):
        Naive.load(tmp_path / "sn")
    with pytest.raises(DataValidationError, match=r"manifest\.json"):
        Naive.load(tmp_path / "missing")
