"""One saved-model format for every fitted object of the library.

A saved model is a folder::

    manifest.json   written last: library version, fully qualified class, config,
                    format version, model state (small JSON values) and the
                    SHA-256 of every other file
    arrays.npz      NumPy arrays (read with ``allow_pickle=False``)
    booster*.json   XGBoost models, in XGBoost's JSON format
    weights.pt      a torch ``state_dict`` (read with ``weights_only=True``)
    members/<k>/    fitted sub-models, each a saved folder of its own

:func:`save_folder` writes it (every file atomically through
:mod:`chainmall._storage`, the manifest last, so a crash leaves the previous
manifest or none); :func:`load_folder` reads it back: it reads each listed file
once, checks its hash against the manifest, checks the class, and refuses a
format newer than this library reads. Nothing is unpickled and no code named in
a file is imported. Every failure is a :class:`~chainmall.exceptions.ModelFileError`
naming the folder and the fix.

Folders written before this format (``model.json`` + ``arrays.npz``, the segment
models' single JSON files, the demand model's ``demand_model.json``) are refused
with a message saying to refit and save again; they carry no hashes to check.

:class:`ParamsMixin` gives every model whose hyperparameters live in ``config``
the scikit-learn ``get_params`` / ``set_params`` pair.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from chainmall._storage import atomic_write, parse_json, reading
from chainmall.config import EngineConfig
from chainmall.exceptions import ConfigError, ModelFileError

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "InitParamsMixin",
    "ParamsMixin",
    "SavedFolder",
    "class_path",
    "json_values",
    "load_folder",
    "save_folder",
    "torch_bytes",
]

FORMAT_VERSION = 2
"""Version of the folder layout this library writes and reads (1 was the per-engine formats)."""
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
_FORMAT = "chainmall-model"
_FILE_NAME = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_LEGACY_FILES = ("model.json", "demand_model.json")


def class_path(cls: type) -> str:
    """``module.QualifiedName`` of ``cls``, as recorded in a manifest."""
    return f"{cls.__module__}.{cls.__qualname__}"


def json_values(values: Iterable[Any]) -> list[Any]:
    """Ids or values as plain JSON scalars (NumPy scalars unwrapped)."""
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npz_bytes(arrays: Mapping[str, npt.NDArray[Any]]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def torch_bytes(state_dict: Mapping[str, Any]) -> bytes:
    """A torch ``state_dict`` (tensors only) serialised for the ``weights.pt`` file."""
    from chainmall._optional import import_optional

    torch = import_optional("torch", extra="torch")
    buffer = io.BytesIO()
    torch.save(dict(state_dict), buffer)
    return buffer.getvalue()


def _config_json(config: EngineConfig | Mapping[str, Any] | None) -> Any:
    if isinstance(config, EngineConfig):
        return config.model_dump(mode="json")
    return None if config is None else dict(config)


def save_folder(
    path: str | Path,
    obj: object,
    *,
    config: EngineConfig | Mapping[str, Any] | None,
    state: Mapping[str, Any] | None = None,
    arrays: Mapping[str, npt.NDArray[Any]] | None = None,
    files: Mapping[str, bytes] | None = None,
    written: Iterable[str] = (),
) -> Path:
    """Save ``obj`` (a fitted model) into folder ``path``; returns the folder.

    Args:
        config: the model's config (dumped with ``model_dump(mode="json")``) or a
            JSON-able mapping for models configured otherwise.
        state: small learned values, JSON-able (stored in the manifest).
        arrays: learned arrays, written to ``arrays.npz`` without pickle.
        files: other files by relative name (``booster.json``, ``weights.pt``).
        written: relative names of files already written under the folder (the
            manifests of saved sub-models); their hashes are recorded too.
    """
    from chainmall import __version__

    folder = Path(path)
    payloads = dict(files or {})
    if arrays:
        payloads[ARRAYS] = _npz_bytes(arrays)
    hashes = {}
    for name, data in payloads.items():
        atomic_write(folder / name, data)
        hashes[name] = _sha256(data)
    for name in written:
        hashes[name] = _sha256((folder / name).read_bytes())
    manifest = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "class": class_path(type(obj)),
        "config": _config_json(config),
        "state": _nan_as_null(dict(state or {})),
        "files": hashes,
    }
    try:
        text = json.dumps(manifest, indent=1, allow_nan=False)
    except ValueError as error:  # an infinity: what is saved must load (strict JSON)
        raise ModelFileError(
            f"cannot save {class_path(type(obj))}: its state holds a value JSON cannot keep "
            f"({error}); this is a bug in the model's save, please report it"
        ) from None
    atomic_write(folder / MANIFEST, text)
    return folder


def _nan_as_null(value: Any) -> Any:
    """``value`` with every float NaN inside (dicts, lists, tuples) as None: JSON's null,
    which a DataFrame or float array reads back as NaN (strict JSON has no NaN)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_as_null(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_as_null(v) for v in value]
    return value


@dataclass(frozen=True)
class SavedFolder:
    """What :func:`load_folder` read and checked: the class, config, state and file bytes."""

    folder: Path
    cls: type
    library_version: str
    config: Any
    state: dict[str, Any]
    data: dict[str, bytes] = field(repr=False)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The arrays of ``arrays.npz`` (none if the model saved no arrays)."""
        if ARRAYS not in self.data:
            return {}
        with np.load(io.BytesIO(self.data[ARRAYS]), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}

    def file(self, name: str) -> bytes:
        """The checked bytes of file ``name``."""
        if name not in self.data:
            raise ModelFileError(
                f"{str(self.folder)!r}: its manifest lists no file {name!r}; "
                "save the model again with .save(path)"
            )
        return self.data[name]

    def torch_state(self, name: str = "weights.pt") -> dict[str, Any]:
        """The torch ``state_dict`` in ``name``, loaded with ``weights_only=True`` onto the CPU."""
        from chainmall._optional import import_optional

        torch = import_optional("torch", extra="torch")
        state: dict[str, Any] = torch.load(
            io.BytesIO(self.file(name)), weights_only=True, map_location="cpu"
        )
        return state


def _subclasses(cls: type) -> Iterable[type]:
    yield cls
    sub: type
    for sub in cls.__subclasses__():
        yield from _subclasses(sub)


def _resolve(folder: Path, name: Any, expected: type, subclasses: bool) -> type:
    """The class a manifest names: ``expected`` (or, with ``subclasses``, one of them)."""
    candidates = list(_subclasses(expected)) if subclasses else [expected]
    for cls in candidates:
        if class_path(cls) == name:
            return cls
    if not isinstance(name, str):
        raise ModelFileError(f"{str(folder / MANIFEST)!r}: 'class' is not a class name")
    short = name.rsplit(".", 1)[-1]
    raise ModelFileError(
        f"{str(folder)!r} holds a {short!r} ({name}), not a {expected.__name__} "
        f"({class_path(expected)}); load it with {short}.load"
    )


def _refuse_legacy(folder: Path) -> None:
    if folder.is_file() or any((folder / name).is_file() for name in _LEGACY_FILES):
        raise ModelFileError(
            f"{str(folder)!r} was saved by an earlier chainmall in a format without a "
            f"{MANIFEST} (no content hashes); this version does not read it: fit the model "
            "again and save it with .save(folder)"
        )


def _check_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    version = manifest.get("format_version")
    if manifest.get("format") != _FORMAT or not isinstance(version, int):
        raise ModelFileError(
            f"{str(folder / MANIFEST)!r} is not a chainmall model manifest "
            f"(format {manifest.get('format')!r}, version {version!r}); save the model again"
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(folder)!r} was saved by chainmall {manifest.get('library_version')!r} in "
            f"format {version}; this chainmall reads format {FORMAT_VERSION} at most: "
            'upgrade chainmall (pip install -U "chainmall")'
        )
    if version < FORMAT_VERSION:
        raise ModelFileError(
            f"{str(folder)!r} holds format {version}, older than this chainmall reads "
            f"({FORMAT_VERSION}); fit the model again and save it with .save(folder)"
        )
    for key, kind in (("files", dict), ("state", dict), ("library_version", str)):
        if not isinstance(manifest.get(key), kind):
            raise ModelFileError(f"{str(folder / MANIFEST)!r}: {key!r} is not a {kind.__name__}")


def _read_files(folder: Path, hashes: dict[str, Any]) -> dict[str, bytes]:
    """Each listed file's bytes, after checking its name and hash."""
    data = {}
    for name, digest in hashes.items():
        parts = PurePosixPath(name).parts
        if not _FILE_NAME.fullmatch(name) or ".." in parts or name == MANIFEST:
            raise ModelFileError(f"{str(folder / MANIFEST)!r} lists a strange file name {name!r}")
        target = folder / name
        if not target.is_file():
            raise ModelFileError(
                f"{str(target)!r} is missing; copy the whole folder written by .save(path)"
            )
        content = target.read_bytes()
        if _sha256(content) != digest:
            raise ModelFileError(
                f"{str(target)!r} does not match the SHA-256 hash in {MANIFEST}: the folder was "
                "changed after it was saved; save the model again"
            )
        data[name] = content
    return data


def load_folder(path: str | Path, expected: type, *, subclasses: bool = False) -> SavedFolder:
    """Read and check a folder written by :func:`save_folder` for class ``expected``.

    ``subclasses=True`` also accepts a folder saved by a subclass of ``expected``
    (``Forecaster.load`` reads any forecaster). Raises
    :class:`~chainmall.exceptions.ModelFileError` for a missing, legacy, changed,
    newer-format or foreign folder.
    """
    folder = Path(path)
    with reading(folder):
        manifest_file = folder / MANIFEST
        if not manifest_file.is_file():
            _refuse_legacy(folder)
            raise ModelFileError(
                f"{str(folder)!r} is not a saved chainmall model: it holds no {MANIFEST}; "
                "pass a folder written by model.save(path)"
            )
        manifest = parse_json(manifest_file.read_bytes())
        if not isinstance(manifest, dict):
            raise ModelFileError(f"{str(manifest_file)!r} does not hold a JSON object")
        _check_manifest(folder, manifest)
        cls = _resolve(folder, manifest.get("class"), expected, subclasses)
        return SavedFolder(
            folder=folder,
            cls=cls,
            library_version=manifest["library_version"],
            config=manifest.get("config"),
            state=manifest["state"],
            data=_read_files(folder, manifest["files"]),
        )


class ParamsMixin:
    """``get_params`` / ``set_params`` for models whose hyperparameters live in ``config``
    (an :class:`~chainmall.config.EngineConfig` set in ``__init__``)."""

    def _engine_config(self) -> EngineConfig:
        config: EngineConfig = vars(self)["config"]
        return config

    def get_params(self) -> dict[str, Any]:
        """The config's fields, by name (nested configs as configs)."""
        config = self._engine_config()
        return {name: getattr(config, name) for name in type(config).model_fields}

    def set_params(self, **fields: Any) -> Self:
        """Replace config fields (validated: unknown or bad values raise ``ConfigError``).

        Returns ``self`` with the new config, as scikit-learn does; learned state is
        kept until the next ``fit``.
        """
        if fields:
            vars(self)["config"] = self._engine_config().replace(**fields)
        return self


class InitParamsMixin:
    """``get_params`` / ``set_params`` for objects configured by constructor keywords."""

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments of this object, by name."""
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> Self:
        """Replace constructor arguments (checked by the constructor); returns ``self``.

        Raises:
            ConfigError: a name that is not a constructor argument, or a bad value.
        """
        current = self.get_params()
        unknown = sorted(set(params) - set(current))
        if unknown:
            raise ConfigError(
                f"{type(self).__name__} has no parameter(s) {unknown}; known: {sorted(current)}"
            )
        checked = type(self)(**{**current, **params})
        for name in params:
            setattr(self, name, getattr(checked, name))
        return self
