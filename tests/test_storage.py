"""Atomic writes and strict reads of saved files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from chainmall._storage import atomic_write, atomic_writer, read_json, read_npz
from chainmall.exceptions import ModelFileError


def test_atomic_write_replaces_whole_files_and_creates_folders(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "model.json"
    atomic_write(target, '{"a": 1}')
    atomic_write(target, b'{"a": 2}')
    assert read_json(target) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["model.json"]


def test_a_failure_inside_the_block_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "arrays.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"), atomic_writer(target) as out:
        out.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["arrays.npz"]


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b'{"a": 1, "a": 2}', "duplicate JSON key"),
        (b'{"a": NaN}', "non-standard JSON constant"),
        (b'\xff{"a": 1}', "UnicodeDecodeError"),
        (b"[" * 100_000 + b"]" * 100_000, "RecursionError"),
        (b"[1, 2]", "not an object"),
        (b"", "JSONDecodeError"),
    ],
)
def test_strict_json_reads_raise_model_file_error(
    tmp_path: Path, content: bytes, cause: str
) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=cause) as err:
        read_json(path)
    assert "model.json" in str(err.value)


def test_npz_with_pickled_objects_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    with path.open("wb") as out:
        np.savez(out, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFileError, match="pickle"):
        read_npz(path)
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    with pytest.raises(ModelFileError, match="loop"):
        read_npz(tmp_path / "loop")
