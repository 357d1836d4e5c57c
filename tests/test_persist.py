"""The one saved-model format: manifest, hashes, class and format checks, no pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

import chainmall
from chainmall._persist import (
    FORMAT_VERSION,
    InitParamsMixin,
    ParamsMixin,
    class_path,
    load_folder,
    save_folder,
)
from chainmall.config import EngineConfig
from chainmall.exceptions import ConfigError, ModelFileError


class _Config(EngineConfig):
    size: int = Field(default=3, ge=1, description="A size (count).")


class _Model(ParamsMixin):
    def __init__(self, config: _Config | None = None) -> None:
        self.config = config or _Config()


class _Child(_Model):
    pass


class _Other:
    pass


class _Keywords(InitParamsMixin):
    def __init__(self, *, depth: int = 2, name: str = "a") -> None:
        if depth < 1:
            raise ConfigError(f"depth must be >= 1, got {depth}")
        self.depth = depth
        self.name = name


def _save(folder: Path, obj: Any = None) -> Path:
    return save_folder(
        folder,
        obj if obj is not None else _Model(_Config(size=5)),
        config=_Config(size=5),
        state={"ids": ["u1", 2]},
        arrays={"w": np.arange(4.0)},
        files={"booster.json": b'{"a": 1}', "members/0/manifest.json": b"{}"},
    )


def _manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    return data


def test_round_trip_and_manifest(tmp_path: Path) -> None:
    folder = _save(tmp_path / "m")
    manifest = _manifest(folder)
    assert manifest["library_version"] == chainmall.__version__
    assert manifest["class"] == class_path(_Model) == f"{__name__}._Model"
    assert manifest["config"] == {"size": 5}
    assert manifest["format_version"] == FORMAT_VERSION
    assert set(manifest["files"]) == {"arrays.npz", "booster.json", "members/0/manifest.json"}
    saved = load_folder(folder, _Model)
    assert saved.cls is _Model and saved.state == {"ids": ["u1", 2]}
    np.testing.assert_array_equal(saved.arrays()["w"], np.arange(4.0))
    assert saved.file("booster.json") == b'{"a": 1}'
    with pytest.raises(ModelFileError, match="lists no file"):
        saved.file("weights.pt")


def test_nan_in_the_state_loads_back_and_an_infinity_is_refused_at_save(tmp_path: Path) -> None:
    scores = pd.DataFrame({"candidate": ["a", "b"], "value": [0.7, float("nan")]})
    state = {"selection": scores.to_dict(orient="records"), "best": (1.0, float("nan"))}
    folder = save_folder(tmp_path / "m", _Model(), config=_Config(), state=state)
    saved = load_folder(folder, _Model)
    assert saved.state["best"] == [1.0, None]
    pd.testing.assert_frame_equal(pd.DataFrame(saved.state["selection"]), scores)
    with pytest.raises(ModelFileError, match=r"cannot save .*_Model.*: inf"):
        save_folder(tmp_path / "inf", _Model(), config=_Config(), state={"x": float("inf")})
    assert not (tmp_path / "inf" / "manifest.json").exists()


@pytest.mark.parametrize("name", ["arrays.npz", "booster.json", "members/0/manifest.json"])
def test_a_changed_file_is_refused(tmp_path: Path, name: str) -> None:
    folder = _save(tmp_path / "m")
    (folder / name).write_bytes((folder / name).read_bytes() + b" ")
    with pytest.raises(ModelFileError, match="SHA-256 hash"):
        load_folder(folder, _Model)
    (folder / name).unlink()
    with pytest.raises(ModelFileError, match="missing"):
        load_folder(folder, _Model)


def test_a_newer_format_asks_for_an_upgrade(tmp_path: Path) -> None:
    folder = _save(tmp_path / "m")
    manifest = _manifest(folder) | {"format_version": FORMAT_VERSION + 1}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="upgrade chainmall"):
        load_folder(folder, _Model)


def test_another_class_is_refused_unless_a_subclass_is_allowed(tmp_path: Path) -> None:
    folder = _save(tmp_path / "m", _Child())
    with pytest.raises(ModelFileError, match=r"holds a '_Child'.*not a _Model.*_Child\.load"):
        load_folder(folder, _Model)
    assert load_folder(folder, _Model, subclasses=True).cls is _Child
    with pytest.raises(ModelFileError, match="not a _Other"):
        load_folder(folder, _Other, subclasses=True)


@pytest.mark.parametrize("legacy", ["model.json", "demand_model.json", "file"])
def test_earlier_formats_are_refused_with_the_fix(tmp_path: Path, legacy: str) -> None:
    target = tmp_path / "old"
    if legacy == "file":  # the segment models' single JSON file
        target.write_text('{"model": "BetaGeo"}')
    else:
        target.mkdir()
        (target / legacy).write_text("{}")
    with pytest.raises(ModelFileError, match=r"earlier chainmall.*fit the model again"):
        load_folder(target, _Model)
    with pytest.raises(ModelFileError, match="not a saved chainmall model"):
        load_folder(tmp_path / "absent", _Model)


@pytest.mark.parametrize("name", ["../outside.json", "/etc/passwd", "a b.json", "manifest.json"])
def test_strange_file_names_in_a_manifest_are_refused(tmp_path: Path, name: str) -> None:
    folder = _save(tmp_path / "m")
    manifest = _manifest(folder)
    manifest["files"][name] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="strange file name"):
        load_folder(folder, _Model)


def test_a_foreign_manifest_is_refused(tmp_path: Path) -> None:
    folder = _save(tmp_path / "m")
    for edit in ({"format": "other"}, {"files": [1]}, {"class": 3}):
        (folder / "manifest.json").write_text(json.dumps(_manifest(_save(folder)) | edit))
        with pytest.raises(ModelFileError):
            load_folder(folder, _Model)


def test_params_round_trip_through_the_config() -> None:
    model = _Model()
    assert model.get_params() == {"size": 3}
    assert model.set_params(**model.get_params() | {"size": 7}) is model
    assert model.config == _Config(size=7)
    with pytest.raises(ConfigError, match="sise"):
        model.set_params(sise=2)
    with pytest.raises(ConfigError):
        model.set_params(size=0)
    assert model.config.size == 7  # a failed call changes nothing


def test_params_round_trip_through_the_constructor() -> None:
    obj = _Keywords(depth=3)
    assert obj.get_params() == {"depth": 3, "name": "a"}
    obj.set_params(name="b")
    assert obj.get_params() == {"depth": 3, "name": "b"}
    with pytest.raises(ConfigError, match="no parameter"):
        obj.set_params(width=1)
    with pytest.raises(ConfigError, match="depth must be"):
        obj.set_params(depth=0)
    assert obj.depth == 3
