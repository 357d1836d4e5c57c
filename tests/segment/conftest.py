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
            "customer_id": list(ids),
            "ts": pd.to_datetime(list(stamps)).tz_localize(tz).tz_convert("UTC"),
            "amount": np.array(amounts, dtype=np.int64),
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
