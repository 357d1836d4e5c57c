"""Forecaster hyperparameters live in a config per model; the data config is separate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chainmall.exceptions import ConfigError
from chainmall.replenish import (
    CombinationForecaster,
    Croston,
    CrostonConfig,
    ForecasterConfig,
    Naive,
    ReplenishConfig,
    SeasonalNaive,
    XGBoostForecaster,
    XGBoostForecasterConfig,
)


def test_keyword_overrides_are_the_config_fields() -> None:
    model = XGBoostForecaster(horizon=4, n_estimators=50)
    assert model.config == XGBoostForecasterConfig(horizon=4, n_estimators=50)
    both = XGBoostForecaster(XGBoostForecasterConfig(horizon=4), n_estimators=50)
    assert both.config == model.config
    assert model.get_params() == model.config.model_dump()
    assert model.set_params(max_depth=3).config.max_depth == 3
    with pytest.raises(ConfigError):
        Croston(method="holt")
    with pytest.raises(ConfigError, match="needs a CrostonConfig"):
        Croston(XGBoostForecasterConfig())


def test_replenish_config_as_config_is_the_deprecated_data_config() -> None:
    data = ReplenishConfig(season_length=3)
    with pytest.warns(FutureWarning, match="data_config="):
        old = SeasonalNaive(config=data)
    assert old.data_config == data and old.config == ForecasterConfig()
    with pytest.raises(ConfigError, match="two ReplenishConfigs"):
        SeasonalNaive(config=data, data_config=data)


def test_combination_members_are_params_and_clone_keeps_both_configs() -> None:
    data = ReplenishConfig(season_length=3)
    combo = CombinationForecaster(
        [Naive(data_config=data), Croston(CrostonConfig(method="tsb"))],
        horizon=2,
        data_config=data,
    )
    params = combo.get_params()
    assert [m.name for m in params["models"]] == ["Naive", "TSB"] and params["horizon"] == 2
    copy = combo.clone()
    assert copy.config == combo.config and copy.data_config == data
    assert copy.models[1] is not combo.models[1] and copy.models[1].config.method == "tsb"
    with pytest.raises(ConfigError, match="distinct aliases"):
        combo.set_params(models=[Naive(), Naive()])


def test_the_manifest_records_the_model_and_data_configs(make_panel: Any, tmp_path: Path) -> None:
    data = ReplenishConfig(season_length=3)
    model = Croston(method="tsb", alpha=0.3, data_config=data).fit(make_panel(2, 20))
    folder = model.save(tmp_path / "croston")
    saved = json.loads((folder / "manifest.json").read_text())["config"]
    assert saved["config"] == CrostonConfig(method="tsb", alpha=0.3).to_dict()
    assert saved["data"] == data.to_dict() and saved["members"] == {}
    loaded = Croston.load(folder)
    assert loaded.config == model.config and loaded.data_config == data
