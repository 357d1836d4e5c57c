"""Small seeded rating data for the recommend tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_ratings(
    n_users: int = 40, n_items: int = 30, density: float = 0.3, seed: int = 0
) -> pd.DataFrame:
    """Ratings 1-5 from a rank-2 taste model, one row per observed (user, item)."""
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(n_users, 2)) @ rng.normal(size=(2, n_items))
    observed = rng.random((n_users, n_items)) < density
    observed[:, 0] = True  # every user rates item 0, so no user is empty
    u, i = np.nonzero(observed)
    rating = np.clip(np.round(3 + taste[u, i] + rng.normal(0, 0.3, len(u))), 1, 5)
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 10**6, len(u)), unit="s"
    )
    return pd.DataFrame(
        {"user_id": u + 100, "item_id": [f"sku{j}" for j in i], "rating": rating, "ts": ts}
    )


@pytest.fixture
def ratings() -> pd.DataFrame:
    return make_ratings()


@pytest.fixture
def rating_factory():  # type: ignore[no-untyped-def]
    return make_ratings
