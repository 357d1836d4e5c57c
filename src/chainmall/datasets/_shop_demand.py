"""Daily demand with prices for the most popular SKUs of the synthetic shop.

For SKU ``i`` on day ``d`` (``t`` = years from the middle of the horizon)::

    log mu_id = log base_i + trend_i * t + amp_i * WEEKLY_SHAPE[dow(d)]
                + elasticity_i * log(price_id / list_price_i) + PROMO_LIFT * promo_id
    y_id ~ Poisson(mu_id * g_id),   g_id ~ Gamma(NOISE_SHAPE, 1 / NOISE_SHAPE)

``base_i`` is the SKU's order lines per day in ``order_lines`` (at least
``MIN_DAILY_UNITS``). The price is the list price times a level, 1 at the
start and redrawn from ``PRICE_LEVEL`` at each of ``Poisson(days /
PRICE_CHANGE_EVERY_DAYS)`` price changes, times ``1 - discount`` on promotion
days (runs of 3-7 days, discount 10-30 %, ``Poisson(days / PROMO_EVERY_DAYS)``
runs per SKU), floored to 10 fen.
``PROMO_LIFT`` is the display effect of a promotion beyond its price cut.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from chainmall.datasets._shop_calendar import Horizon
from chainmall.datasets._shop_items import ItemDraw
from chainmall.datasets._shop_orders import OrderDraw

__all__ = ["draw_demand"]

DEMAND_SKUS = 50
ELASTICITY = (-2.5, -0.8)
TREND_PER_YEAR = (0.1, 0.2)  # mean and sd of the log-trend slope
WEEKLY_SHAPE = np.array([-0.08, -0.1, -0.06, -0.02, 0.04, 0.12, 0.1])  # Monday..Sunday
WEEKLY_AMPLITUDE = (0.5, 2.0)
PRICE_CHANGE_EVERY_DAYS = 30.0
PRICE_LEVEL = (0.85, 1.1)  # shelf price / list price after a price change
PROMO_EVERY_DAYS = 30.0
PROMO_DAYS = (3, 7)
PROMO_DISCOUNT = (0.1, 0.3)
PROMO_LIFT = 0.2
NOISE_SHAPE = 10.0
MIN_DAILY_UNITS = 20.0


def _events(
    rng: np.random.Generator, n_skus: int, n_days: int, every_days: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(sku, day) of Poisson(n_days / every_days) random events per SKU."""
    counts = rng.poisson(n_days / every_days, n_skus)
    sku = np.repeat(np.arange(n_skus, dtype=np.int64), counts)
    return sku, rng.integers(0, n_days, sku.size)


def _price_paths(
    rng: np.random.Generator, list_fen: NDArray[np.int64], n_days: int
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """(price fen, promo flag), both SKU x day."""
    n_skus = list_fen.size
    changes = np.zeros((n_skus, n_days), dtype=np.int64)
    sku, day = _events(rng, n_skus, n_days, PRICE_CHANGE_EVERY_DAYS)
    np.add.at(changes, (sku, day), 1)
    segment = np.cumsum(changes, axis=1)
    levels = rng.uniform(*PRICE_LEVEL, (n_skus, int(segment.max(initial=0)) + 1))
    levels[:, 0] = 1.0
    level = np.take_along_axis(levels, segment, axis=1)

    sku, start = _events(rng, n_skus, n_days, PROMO_EVERY_DAYS)
    length = rng.integers(PROMO_DAYS[0], PROMO_DAYS[1] + 1, sku.size)
    depth = rng.uniform(*PROMO_DISCOUNT, sku.size)
    first_cell = np.cumsum(length) - length
    offset = np.arange(int(length.sum())) - np.repeat(first_cell, length)
    cell_sku, cell_day = np.repeat(sku, length), np.repeat(start, length) + offset
    inside = cell_day < n_days
    discount = np.zeros((n_skus, n_days))
    np.maximum.at(discount, (cell_sku[inside], cell_day[inside]), np.repeat(depth, length)[inside])
    raw = list_fen[:, None] * level * (1.0 - discount)
    price = np.maximum(10, np.floor(raw / 10.0) * 10).astype(np.int64)
    return price, discount > 0


def draw_demand(
    rng: np.random.Generator, items: ItemDraw, draw: OrderDraw, horizon: Horizon
) -> tuple[pd.DataFrame, NDArray[np.int64], NDArray[np.float64]]:
    """(demand frame, SKU item indices, their true elasticities)."""
    skus = np.sort(np.argsort(-items.popularity, kind="stable")[:DEMAND_SKUS])
    n_skus, days = skus.size, horizon.days()
    n_days = days.size
    lines_per_day = np.bincount(draw.line_item, minlength=items.popularity.size) / n_days
    base = np.maximum(lines_per_day[skus], MIN_DAILY_UNITS)
    elasticity = rng.uniform(*ELASTICITY, n_skus)
    trend = rng.normal(*TREND_PER_YEAR, n_skus)
    amplitude = rng.uniform(*WEEKLY_AMPLITUDE, n_skus)
    list_fen = items.list_price_fen[skus]
    price, promo = _price_paths(rng, list_fen, n_days)

    years = (np.arange(n_days) - (n_days - 1) / 2.0) / 365.25
    log_mean = (
        np.log(base)[:, None]
        + trend[:, None] * years[None, :]
        + amplitude[:, None] * WEEKLY_SHAPE[days.day_of_week.to_numpy()][None, :]
        + elasticity[:, None] * np.log(price / list_fen[:, None])
        + PROMO_LIFT * promo
    )
    noise = rng.gamma(NOISE_SHAPE, 1.0 / NOISE_SHAPE, log_mean.shape)
    units = rng.poisson(np.exp(log_mean) * noise).astype(np.int64)

    ids = pd.Series(skus + 1).map("sku-{}".format)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(ids.to_numpy(), n_days),
            "ds": np.tile(days.to_numpy(), n_skus),
            "y": units.ravel(),
            "price_fen": price.ravel(),
            "promo": promo.ravel(),
        }
    )
    return frame, skus, elasticity
