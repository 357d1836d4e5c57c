"""Save and load models without pickle: ``model.json`` (config, ids) + ``arrays.npz``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chainmall.exceptions import DataValidationError

__all__ = ["read_bundle", "write_bundle"]

FORMAT_VERSION = 1


def _json_ids(ids: npt.NDArray[Any]) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in ids.tolist()]


def write_bundle(
    path: str | Path, meta: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
) -> Path:
    """Write ``meta`` (JSON-able; numpy id arrays allowed) and ``arrays`` under folder ``path``."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    clean = {k: _json_ids(v) if isinstance(v, np.ndarray) else v for k, v in meta.items()}
    clean["format_version"] = FORMAT_VERSION
    (folder / "model.json").write_text(json.dumps(clean, indent=1), encoding="utf-8")
    np.savez_compressed(folder / "arrays.npz", allow_pickle=False, **arrays)
    return folder


def read_bundle(path: str | Path) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """Read what :func:`write_bundle` wrote (arrays loaded with ``allow_pickle=False``)."""
    folder = Path(path)
    meta_file, array_file = folder / "model.json", folder / "arrays.npz"
    if not meta_file.is_file() or not array_file.is_file():
        raise DataValidationError(
            f"{str(folder)!r} is not a saved chainmall model: model.json and arrays.npz are "
            "needed; save one with model.save(path)"
        )
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    with np.load(array_file, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return meta, arrays
