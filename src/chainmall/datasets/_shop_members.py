"""Members of the synthetic shop: registration, invite links, buying habits.

Registration times follow a linearly growing density over the horizon
(``1 + GROWTH * x`` for ``x`` the elapsed share of the horizon); ids increase with
registration time, and registration times are strictly increasing (ms).
A share ``ORGANIC_SHARE`` of members (and always the first) arrive without an
invite link; every other member picks an inviter among the members registered
before them with probability proportional to a Pareto influence weight
(``1 + Lomax(INFLUENCE_ALPHA)``), which gives the heavy-tailed fan-out of real
referral networks: most members invite nobody, a few invite hundreds.
A share ``LEADER_SHARE`` of invited members (at least one) are community group
leaders, who buy in bulk for their neighbourhood in one month (see ``_shop_orders``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from chainmall.datasets._shop_calendar import Horizon, to_utc

__all__ = ["CHANNELS", "MemberDraw", "draw_members"]

GROWTH = 1.0  # registration density at the horizon end / at its start - 1
ORGANIC_SHARE = 0.15  # members who arrive without an invite link
INFLUENCE_ALPHA = 1.5  # Pareto tail index of invite influence (smaller = heavier tail)
NEVER_BUY_SHARE = 0.25  # members who register and never buy
ACTIVITY_SHAPE = 0.6  # gamma shape of buyers' purchase rates (smaller = more unequal)
LEADER_SHARE = 0.0002  # community group leaders (at least one): invited, place bulk orders
LEADER_LATEST = 0.75  # leaders registered within this share of the horizon
CHANNELS = ("wechat", "app", "h5")
CHANNEL_SHARES = (0.7, 0.2, 0.1)


@dataclass(frozen=True)
class MemberDraw:
    """Member arrays, indexed by ``user_id - 1``."""

    registered_ms: NDArray[np.int64]
    inviter: NDArray[np.int64]  # index of the inviter, -1 for organic members
    activity: NDArray[np.float64]  # relative purchase rate; 0 for never-buyers
    is_leader: NDArray[np.bool_]
    favourite_category: NDArray[np.int64]
    frame: pd.DataFrame


def _registration_ms(rng: np.random.Generator, n: int, horizon: Horizon) -> NDArray[np.int64]:
    share = np.sort(rng.random(n))
    # inverse CDF of the density (1 + GROWTH x) / (1 + GROWTH / 2) on [0, 1]
    elapsed = (np.sqrt(1.0 + 2.0 * GROWTH * (1.0 + GROWTH / 2.0) * share) - 1.0) / GROWTH
    span = horizon.end_ms - horizon.start_ms
    times = horizon.start_ms + (elapsed * span).astype(np.int64)
    rank = np.arange(n, dtype=np.int64)
    return np.maximum.accumulate(times - rank) + rank  # strictly increasing


def _inviters(rng: np.random.Generator, n: int) -> NDArray[np.int64]:
    influence = 1.0 + rng.pareto(INFLUENCE_ALPHA, n)
    invited = rng.random(n) >= ORGANIC_SHARE
    invited[0] = False
    cumulative = np.cumsum(influence)
    who = np.flatnonzero(invited)
    draw = rng.random(who.size) * cumulative[who - 1]
    chosen = np.minimum(np.searchsorted(cumulative, draw, side="right"), who - 1)
    inviter = np.full(n, -1, dtype=np.int64)
    inviter[who] = chosen
    return inviter


def _leaders(
    rng: np.random.Generator,
    inviter: NDArray[np.int64],
    registered: NDArray[np.int64],
    horizon: Horizon,
) -> NDArray[np.bool_]:
    n = inviter.size
    latest = horizon.start_ms + LEADER_LATEST * (horizon.end_ms - horizon.start_ms)
    candidates = np.flatnonzero((inviter >= 0) & (registered <= latest))
    count = min(max(1, round(LEADER_SHARE * n)), candidates.size)
    is_leader = np.zeros(n, dtype=bool)
    is_leader[rng.choice(candidates, size=count, replace=False)] = True
    return is_leader


def draw_members(
    rng: np.random.Generator, n: int, horizon: Horizon, n_categories: int
) -> MemberDraw:
    """Draw ``n`` members over ``horizon``."""
    registered = _registration_ms(rng, n, horizon)
    inviter = _inviters(rng, n)
    is_leader = _leaders(rng, inviter, registered, horizon)
    buys = (rng.random(n) >= NEVER_BUY_SHARE) | is_leader
    activity = np.where(buys, rng.gamma(ACTIVITY_SHAPE, 1.0 / ACTIVITY_SHAPE, n), 0.0)
    favourite = rng.integers(0, n_categories, n)
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARES)

    user_id = np.arange(1, n + 1, dtype=np.int64)
    registered_at = to_utc(registered)
    inviter_id = pd.arrays.IntegerArray(np.where(inviter >= 0, inviter + 1, 0), inviter < 0)
    frame = pd.DataFrame(
        {
            "user_id": user_id,
            "registered_at": registered_at,
            "inviter_id": inviter_id,
            "bound_at": registered_at,
            "channel": pd.Categorical.from_codes(channel, categories=pd.Index(CHANNELS)),
        }
    )
    return MemberDraw(registered, inviter, activity, is_leader, favourite, frame)
