"""Orders, order lines and refunds of the synthetic shop.

Member ``i`` places ``Poisson(scale * activity_i * exposure_i)`` orders, where
``exposure_i`` is the order intensity (weekday and festival lifts, see
:mod:`~chainmall.datasets._shop_calendar`) integrated from registration to the
horizon end and ``scale`` makes the mean ``orders_per_member``. Order times are
drawn by inverting that integral, so every order is paid after registration.
Each community group leader also places ``Poisson(LEADER_BULK_ORDERS)`` bulk
orders (lines of ~``LEADER_QUANTITY`` units) in one calendar month drawn
uniformly from those after registration (none when ``orders_per_member`` is
0), which pushes their inviter's monthly
invitee GMV past 250,000 yuan, where a 20 % commission hits a 50,000-yuan cap.

An order has ``1 + Poisson(EXTRA_LINES)`` lines; a line's item comes from the
member's favourite category with probability ``FAVOURITE_SHARE`` and from the
whole catalogue otherwise, by popularity. Paid amounts are list price x
quantity x a coupon factor, floored to the fen; free gifts are paid 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from chainmall.datasets._shop_calendar import DAY_MS, NAT, DayCurve, Horizon, to_utc
from chainmall.datasets._shop_items import ItemDraw
from chainmall.datasets._shop_members import MemberDraw

__all__ = ["OrderDraw", "draw_orders", "draw_refunds"]

LEADER_BULK_ORDERS = 30.0  # bulk orders a community group leader places in their bulk month
LEADER_QUANTITY = 120.0  # median units on a leader's line (log-normal, sigma 0.6)
EXTRA_LINES = 0.25  # mean lines per order beyond the first
EXTRA_UNITS = 0.3  # mean units per line beyond the first
FAVOURITE_SHARE = 0.6  # lines drawn from the member's favourite category
GIFT_SHARE = 0.08  # non-first lines that are free gifts (paid 0)
COUPON_SHARE = 0.3  # lines paid with a coupon of COUPON_FACTOR of the list price
COUPON_FACTOR = (0.7, 0.95)
BALANCE_SHARE = 0.15  # lines of inviters partly paid from commission balance
FREE_FREIGHT_FEN = 9_900  # goods amount from which an order ships free
FREIGHT_FEN = (600, 800, 1_000)
DELIVERY_DAYS = (1.0, 6.0)  # paid -> received
FULL_REFUND_SHARE = 0.6  # of refunded lines; then one partial, then two partials
ONE_PARTIAL_SHARE = 0.3
REFUND_WINDOW_DAYS = 15.0  # first refund within this many days of payment
SECOND_REFUND_DAYS = 5.0  # second partial refund within this many days of the first


@dataclass(frozen=True)
class OrderDraw:
    """The frames plus the arrays later stages reuse (indices are 0-based)."""

    orders: pd.DataFrame
    lines: pd.DataFrame
    paid_ms: NDArray[np.int64]  # per order
    received_ms: NDArray[np.int64]  # per order, NAT while in transit
    line_order: NDArray[np.int64]
    line_user: NDArray[np.int64]
    line_item: NDArray[np.int64]
    line_paid_fen: NDArray[np.int64]


def _bulk_orders(
    rng: np.random.Generator, members: MemberDraw, horizon: Horizon, *, active: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(buyer index, paid time ms) of the group leaders' bulk orders (none unless ``active``)."""
    leaders = np.flatnonzero(members.is_leader)
    registered = members.registered_ms[leaders]
    bounds = horizon.month_bounds_ms()
    first = np.searchsorted(bounds, registered, side="right") - 1
    month = first + np.floor(rng.random(leaders.size) * (bounds.size - 1 - first)).astype(np.int64)
    low = np.maximum(bounds[month], registered + 1)
    high = bounds[month + 1]
    share = (high - low) / (high - bounds[month])
    counts = rng.poisson(LEADER_BULK_ORDERS * share) if active else np.zeros(share.size, np.int64)
    buyer = np.repeat(leaders, counts)
    low, width = np.repeat(low, counts), np.repeat(high - low, counts)
    return buyer, low + (rng.random(buyer.size) * width).astype(np.int64)


def _order_times(
    rng: np.random.Generator,
    members: MemberDraw,
    horizon: Horizon,
    curve: DayCurve,
    orders_per_member: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """(buyer index, paid time ms, is bulk) of every order, sorted by time."""
    registered = members.registered_ms
    offset = curve.integral(registered)
    exposure = curve.total - offset
    weighted = members.activity * exposure
    total = weighted.sum()
    scale = orders_per_member * registered.size / total if total > 0 else 0.0
    buyer = np.repeat(np.arange(registered.size, dtype=np.int64), rng.poisson(scale * weighted))
    paid = curve.invert(offset[buyer] + rng.random(buyer.size) * exposure[buyer])
    paid = np.maximum(paid, registered[buyer] + 1)
    bulk_buyer, bulk_paid = _bulk_orders(rng, members, horizon, active=orders_per_member > 0)
    buyer = np.concatenate([buyer, bulk_buyer])
    paid = np.concatenate([paid, bulk_paid])
    bulk = np.arange(buyer.size) >= buyer.size - bulk_buyer.size
    order = np.argsort(paid, kind="stable")
    return buyer[order], paid[order], bulk[order]


def _line_amounts(
    rng: np.random.Generator,
    items: ItemDraw,
    item: NDArray[np.int64],
    bulk: NDArray[np.bool_],
    gift: NDArray[np.bool_],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(quantity, paid fen) of each line."""
    size = item.size
    normal_units = 1 + rng.poisson(EXTRA_UNITS, size)
    bulk_units = np.rint(LEADER_QUANTITY * np.exp(0.6 * rng.standard_normal(size)))
    quantity = np.where(bulk, np.maximum(bulk_units, 1).astype(np.int64), normal_units)
    quantity[gift] = 1
    coupon = rng.random(size) < COUPON_SHARE
    factor = np.where(coupon, rng.uniform(*COUPON_FACTOR, size), 1.0)
    paid = np.floor(items.list_price_fen[item] * quantity * factor).astype(np.int64)
    paid[gift] = 0
    return quantity.astype(np.int64), paid


def draw_orders(
    rng: np.random.Generator,
    members: MemberDraw,
    items: ItemDraw,
    horizon: Horizon,
    curve: DayCurve,
    orders_per_member: float,
) -> OrderDraw:
    """Orders and their lines, ``order_id`` and ``line_id`` increasing with payment time."""
    buyer, paid_ms, bulk = _order_times(rng, members, horizon, curve, orders_per_member)
    n_orders = buyer.size
    delivery = rng.uniform(*DELIVERY_DAYS, n_orders) * DAY_MS
    received_ms = paid_ms + delivery.astype(np.int64)
    received_ms[received_ms >= horizon.end_ms] = NAT

    lines_per_order = 1 + rng.poisson(EXTRA_LINES, n_orders)
    line_order = np.repeat(np.arange(n_orders, dtype=np.int64), lines_per_order)
    first_line = np.cumsum(lines_per_order) - lines_per_order
    position = np.arange(line_order.size, dtype=np.int64) - first_line[line_order]
    line_user = buyer[line_order]
    n_lines = line_order.size

    favourite = rng.random(n_lines) < FAVOURITE_SHARE
    item = items.sample(rng, np.where(favourite, members.favourite_category[line_user], -1))
    gift = (position > 0) & (rng.random(n_lines) < GIFT_SHARE)
    quantity, paid = _line_amounts(rng, items, item, bulk[line_order], gift)

    is_inviter = np.zeros(members.inviter.size, dtype=bool)
    is_inviter[members.inviter[members.inviter >= 0]] = True
    uses_balance = is_inviter[line_user] & (rng.random(n_lines) < BALANCE_SHARE)
    balance = np.where(uses_balance, np.floor(paid * rng.uniform(0.05, 1.0, n_lines)), 0)

    goods = np.bincount(line_order, weights=paid, minlength=n_orders)
    freight = np.where(goods >= FREE_FREIGHT_FEN, 0, rng.choice(FREIGHT_FEN, n_orders))

    order_id = np.arange(1, n_orders + 1, dtype=np.int64)
    user_id = buyer + 1
    orders = pd.DataFrame(
        {
            "order_id": order_id,
            "user_id": user_id,
            "paid_at": to_utc(paid_ms),
            "received_at": to_utc(received_ms),
            "freight_fen": freight.astype(np.int64),
        },
        copy=False,  # fresh arrays: skip the block consolidation copy (~1 GB at 10M lines)
    )
    lines = pd.DataFrame(
        {
            "line_id": np.arange(1, n_lines + 1, dtype=np.int64),
            "order_id": order_id[line_order],
            "user_id": user_id[line_order],
            "item_id": item + 1,
            "quantity": quantity,
            "paid_fen": paid,
            "balance_paid_fen": balance.astype(np.int64),
            "paid_at": to_utc(paid_ms[line_order]),
        },
        copy=False,
    )
    return OrderDraw(orders, lines, paid_ms, received_ms, line_order, line_user, item, paid)


def draw_refunds(
    rng: np.random.Generator, draw: OrderDraw, horizon: Horizon, refund_rate: float
) -> pd.DataFrame:
    """Refunds of about ``refund_rate`` of the paid lines: full, partial, or two partials."""
    paid = draw.line_paid_fen
    picked = np.flatnonzero((paid > 0) & (rng.random(paid.size) < refund_rate))
    amount = paid[picked]
    kind = rng.random(picked.size)
    full = (kind < FULL_REFUND_SHARE) | (amount < 2)
    twice = ~full & (kind >= FULL_REFUND_SHARE + ONE_PARTIAL_SHARE)
    share = np.where(twice, rng.uniform(0.1, 0.5, picked.size), rng.uniform(0.1, 0.9, picked.size))
    first = np.where(full, amount, np.maximum(1, np.floor(amount * share).astype(np.int64)))
    second_share = rng.uniform(0.1, 0.5, picked.size)
    second = np.maximum(1, np.floor(amount * second_share).astype(np.int64))[twice]

    paid_ms = draw.paid_ms[draw.line_order[picked]]
    left = horizon.end_ms - paid_ms
    window = np.clip(left - 120_000, 0, REFUND_WINDOW_DAYS * DAY_MS)
    first_ms = paid_ms + 60_000 + (rng.random(picked.size) * window).astype(np.int64)
    window2 = np.clip(horizon.end_ms - first_ms[twice] - 60_000, 0, SECOND_REFUND_DAYS * DAY_MS)
    second_ms = first_ms[twice] + 60_000 + (rng.random(window2.size) * window2).astype(np.int64)

    refund_line = np.concatenate([picked, picked[twice]])
    refunded_ms = np.concatenate([first_ms, second_ms])
    order = np.argsort(refunded_ms, kind="stable")
    refund_line, refunded_ms = refund_line[order], refunded_ms[order]
    return pd.DataFrame(
        {
            "refund_id": np.arange(1, refund_line.size + 1, dtype=np.int64),
            "line_id": refund_line + 1,
            "order_id": draw.line_order[refund_line] + 1,
            "amount_fen": np.concatenate([first, second])[order],
            "refunded_at": to_utc(refunded_ms),
        }
    )
