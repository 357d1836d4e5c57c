"""Small hand-made transaction logs for the segment tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def log(rows: list[tuple[object, str, int]], tz: str = "UTC") -> pd.DataFrame:
    """Transactions from ``(customer_id, 'YYYY-MM-DD HH:MM', amount_fen)`` rows."""
    ids, stamps, amounts = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "user_id": list(ids),
            "ts": pd.to_datetime(list(stamps)).tz_localize(tz).tz_convert("UTC"),
            "amount_fen": np.array(amounts, dtype=np.int64),
        }
    )


@pytest.fixture
def small_log() -> pd.DataFrame:
    """Three customers worked by hand in test_segment_rfml.py (UTC days)."""
    return log(
        [
            ("a", "2024-01-01 10:00", 1000),
            ("a", "2024-01-01 18:00", 500),  # same day: merged
            ("a", "2024-01-08 09:00", 2000),
            ("a", "2024-01-22 09:00", 3000),
            ("b", "2024-01-15 12:00", 700),
            ("c", "2024-01-03 12:00", 100),
            ("c", "2024-01-05 12:00", 300),
        ]
    )


def simulated_log(n_customers: int, seed: int, *, churn: bool = True) -> pd.DataFrame:
    """A two-year log with acquisition over the first 400 days (UTC, fen).

    Purchase rates ~ Gamma(1.5, 0.02/day); with ``churn`` each customer also
    leaves after an exponential lifetime (mean rate ~ Gamma(0.8, 1/200 days)).
    """
    rng = np.random.default_rng(seed)
    start = rng.integers(0, 400, n_customers)
    rate = rng.gamma(1.5, 0.02, n_customers)
    life = rng.exponential(1.0 / rng.gamma(0.8, 1 / 200, n_customers)) if churn else np.inf
    active = np.minimum(life, 730 - start)
    counts = rng.poisson(rate * active) + 1
    owner = np.repeat(np.arange(n_customers), counts)
    offset = rng.random(len(owner)) * np.repeat(active, counts)
    offset[np.concatenate(([0], np.cumsum(counts)[:-1]))] = 0.0
    day = np.repeat(start, counts) + offset.astype(np.int64)
    ts = pd.Timestamp("2023-01-01", tz="UTC") + pd.to_timedelta(day * 24 + 10, unit="h")
    amount = rng.gamma(4.0, np.repeat(rng.gamma(5.0, 800.0, n_customers), counts) / 4.0)
    return pd.DataFrame(
        {
            "user_id": [f"c{i:05d}" for i in owner],
            "ts": ts,
            "amount_fen": np.rint(amount).astype(np.int64) + 1,
        }
    )
