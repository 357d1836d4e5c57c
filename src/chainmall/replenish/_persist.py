"""Saving and loading fitted forecasters without pickle.

A fitted forecaster is a folder:

* ``model.json``: class name, constructor parameters (nested forecasters as
  ``{"class", "params"}`` specs), the data config, the exogenous columns, the
  fit report, the fitted panel's ids / start dates / frequency, and small
  learned values (orders, combination weights);
* ``arrays.npz`` (``allow_pickle=False``): the fitted panel's values and every
  learned array;
* model-native files: XGBoost's ``booster.json``, the LSTM's ``weights.pt``
  (a ``state_dict``, loaded with ``weights_only=True``);
* ``members/<k>/``: fitted sub-models of hybrids and combinations.

Every file is written atomically (:mod:`chainmall._storage`), ``model.json``
last. Loading runs no code from the files; anything unreadable, or a class name
this library does not define, raises :class:`~chainmall.exceptions.ModelFileError`.

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

from chainmall._storage import atomic_write, atomic_writer, read_json, read_npz, reading
from chainmall.exceptions import ModelFileError, NotFittedError
from chainmall.replenish._panel import Panel
from chainmall.replenish.config import ReplenishConfig

__all__ = ["SavedModel", "load_forecaster", "save_forecaster"]

FORMAT_VERSION = 1


class SavedModel(Protocol):
    """What saving and loading read from and write to a forecaster."""

    config: ReplenishConfig | None
    panel_: Panel
    exog_cols_: list[str]
    report_: pd.DataFrame

    def get_params(self) -> dict[str, Any]: ...

    def _learned_state(self) -> dict[str, Any]: ...

    def _restore_state(self, learned: dict[str, Any], members: list[Any], folder: Path) -> None: ...

    def _save_native(self, folder: Path) -> None: ...


Classes = Mapping[str, type[Any]]


def _spec(value: Any, classes: Classes) -> Any:
    """JSON form of a constructor parameter (forecasters become class + params)."""
    if classes.get(type(value).__name__) is type(value):
        params = {k: _spec(v, classes) for k, v in value.get_params().items() if k != "config"}
        return {"__forecaster__": type(value).__name__, "params": params}
    if isinstance(value, list | tuple):
        return [_spec(v, classes) for v in value]
    return value


def _class(name: str, classes: Classes) -> type[Any]:
    if not isinstance(name, str) or name not in classes:
        raise ModelFileError(
            f"saved model class {name!r} is unknown here (known: {sorted(classes)}); "
            "import the module that defines it before loading"
        )
    return classes[name]


def _unspec(value: Any, config: ReplenishConfig | None, classes: Classes) -> Any:
    if isinstance(value, dict) and "__forecaster__" in value:
        cls = _class(value["__forecaster__"], classes)
        if not isinstance(value["params"], dict):
            raise ModelFileError(f"saved parameters of {cls.__name__} are not an object")
        params = {k: _unspec(v, config, classes) for k, v in value["params"].items()}
        return cls(**params, config=config)
    if isinstance(value, list):
        return [_unspec(v, config, classes) for v in value]
    return value


def _members(model: Any) -> list[Any]:
    """Fitted sub-models, in a fixed order."""
    if hasattr(model, "members_"):
        return list(model.members_)
    if hasattr(model, "base_"):
        return [getattr(model, "base_"), getattr(model, "residual_")]  # noqa: B009
    return []


def save_forecaster(model: SavedModel, path: str | Path, classes: Classes) -> Path:
    """Write fitted ``model`` into folder ``path`` (created); returns the folder.

    ``classes`` maps class names to the forecaster classes (to recognise nested
    forecasters among the constructor parameters).
    """
    if not hasattr(model, "panel_"):
        raise NotFittedError(f"{type(model).__name__} is not fitted; call fit(df) first")
    folder = Path(path)
    panel: Panel = model.panel_
    arrays: dict[str, np.ndarray] = {
        "panel_values": np.concatenate(panel.values),
        "panel_lengths": np.array([len(v) for v in panel.values], dtype=np.int64),
    }
    for name, series in panel.exog.items():
        arrays[f"exog__{name}"] = np.concatenate(series)
    learned = model._learned_state()
    small = {k: v for k, v in learned.items() if not isinstance(v, np.ndarray)}
    arrays.update({f"learned__{k}": v for k, v in learned.items() if isinstance(v, np.ndarray)})
    params = {k: _spec(v, classes) for k, v in model.get_params().items() if k != "config"}
    meta = {
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "params": params,
        "config": model.config.to_dict() if model.config is not None else None,
        "exog_cols": list(model.exog_cols_),
        "report": json.loads(model.report_.to_json(orient="split", index=False)),
        "panel": {
            "ids": list(panel.ids),
            "starts": [s.isoformat() for s in panel.starts],
            "freq": panel.freq.freqstr,
            "exog": list(panel.exog),
        },
        "learned": small,
    }
    with atomic_writer(folder / "arrays.npz") as out:
        np.savez(out, **arrays)  # type: ignore[arg-type]
    model._save_native(folder)
    for k, member in enumerate(_members(model)):
        save_forecaster(member, folder / "members" / str(k), classes)
    atomic_write(folder / "model.json", json.dumps(meta, indent=1))
    return folder


def load_forecaster(path: str | Path, classes: Classes) -> Any:
    """Read a folder written by :func:`save_forecaster`; the model predicts as before.

    ``classes`` maps the saved class names to the classes to build.
    """
    folder = Path(path)
    meta_file = folder / "model.json"
    if not meta_file.is_file():
        raise ModelFileError(f"{meta_file} not found; pass a folder written by model.save()")
    with reading(folder):
        return _load(folder, read_json(meta_file), classes)


def _load(folder: Path, meta: dict[str, Any], classes: Classes) -> Any:
    """The forecaster described by ``meta`` with its arrays and members from ``folder``."""
    meta_file = folder / "model.json"
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{meta_file} has format_version {meta.get('format_version')}, "
            f"this version reads {FORMAT_VERSION}"
        )
    config = ReplenishConfig.from_dict(meta["config"]) if meta["config"] is not None else None
    cls = _class(meta["class"], classes)
    params = {k: _unspec(v, config, classes) for k, v in meta["params"].items()}
    model = cls(**params, config=config)
    arrays = read_npz(folder / "arrays.npz")
    bounds = np.cumsum(arrays["panel_lengths"])[:-1]
    info = meta["panel"]
    model.panel_ = Panel(
        ids=list(info["ids"]),
        values=np.split(arrays["panel_values"], bounds),
        starts=[pd.Timestamp(s) for s in info["starts"]],
        freq=pd.tseries.frequencies.to_offset(info["freq"]),
        exog={name: np.split(arrays[f"exog__{name}"], bounds) for name in info["exog"]},
    )
    model.exog_cols_ = list(meta["exog_cols"])
    report = meta["report"]
    model.report_ = pd.DataFrame(report["data"], columns=report["columns"])
    learned: dict[str, Any] = dict(meta["learned"])
    learned.update(
        {k[len("learned__") :]: v for k, v in arrays.items() if k.startswith("learned__")}
    )
    members_dir = folder / "members"
    members = (
        [
            load_forecaster(members_dir / str(k), classes)
            for k in range(len(list(members_dir.iterdir())))
        ]
        if members_dir.is_dir()
        else []
    )
    model._restore_state(learned, members, folder)
    return model
