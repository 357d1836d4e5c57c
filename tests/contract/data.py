"""Small valid inputs for the contract cases (built once, copied per call)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd


def transactions(n_customers: int = 6, seed: int = 0) -> pd.DataFrame:
    """Order lines ``user_id, ts (UTC), amount_fen (int64 fen)``: every customer buys on
    2-4 distinct days."""
    return _transactions(n_customers, seed).copy()


@cache
def _transactions(n_customers: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, 5, n_customers)
    ids = np.repeat([f"c{i}" for i in range(n_customers)], counts)
    days = rng.integers(0, 120, len(ids))
    hours = rng.integers(0, 24, len(ids))
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(days * 24 + hours, unit="h")
    return pd.DataFrame(
        {
            "user_id": ids,
            "ts": ts,
            "amount_fen": rng.integers(100, 50_000, len(ids)).astype(np.int64),
        }
    )


def ratings(n_users: int = 12, n_items: int = 9, seed: int = 0) -> pd.DataFrame:
    """Explicit ratings ``user_id, item_id, rating (1..5), ts (UTC)``, one per (user, item)."""
    return _ratings(n_users, n_items, seed).copy()


@cache
def _ratings(n_users: int, n_items: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(u, i) for u in range(n_users) for i in range(n_items) if rng.random() < 0.6]
    users, items = (np.array(v) for v in zip(*rows, strict=True))
    return pd.DataFrame(
        {
            "user_id": users,
            "item_id": items,
            "rating": rng.integers(1, 6, len(users)).astype(np.float64),
            "ts": pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 10**6, len(users)), unit="s"),
        }
    )


def demand(n_series: int = 3, n_weeks: int = 30, seed: int = 0) -> pd.DataFrame:
    """Weekly demand ``unique_id, ds (naive, W-FRI), y`` per SKU, non-negative."""
    return _demand(n_series, n_weeks, seed).copy()


@cache
def _demand(n_series: int, n_weeks: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-06", periods=n_weeks, freq="W-FRI")
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"sku{i}" for i in range(n_series)], n_weeks),
            "ds": np.tile(dates, n_series),
            "y": rng.poisson(20, n_series * n_weeks).astype(np.float64),
        }
    )


def tiny_ddpg_config() -> Any:
    """A ``DDPGConfig`` that fits in well under a second (a few steps of each stage)."""
    from chainmall.recommend import DDPGConfig

    return DDPGConfig(
        embedding_dim=3,
        hidden=8,
        history_len=4,
        bc_steps=2,
        critic_pretrain_steps=1,
        rl_steps=1,
        batch_size=8,
        round_users=4,
        device="cpu",
    )
