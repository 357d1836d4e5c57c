"""Small seeded weekly panels for the replenishment tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest


def make_panel(
    n_series: int = 4, n_weeks: int = 80, season: int = 13, seed: int = 0
) -> pd.DataFrame:
    """Seasonal weekly demand with noise: ``[unique_id, ds, y, promo]``."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", periods=n_weeks, freq="W-FRI")
    rows = []
    for i in range(n_series):
        base = 50 + 20 * i
        seasonal = 10 * np.sin(2 * np.pi * np.arange(n_weeks) / season)
        y = base + seasonal + rng.normal(0, 3, n_weeks)
        rows.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": dates,
                    "y": y,
                    "promo": (np.arange(n_weeks) % 7 == 0) * 1.0,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def panel() -> pd.DataFrame:
    return make_panel()


@pytest.fixture(name="make_panel")
def make_panel_fixture() -> object:
    """The panel factory, for tests that need other sizes."""
    return make_panel


@pytest.fixture(autouse=True)
def _torch_one_thread() -> Iterator[None]:
    """Torch on one thread while these tests run (idle threads spin on a busy machine)."""
    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch
        except ImportError:
            yield
            return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
