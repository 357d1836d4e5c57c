"""Corrupt and hostile saved models raise ModelFileError (or ConfigError) and run no code.

Every saveable model is saved once; then each of its files is, in turn, cut short,
emptied, overwritten with noise, removed, replaced by a symlink loop or by a
pickle payload (``.npz`` / ``.pt``), and each JSON file is also given bad UTF-8,
deep nesting, a repeated key and a foreign class name. Loading must raise a
:class:`~chainmall.exceptions.ModelFileError` or
:class:`~chainmall.exceptions.ConfigError`; the pickle payload, were it ever
unpickled, would create a marker file, which must not appear.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chainmall.exceptions import ConfigError, ModelFileError
from chainmall.recommend import EASE, Interactions, RatingBlend
from chainmall.replenish import Naive
from chainmall.segment import (
    BetaGeo,
    CustomerValueModel,
    GammaGamma,
    ShiftedBetaGeometric,
    summarize,
    survival_table,
)
from tests.contract.cases_segment import _VALUE, UTC, _log
from tests.contract.data import demand, ratings, tiny_ddpg_config
from tests.contract.runner import FILE_COUNTS

OJ_COLUMNS = {"store_id": "store", "item_id": "brand", "ds": "week"}
"""The builder's canonical names -> the orange-juice (and simulated market) columns."""

MARKER = "unpickled-code-ran"


class _Payload:
    """Unpickling this would call ``open(marker, "w")``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


@dataclass(frozen=True)
class Saved:
    """A model type: how to save a fitted one under a folder, and how to load it back."""

    name: str
    save: Callable[[Path], Path]
    load: Callable[[Path], Any]


def _summary() -> Any:
    return summarize(_log(), UTC).customers


def _torch_models() -> list[Saved]:
    try:
        import torch  # noqa: F401
    except ImportError:
        return []
    from chainmall.recommend import DDPGRecommender, SimulatorConfig, build_simulation
    from chainmall.replenish import LSTMForecaster

    lstm = LSTMForecaster(horizon=2, input_size=4, hidden_size=3, epochs=1, seasonal=False)
    tiny = tiny_ddpg_config()
    simulation = SimulatorConfig(n_visible=3, n_steps=2, slate_size=3)
    return [
        Saved(
            "LSTMForecaster",
            lambda p: lstm.fit(demand()).save(p / "lstm"),
            LSTMForecaster.load,
        ),
        Saved(
            "DDPGRecommender",
            lambda p: (
                DDPGRecommender(tiny)
                .fit(build_simulation(ratings(40, 15), simulation))
                .save(p / "ddpg")
            ),
            DDPGRecommender.load,
        ),
    ]


def _xgboost_models() -> list[Saved]:
    try:
        import xgboost  # noqa: F401
    except ImportError:
        return []
    from chainmall.pricing import DemandModel
    from chainmall.replenish import XGBoostForecaster

    model = XGBoostForecaster(horizon=2, n_estimators=5)
    return [
        Saved(
            "XGBoostForecaster",
            lambda p: model.fit(demand()).save(p / "xgb"),
            XGBoostForecaster.load,
        ),
        Saved("DemandModel", lambda p: _demand_model().save(p / "demand"), DemandModel.load),
        Saved("DemandFeatureBuilder", lambda p: _builder().save(p / "builder"), _load_builder),
    ]


def _builder() -> Any:
    from chainmall.pricing import DemandFeatureBuilder, simulate_market

    market = simulate_market(n_stores=3, n_products=2, n_weeks=10, seed=1)
    history = market.history.rename(columns={"price_fen": "price", "product": "brand"})
    return DemandFeatureBuilder(columns=OJ_COLUMNS).fit(history)


def _load_builder(path: Path) -> Any:
    from chainmall.pricing import DemandFeatureBuilder

    return DemandFeatureBuilder.load(path)


def _demand_model() -> Any:
    from chainmall.pricing import DemandConfig, DemandFeatureBuilder, DemandModel, simulate_market

    market = simulate_market(n_stores=4, n_products=2, n_weeks=30, seed=1)
    history = market.history.rename(columns={"price_fen": "price", "product": "brand"})
    builder = DemandFeatureBuilder(columns=OJ_COLUMNS).fit(history)
    feats = builder.transform(history, market=history[["store", "week", "brand", "price", "feat"]])
    cols = builder.feature_columns(feats)
    config = DemandConfig(n_estimators=10, max_depth=2, monotone_grid=3)
    return DemandModel(config).fit(
        feats[cols],
        builder.target(history),
        catalog=builder.catalog_for(cols),
        periods=history["week"],
    )


SAVED = [
    Saved("BetaGeo", lambda p: BetaGeo().fit(_summary()).save(p / "bg"), BetaGeo.load),
    Saved("GammaGamma", lambda p: GammaGamma().fit(_summary()).save(p / "gg"), GammaGamma.load),
    Saved(
        "ShiftedBetaGeometric",
        lambda p: (
            ShiftedBetaGeometric()
            .fit(survival_table([1000, 631, 468, 382, 326]), weight="count")
            .save(p / "sbg")
        ),
        ShiftedBetaGeometric.load,
    ),
    Saved(
        "CustomerValueModel",
        lambda p: CustomerValueModel(_VALUE).fit(_log()).save(p / "value"),
        CustomerValueModel.load,
    ),
    Saved(
        "EASE",
        lambda p: EASE().fit(Interactions.from_frame(ratings())).save(p / "ease"),
        EASE.load,
    ),
    Saved(
        "RatingBlend",
        lambda p: RatingBlend().fit(Interactions.from_frame(ratings(30, 20))).save(p / "blend"),
        RatingBlend.load,
    ),
    Saved("Naive", lambda p: Naive().fit(demand()).save(p / "naive"), Naive.load),
    *_xgboost_models(),
    *_torch_models(),
]


def _files(artifact: Path) -> list[Path]:
    if artifact.is_file():
        return [artifact]
    return sorted(p for p in artifact.rglob("*") if p.is_file())


def _loop(path: Path) -> None:
    path.unlink()
    other = path.with_name(path.name + ".loop")
    os.symlink(other, path)
    os.symlink(path, other)


def _json_edits(data: bytes) -> Iterator[tuple[str, bytes]]:
    yield "non_utf8", b"\xff\xfe" + data
    yield "deep_nesting", b"[" * 100_000 + b"]" * 100_000
    text = data.decode("utf-8")
    loaded = json.loads(text)
    first = next(iter(loaded))
    repeat = f"{json.dumps(first)}: {json.dumps(loaded[first])}, "
    brace = text.index("{")
    yield "duplicate_key", (text[: brace + 1] + repeat + text[brace + 1 :]).encode()
    for key in ("model", "class"):
        if key in loaded:
            yield f"foreign_{key}", json.dumps({**loaded, key: "os.system"}).encode()
    yield "wrong_types", json.dumps({key: [1, [2]] for key in loaded}).encode()


def _corruptions(file: Path, marker: Path) -> Iterator[tuple[str, Callable[[Path], None]]]:
    """``(label, apply)``: each damages ``file`` (given by its path in a fresh copy)."""
    data = file.read_bytes()
    yield "truncated", lambda f: f.write_bytes(data[: len(data) // 2])
    yield "empty", lambda f: f.write_bytes(b"")
    yield "noise", lambda f: f.write_bytes(np.random.default_rng(0).bytes(max(len(data), 64)))
    yield "missing", lambda f: f.unlink()
    yield "symlink_loop", _loop
    if file.suffix == ".npz":
        payload = np.array([_Payload(marker)], dtype=object)
        yield "pickle_payload", lambda f: np.savez(f.open("wb"), x=payload)
    if file.suffix == ".pt":
        yield "pickle_payload", lambda f: f.write_bytes(pickle.dumps({"w": _Payload(marker)}))
    if file.suffix == ".json":
        for label, edited in _json_edits(data):
            yield label, lambda f, edited=edited: f.write_bytes(edited)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # the hostile .pt payload
@pytest.mark.parametrize("saved", SAVED, ids=[s.name for s in SAVED])
def test_corrupt_saved_models_raise_model_file_error(saved: Saved, tmp_path: Path) -> None:
    original = saved.save(tmp_path / "original")
    saved.load(original)  # the intact model loads
    marker = tmp_path / MARKER
    problems = []
    for file in _files(original):
        relative = file.relative_to(original) if original.is_dir() else Path(".")
        for label, damage in _corruptions(file, marker):
            copy = tmp_path / "copy"
            shutil.rmtree(copy, ignore_errors=True)
            if original.is_dir():
                shutil.copytree(original, copy)
                target = copy / relative
            else:
                copy.mkdir()
                target = copy / original.name
                shutil.copy(original, target)
            damage(target)
            FILE_COUNTS["tried"] += 1
            where = f"{relative}/{label}"
            try:
                saved.load(copy if original.is_dir() else target)
            except (ModelFileError, ConfigError):
                FILE_COUNTS["refused"] += 1
            except Exception as exc:
                problems.append(f"{where}: {type(exc).__name__}: {str(exc)[:200]}")
            else:
                problems.append(f"{where}: loaded without error")
            assert not marker.exists(), f"{where}: code in the file ran"
    missing = tmp_path / "nothing-here"
    with pytest.raises((ModelFileError, ConfigError)):
        saved.load(missing)
    assert not problems, "\n".join(problems)
