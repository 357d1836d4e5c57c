"""Shared fixtures: the real data sets under CHAINMALL_DATA, skipped when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def shared_data_dir() -> Path | None:
    """The folder CHAINMALL_DATA points at, or ``../shared/data`` beside the checkout."""
    env = os.environ.get("CHAINMALL_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def data_home() -> Path:
    """The shared data folder; tests that need it skip with a reason when it is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip(
            "shared data not found: set CHAINMALL_DATA to the folder with ml-100k/, cdnow/, ..."
        )
    return path


def require_file(data_home: Path, relative: str) -> Path:
    """``data_home / relative``, or skip naming the missing file."""
    path = data_home / relative
    if not path.is_file():
        pytest.skip(f"shared data file {relative} not found under {data_home}")
    return path
