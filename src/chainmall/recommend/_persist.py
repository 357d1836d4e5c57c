"""Save and load models without pickle: ``model.json`` (config, ids) + ``arrays.npz``.

Both files are written atomically (:mod:`chainmall._storage`), the arrays first;
reading them never runs code from the files, and any problem raises
:class:`~chainmall.exceptions.ModelFileError`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chainmall._storage import atomic_write, atomic_writer, read_json, read_npz
from chainmall.exceptions import ModelFileError

__all__ = ["read_bundle", "write_bundle"]

FORMAT_VERSION = 1


def _json_ids(ids: npt.NDArray[Any]) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in ids.tolist()]


def write_bundle(
    path: str | Path, meta: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
) -> Path:
    """Write ``meta`` (JSON-able; numpy id arrays allowed) and ``arrays`` under folder ``path``."""
    folder = Path(path)
    clean = {k: _json_ids(v) if isinstance(v, np.ndarray) else v for k, v in meta.items()}
    clean["format_version"] = FORMAT_VERSION
    with atomic_writer(folder / "arrays.npz") as out:
        np.savez_compressed(out, allow_pickle=False, **arrays)
    atomic_write(folder / "model.json", json.dumps(clean, indent=1))
    return folder


def read_bundle(path: str | Path) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """Read what :func:`write_bundle` wrote (arrays loaded with ``allow_pickle=False``)."""
    folder = Path(path)
    meta_file, array_file = folder / "model.json", folder / "arrays.npz"
    if not meta_file.is_file() or not array_file.is_file():
        raise ModelFileError(
            f"{str(folder)!r} is not a saved chainmall model: model.json and arrays.npz are "
            "needed; save one with model.save(path)"
        )
    return read_json(meta_file), read_npz(array_file)
