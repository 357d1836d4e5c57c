"""What a fitted forecaster saves, in the library's one format (:mod:`chainmall._persist`).

The saved folder's manifest holds, as config, the model's config (its
hyperparameters), the data config and the sub-models given to the constructor
(nested forecasters as ``{"__forecaster__", "config", "members"}`` specs); as state, the exogenous columns, the fit report, the fitted panel's
ids / start dates / frequency and small learned values (orders, combination
weights). ``arrays.npz`` holds the fitted panel's values and every learned
array; model-native files (XGBoost's ``booster.json``, the LSTM's
``weights.pt``) come from ``_native_files``; fitted sub-models of hybrids and
combinations are saved folders of their own under ``members/<k>/``, whose
manifests the parent's manifest hashes.

This module knows forecasters only through the attributes it reads (the
:class:`SavedModel` protocol) and the ``classes`` mapping its caller passes
(class name -> class), so it imports none of the forecaster modules: the base
class imports it, never the other way round.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from chainmall._persist import SavedFolder, load_folder, save_folder
from chainmall._storage import reading
from chainmall.config import EngineConfig
from chainmall.exceptions import ModelFileError, NotFittedError
from chainmall.replenish._panel import Panel
from chainmall.replenish.config import ReplenishConfig

__all__ = ["SavedModel", "load_forecaster", "save_forecaster"]


class SavedModel(Protocol):
    """What saving and loading read from and write to a forecaster."""

    data_config: ReplenishConfig | None
    panel_: Panel
    exog_cols_: list[str]
    report_: pd.DataFrame

    @property
    def config(self) -> EngineConfig: ...

    def _sub_models(self) -> dict[str, Any]: ...

    def _learned_state(self) -> dict[str, Any]: ...

    def _restore_state(
        self, learned: dict[str, Any], members: list[Any], saved: SavedFolder
    ) -> None: ...

    def _native_files(self) -> dict[str, bytes]: ...


Classes = Mapping[str, type[Any]]


def _spec(value: Any, classes: Classes) -> Any:
    """JSON form of a sub-model argument (forecasters become class + config + members)."""
    if classes.get(type(value).__name__) is type(value):
        return {
            "__forecaster__": type(value).__name__,
            "config": value.config.to_dict(),
            "members": _sub_specs(value, classes),
        }
    if isinstance(value, list | tuple):
        return [_spec(v, classes) for v in value]
    return value


def _sub_specs(model: SavedModel, classes: Classes) -> dict[str, Any]:
    return {k: _spec(v, classes) for k, v in model._sub_models().items()}


def _class(name: str, classes: Classes) -> type[Any]:
    if not isinstance(name, str) or name not in classes:
        raise ModelFileError(
            f"saved model class {name!r} is unknown here (known: {sorted(classes)}); "
            "import the module that defines it before loading"
        )
    return classes[name]


def _build(
    cls: type[Any], spec: dict[str, Any], data: ReplenishConfig | None, classes: Classes
) -> Any:
    """A forecaster of class ``cls`` from its saved config and sub-model specs."""
    if not isinstance(spec.get("config"), dict) or not isinstance(spec.get("members"), dict):
        raise ModelFileError(f"saved config of {cls.__name__} lacks its config or members")
    members = {k: _unspec(v, data, classes) for k, v in spec["members"].items()}
    config = cls.config_class.from_dict(spec["config"])
    return cls(**members, config=config, data_config=data)


def _unspec(value: Any, data: ReplenishConfig | None, classes: Classes) -> Any:
    if isinstance(value, dict) and "__forecaster__" in value:
        return _build(_class(value["__forecaster__"], classes), value, data, classes)
    if isinstance(value, list):
        return [_unspec(v, data, classes) for v in value]
    return value


def _members(model: Any) -> list[Any]:
    """Fitted sub-models, in a fixed order."""
    if hasattr(model, "members_"):
        return list(model.members_)
    if hasattr(model, "base_"):
        return [getattr(model, "base_"), getattr(model, "residual_")]  # noqa: B009
    return []


def _panel_arrays(panel: Panel) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {
        "panel_values": np.concatenate(panel.values),
        "panel_lengths": np.array([len(v) for v in panel.values], dtype=np.int64),
    }
    for name, series in panel.exog.items():
        arrays[f"exog__{name}"] = np.concatenate(series)
    return arrays


def save_forecaster(model: SavedModel, path: str | Path, classes: Classes) -> Path:
    """Write fitted ``model`` into folder ``path`` (created); returns the folder.

    ``classes`` maps class names to the forecaster classes (to recognise nested
    forecasters among the constructor parameters).
    """
    if not hasattr(model, "panel_"):
        raise NotFittedError(f"{type(model).__name__} is not fitted; call fit(df) first")
    folder = Path(path)
    panel: Panel = model.panel_
    arrays = _panel_arrays(panel)
    learned = model._learned_state()
    arrays.update({f"learned__{k}": v for k, v in learned.items() if isinstance(v, np.ndarray)})
    members = _members(model)
    for k, member in enumerate(members):
        save_forecaster(member, folder / "members" / str(k), classes)
    config = {
        "config": model.config.to_dict(),
        "members": _sub_specs(model, classes),
        "data": model.data_config.to_dict() if model.data_config is not None else None,
    }
    state = {
        "exog_cols": list(model.exog_cols_),
        "report": json.loads(model.report_.to_json(orient="split", index=False)),
        "panel": {
            "ids": list(panel.ids),
            "starts": [s.isoformat() for s in panel.starts],
            "freq": panel.freq.freqstr,
            "exog": list(panel.exog),
        },
        "learned": {k: v for k, v in learned.items() if not isinstance(v, np.ndarray)},
        "n_members": len(members),
    }
    return save_folder(
        folder,
        model,
        config=config,
        state=state,
        arrays=arrays,
        files=model._native_files(),
        written=[f"members/{k}/manifest.json" for k in range(len(members))],
    )


def load_forecaster(path: str | Path, base: type[Any], classes: Classes, root: type[Any]) -> Any:
    """Read a folder written by :func:`save_forecaster` for ``base`` or a subclass of it.

    ``classes`` maps the saved class names to the classes to build; members may be
    of any subclass of ``root`` (the forecaster base class).
    """
    saved = load_folder(path, base, subclasses=True)
    with reading(path):
        return _load(saved, classes, root)


def _panel(info: dict[str, Any], arrays: dict[str, np.ndarray]) -> Panel:
    bounds = np.cumsum(arrays["panel_lengths"])[:-1]
    return Panel(
        ids=list(info["ids"]),
        values=np.split(arrays["panel_values"], bounds),
        starts=[pd.Timestamp(s) for s in info["starts"]],
        freq=pd.tseries.frequencies.to_offset(info["freq"]),
        exog={name: np.split(arrays[f"exog__{name}"], bounds) for name in info["exog"]},
    )


def _load(saved: SavedFolder, classes: Classes, root: type[Any]) -> Any:
    """The forecaster a checked saved folder describes, members included."""
    data = saved.config["data"]
    data_config = ReplenishConfig.from_dict(data) if data is not None else None
    model = _build(saved.cls, saved.config, data_config, classes)
    meta, arrays = saved.state, saved.arrays()
    model.panel_ = _panel(meta["panel"], arrays)
    model.exog_cols_ = list(meta["exog_cols"])
    report = meta["report"]
    model.report_ = pd.DataFrame(report["data"], columns=report["columns"])
    learned: dict[str, Any] = dict(meta["learned"])
    learned.update(
        {k[len("learned__") :]: v for k, v in arrays.items() if k.startswith("learned__")}
    )
    members = [
        load_forecaster(saved.folder / "members" / str(k), root, classes, root)
        for k in range(int(meta["n_members"]))
    ]
    model._restore_state(learned, members, saved)
    return model
