"""Explicit 1-5 ratings of bought items, driven by latent user and item factors.

Each category has a taste vector ``c_k`` (``RATING_FACTORS`` dimensions, normal
with sd ``TASTE_SD``); item ``i`` has ``q_i = c_{cat(i)} + noise``, member ``u``
has ``p_u = USER_TASTE * c_{fav(u)} + noise``. A rating is
``clip(round(GLOBAL_MEAN + b_u + b_i + p_u . q_i + e), 1, 5)``. A member rates a
received line with their own propensity (Beta(0.6, 3), mean ~17 %), once per
(member, item): the first purchase counts; the rating arrives within
``RATING_DELAY_DAYS`` of receipt; ratings due after the horizon end are not
given yet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainmall.datasets._shop_calendar import DAY_MS, NAT, Horizon, to_utc
from chainmall.datasets._shop_items import ItemDraw
from chainmall.datasets._shop_members import MemberDraw
from chainmall.datasets._shop_orders import OrderDraw

__all__ = ["draw_ratings"]

RATING_FACTORS = 8
TASTE_SD = 0.35
FACTOR_NOISE_SD = 0.3
USER_TASTE = 0.8
GLOBAL_MEAN = 3.6
USER_BIAS_SD = 0.4
ITEM_BIAS_SD = 0.3
RATING_NOISE_SD = 0.5
RATER_BETA = (0.6, 3.0)
RATING_DELAY_DAYS = 7.0


def draw_ratings(
    rng: np.random.Generator,
    members: MemberDraw,
    items: ItemDraw,
    draw: OrderDraw,
    horizon: Horizon,
) -> pd.DataFrame:
    """One rating per rated (member, item) pair, sorted by ``user_id, item_id``."""
    n_users, n_items = members.activity.size, items.popularity.size
    taste = rng.normal(0.0, TASTE_SD, (items.n_categories, RATING_FACTORS))
    item_factor = taste[items.category] + rng.normal(
        0.0, FACTOR_NOISE_SD, (n_items, RATING_FACTORS)
    )
    item_bias = rng.normal(0.0, ITEM_BIAS_SD, n_items)
    propensity = rng.beta(*RATER_BETA, n_users)

    received = draw.received_ms[draw.line_order]
    delay = (rng.random(received.size) * RATING_DELAY_DAYS * DAY_MS).astype(np.int64)
    rated = np.flatnonzero(
        (received != NAT)
        & (received + delay < horizon.end_ms)
        & (rng.random(received.size) < propensity[draw.line_user])
    )
    key = draw.line_user[rated] * n_items + draw.line_item[rated]
    _, first = np.unique(key, return_index=True)  # lines are in time order
    rated = rated[first]
    user, item = draw.line_user[rated], draw.line_item[rated]

    # latent factors are drawn for the raters only, which keeps memory small at 1M members
    raters, rater_index = np.unique(user, return_inverse=True)
    user_factor = USER_TASTE * taste[members.favourite_category[raters]] + rng.normal(
        0.0, FACTOR_NOISE_SD, (raters.size, RATING_FACTORS)
    )
    user_bias = rng.normal(0.0, USER_BIAS_SD, raters.size)
    score = (
        GLOBAL_MEAN
        + user_bias[rater_index]
        + item_bias[item]
        + np.einsum("ij,ij->i", user_factor[rater_index], item_factor[item])
        + rng.normal(0.0, RATING_NOISE_SD, item.size)
    )
    ts = received[rated] + delay[rated]
    return pd.DataFrame(
        {
            "user_id": user + 1,
            "item_id": item + 1,
            "rating": np.clip(np.rint(score), 1, 5).astype(np.int64),
            "ts": to_utc(ts),
        }
    )
