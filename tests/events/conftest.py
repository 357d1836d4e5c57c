"""A small hand-made event log and a seeded random one."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

T0 = pd.Timestamp("2024-03-01 10:00", tz="Asia/Shanghai")


def minutes(m: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=m)


@pytest.fixture
def golden_events() -> pd.DataFrame:
    """u1: full funnel in order; u2: clicks then views (out of order); u3: one view."""
    rows = [
        ("u1", "page_view", minutes(0), {"path": "/home"}),
        ("u1", "click", minutes(1), {"element": "banner", "x": 0.1, "y": 0.1}),
        ("u1", "page_view", minutes(2), {"path": "/item/9"}),
        ("u1", "dwell", minutes(3), {"path": "/item/9", "dwell_ms": 4000}),
        ("u1", "click", minutes(3.5), {"element": "buy", "x": 0.9, "y": 0.95}),
        ("u1", "add_to_cart", minutes(4), {"item_id": "i9", "quantity": 2}),
        ("u1", "order", minutes(5), {"order_id": "o1", "amount_fen": 5980}),
        ("u1", "page_view", minutes(100), {"path": "/home"}),  # new session
        ("u1", "page_view", minutes(101), {"path": "/item/9"}),
        ("u1", "dwell", minutes(102), {"path": "/item/9", "dwell_ms": 1000}),
        ("u1", "share", minutes(103), {"path": "/item/9"}),
        ("u2", "click", minutes(0), {"element": "tab", "x": 0.5, "y": 0.5}),
        ("u2", "page_view", minutes(1), {"path": "/home"}),
        ("u2", "add_to_cart", minutes(2), {"item_id": "i1", "quantity": 1}),
        ("u3", "page_view", minutes(0), {"path": "/home"}),
    ]
    return pd.DataFrame(
        [{"user_id": u, "event_type": t, "ts": ts, **extra} for u, t, ts, extra in rows]
    )


def make_random_events(seed: int, n_users: int = 50, n_events: int = 2000) -> pd.DataFrame:
    """A seeded random log of every event type with all optional columns filled."""
    rng = np.random.default_rng(seed)
    types = np.array(["page_view", "click", "dwell", "share", "add_to_cart", "order"])
    kind = rng.choice(types, n_events, p=[0.4, 0.3, 0.15, 0.03, 0.08, 0.04])
    paths = np.array(["/home", "/item/1", "/item/2", "/cart", "/me"])
    return pd.DataFrame(
        {
            "user_id": rng.integers(0, n_users, n_events),
            "event_type": kind,
            "ts": T0 + pd.to_timedelta(rng.uniform(0, 3 * 24 * 60, n_events), unit="min"),
            "path": rng.choice(paths, n_events),
            "element": "btn",
            "x": rng.uniform(0, 1, n_events),
            "y": rng.uniform(0, 1, n_events),
            "dwell_ms": rng.integers(0, 60_000, n_events),
            "item_id": "i1",
            "quantity": rng.integers(1, 4, n_events),
            "order_id": [f"o{i}" for i in range(n_events)],
            "amount_fen": rng.integers(100, 100_000, n_events),
        }
    )


@pytest.fixture(scope="session")
def random_events() -> Callable[..., pd.DataFrame]:
    """Factory of seeded random logs: ``random_events(seed, n_users=, n_events=)``."""
    return make_random_events


@pytest.fixture(scope="session")
def at() -> Callable[[float], pd.Timestamp]:
    """Minutes after the log's start as a Shanghai timestamp."""
    return minutes
