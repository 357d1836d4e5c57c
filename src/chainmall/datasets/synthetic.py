"""A seeded synthetic S2B2C shop: members with invite links, orders, refunds, ratings, demand.

:func:`make_shop` draws every table from one explicit seed with vectorised
numpy; the same arguments give identical frames. The generative model of each
table is described in the private modules ``_shop_members`` (registration and
invite forest), ``_shop_items`` (catalogue), ``_shop_orders`` (orders, lines,
refunds), ``_shop_ratings`` (latent-factor ratings) and ``_shop_demand`` (daily
SKU demand with prices), and on the "Data sets" page of the documentation.
Each table draws from its own child of ``numpy.random.SeedSequence(seed)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainmall._progress import progress_bar, resolve_progress
from chainmall.datasets._shop_calendar import Horizon, order_intensity
from chainmall.datasets._shop_demand import draw_demand
from chainmall.datasets._shop_items import draw_items
from chainmall.datasets._shop_members import draw_members
from chainmall.datasets._shop_orders import draw_orders, draw_refunds
from chainmall.datasets._shop_ratings import draw_ratings
from chainmall.exceptions import ConfigError

__all__ = ["Shop", "make_shop"]

_STAGES = ("members", "catalogue", "orders", "refunds", "ratings", "demand")


@dataclass(frozen=True)
class Shop:
    """The tables of one synthetic shop (see :func:`make_shop` for every column).

    Attributes:
        members: ``user_id, registered_at, inviter_id, bound_at, channel``.
        catalogue: ``item_id, category, brand, list_price_fen, unit_cost_fen, true_elasticity``.
        orders: ``order_id, user_id, paid_at, received_at, freight_fen``.
        order_lines: ``line_id, order_id, user_id, item_id, quantity, paid_fen,
            balance_paid_fen, paid_at``.
        refunds: ``refund_id, line_id, order_id, amount_fen, refunded_at``.
        ratings: ``user_id, item_id, rating, ts``.
        demand: ``unique_id, ds, y, price_fen, promo``.
        start: first instant of the horizon (UTC midnight).
        end: end of the horizon, exclusive (UTC midnight).
    """

    members: pd.DataFrame
    catalogue: pd.DataFrame
    orders: pd.DataFrame
    order_lines: pd.DataFrame
    refunds: pd.DataFrame
    ratings: pd.DataFrame
    demand: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp

    def summary(self) -> dict[str, int | float]:
        """Headline counts: members, buyers, orders, lines, GMV (yuan), refund share, ...

        ``refund_share`` is refunded fen over paid fen; ``forest_depth`` is the
        longest chain of invite links from a member up to an organic member
        (0 when nobody was invited).
        """
        gmv_fen = int(self.order_lines["paid_fen"].sum())
        refunded_fen = int(self.refunds["amount_fen"].sum())
        inviter = self.members["inviter_id"]
        return {
            "members": len(self.members),
            "buyers": int(self.orders["user_id"].nunique()),
            "orders": len(self.orders),
            "lines": len(self.order_lines),
            "gmv_yuan": gmv_fen / 100,
            "refund_share": refunded_fen / gmv_fen if gmv_fen else 0.0,
            "max_invitees": int(inviter.value_counts().max()) if inviter.notna().any() else 0,
            "forest_depth": forest_depth(self.members),
            "items": len(self.catalogue),
            "ratings": len(self.ratings),
            "demand_series": int(self.demand["unique_id"].nunique()),
            "demand_days": int(self.demand["ds"].nunique()),
        }


def forest_depth(members: pd.DataFrame) -> int:
    """Longest chain of ``inviter_id`` links (ids are ``1..n`` in row order)."""
    parent = members["inviter_id"].fillna(0).to_numpy(dtype=np.int64) - 1
    depth = 0
    current = parent
    while (current >= 0).any():
        depth += 1
        current = current[current >= 0]
        current = parent[current]
    return depth


def _check_int(name: str, value: Any, low: int, high: float) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if not low <= value <= high:
        bound = f"between {low} and {high:,}" if math.isfinite(high) else f">= {low}"
        raise ConfigError(f"{name} must be {bound}, got {value}")
    return int(value)


def _check_float(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"{name} must be a finite number in [{low}, {high}], got {value}")
    return float(value)


def _horizon(start: Any, months: int) -> Horizon:
    try:
        first = pd.Timestamp(start)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"start must be a date such as '2025-01-01', got {start!r} ({error})"
        ) from error
    if pd.isna(first):
        raise ConfigError(f"start must be a date such as '2025-01-01', got {start!r}")
    first = (first.tz_localize("UTC") if first.tz is None else first.tz_convert("UTC")).floor("D")
    first = first.as_unit("ns")
    return Horizon(first, first + pd.DateOffset(months=months))


def make_shop(
    seed: int = 0,
    n_members: int = 2_000,
    months: int = 12,
    n_items: int = 200,
    start: str | pd.Timestamp = "2025-01-01",
    orders_per_member: float = 10.0,
    refund_rate: float = 0.03,
    show_progress: bool | None = None,
    *,
    progress: bool = False,
) -> Shop:
    """Draw a synthetic S2B2C shop.

    Args:
        seed: seed of every random draw; same arguments give identical frames.
        n_members: members registered over the horizon (``user_id`` 1..n).
        months: length of the horizon in calendar months (1-120).
        n_items: catalogue size (``item_id`` 1..n); daily demand covers the
            ``min(50, n_items)`` most popular items.
        start: first day of the horizon; a naive date means UTC, an aware one is
            converted to UTC; the time of day is floored to midnight.
        orders_per_member: mean orders per member over the horizon, never-buyers
            included (lines per order average 1.25).
        refund_rate: share of paid lines with at least one refund, in [0, 1].
        show_progress: deprecated (``FutureWarning``); use ``progress``.
        progress: show a progress bar over the generation stages (stderr).

    Returns:
        The shop's tables; all times are ``datetime64[ns, UTC]`` except
        ``demand.ds`` (naive dates), all money is integer fen (``int64``).

    Raises:
        ConfigError: an argument is of the wrong type or out of range, or both
            ``progress=True`` and ``show_progress`` are given.
    """
    progress = resolve_progress(progress, show_progress, "make_shop")
    seed = _check_int("seed", seed, 0, 2**53 - 1)
    n_members = _check_int("n_members", n_members, 1, 100_000_000)
    months = _check_int("months", months, 1, 120)
    n_items = _check_int("n_items", n_items, 1, 10_000_000)
    orders_per_member = _check_float("orders_per_member", orders_per_member, 0.0, 1_000.0)
    refund_rate = _check_float("refund_rate", refund_rate, 0.0, 1.0)
    horizon = _horizon(start, months)

    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(_STAGES))]
    rng = dict(zip(_STAGES, streams, strict=True))
    with progress_bar(len(_STAGES), enabled=progress, desc="make_shop") as bar:
        items = draw_items(rng["catalogue"], n_items)
        members = draw_members(rng["members"], n_members, horizon, items.n_categories)
        bar.update(2)
        draw = draw_orders(
            rng["orders"], members, items, horizon, order_intensity(horizon), orders_per_member
        )
        bar.update(1)
        refunds = draw_refunds(rng["refunds"], draw, horizon, refund_rate)
        bar.update(1)
        ratings = draw_ratings(rng["ratings"], members, items, draw, horizon)
        bar.update(1)
        demand, skus, elasticity = draw_demand(rng["demand"], items, draw, horizon)
        bar.update(1)

    true_elasticity = np.full(n_items, np.nan)
    true_elasticity[skus] = elasticity
    return Shop(
        members=members.frame,
        catalogue=items.frame.assign(true_elasticity=true_elasticity),
        orders=draw.orders,
        order_lines=draw.lines,
        refunds=refunds,
        ratings=ratings,
        demand=demand,
        start=horizon.start,
        end=horizon.end,
    )
