"""Saving files so that a crash never leaves a half-written one, and reading them back safely.

Every save path of the library writes through :func:`atomic_writer` (or
:func:`atomic_write`): the bytes go to a temporary file in the target's folder,
are flushed and ``fsync``-ed, the temporary file replaces the target with
``os.replace`` (atomic on POSIX and Windows), and the folder is ``fsync``-ed so
the rename itself survives a power cut. A reader sees the old file or the new
one, never a mix; a failed write leaves the old file untouched.

Every load path reads through :func:`reading`, :func:`read_json` and
:func:`read_npz`: nothing in a file is executed (JSON, ``.npz`` with
``allow_pickle=False``), and any failure to parse (a truncated or corrupt
file, a pickle payload, bad UTF-8, nesting deep enough to exhaust the stack, a
duplicate JSON key, a symlink loop) raises the caller's
:class:`~chainmall.exceptions.ChainmallError` subclass naming the file and
the fix, with the cause chained.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from chainmall.exceptions import ChainmallError, ModelFileError

__all__ = ["atomic_write", "atomic_writer", "parse_json", "read_json", "read_npz", "reading"]


def _fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; its rename is durable on return
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file object whose content replaces ``path`` atomically when the block ends.

    The folder is created if needed. If the block raises, ``path`` is left as it
    was and the temporary file is removed.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (text is UTF-8 encoded) to ``path`` atomically; returns the path."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path) as out:
        out.write(payload)
    return Path(path)


@contextlib.contextmanager
def reading(
    path: str | os.PathLike[str],
    what: str = "saved model",
    error: type[ChainmallError] = ModelFileError,
    fix: str = "save it again with .save(path)",
) -> Iterator[None]:
    """Turn any failure inside the block into ``error`` naming ``path``.

    :class:`~chainmall.exceptions.ChainmallError` raised inside passes through
    unchanged (it already says what is wrong).
    """
    try:
        yield
    except ChainmallError:
        raise
    except Exception as exc:  # RecursionError included: deeply nested input
        raise error(
            f"{what} {str(path)!r} cannot be read ({type(exc).__name__}: {exc}); "
            f"it is missing, truncated, corrupt or not a chainmall file: {fix}"
        ) from exc


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"duplicate JSON key(s) {repeated}")
    return dict(pairs)


def parse_json(text: str | bytes) -> Any:
    """Strict JSON: UTF-8 only, no duplicate keys, no NaN/Infinity constants."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=refuse_constant)


def read_json(
    path: str | os.PathLike[str],
    what: str = "saved model",
    error: type[ChainmallError] = ModelFileError,
    fix: str = "save it again with .save(path)",
) -> dict[str, Any]:
    """The JSON object in ``path`` (strict parsing, see :func:`parse_json`)."""
    with reading(path, what, error, fix):
        data = parse_json(Path(path).read_bytes())
        if not isinstance(data, dict):
            raise ValueError(f"the top level is a {type(data).__name__}, not an object")
        return data


def read_npz(
    path: str | os.PathLike[str], what: str = "saved model arrays"
) -> dict[str, npt.NDArray[Any]]:
    """Every array in an ``.npz`` file, read with ``allow_pickle=False``."""
    with reading(path, what), np.load(Path(path), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}
