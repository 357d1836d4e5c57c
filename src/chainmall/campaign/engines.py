"""Adapters: each engine the simulator uses, behind one small function.

The campaign package composes the engines; the engines know nothing of it. Each
adapter turns the simulator's arrays into the engine's frames and back:

* :func:`personalised_slates`: :class:`chainmall.recommend.EASE` fitted on the
  arm's purchases and carts; :func:`popular_slates` is the control's browsing
  (popularity-weighted random items);
* :func:`optimised_list_prices`: :func:`chainmall.pricing.optimize_prices` (one
  list price per item, the same for every member);
* :func:`churn_flagged`: :func:`chainmall.segment.alerts.churn_alerts`;
* :func:`settle_commissions`: the arm's members and orders as referral events,
  settled by :func:`chainmall.referral.settle` (2+1 rules, caps, ledger);
* :func:`order_up_to`: :func:`chainmall.replenish.suggest_orders` with a
  periodic-review order-up-to level on an exponentially smoothed forecast.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from chainmall.pricing import GuardRailConfig, optimize_prices
from chainmall.recommend import EASE, Interactions, InteractionsConfig
from chainmall.referral import ReferralConfig, Settlement, events_from_frames, settle
from chainmall.replenish import suggest_orders
from chainmall.segment import RFMLConfig
from chainmall.segment.alerts import churn_alerts

__all__ = [
    "churn_flagged",
    "fit_recommender",
    "optimised_list_prices",
    "order_up_to",
    "personalised_slates",
    "popular_slates",
    "settle_commissions",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_IMPLICIT = InteractionsConfig(rating_col=None, ts_col=None, duplicates="sum")


def _top_k(scores: FloatArray, k: int) -> IntArray:
    """Column indices of the ``k`` best scores per row (ties: lower index first)."""
    k = min(k, scores.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")
    return np.asarray(order[:, :k], dtype=np.int64)


def popular_slates(
    recent_units: FloatArray, n_visitors: int, k: int, in_stock: BoolArray, rng: np.random.Generator
) -> IntArray:
    """Catalogue browsing: ``k`` in-stock items per visitor, drawn without replacement
    with probability proportional to ``recent units + 1`` (Gumbel top-k)."""
    weights = np.log(recent_units + 1.0)[None, :]
    scores = weights + rng.gumbel(size=(n_visitors, len(recent_units)))
    scores[:, ~in_stock] = -np.inf
    return _top_k(scores, k)


def fit_recommender(history_members: IntArray, history_items: IntArray) -> EASE:
    """EASE on the arm's (member, item) purchases and carts (implicit counts)."""
    frame = pd.DataFrame({"user_id": history_members, "item_id": history_items})
    return EASE().fit(Interactions.from_frame(frame, _IMPLICIT))


def personalised_slates(
    model: EASE, visitors: IntArray, n_items: int, k: int, in_stock: BoolArray
) -> IntArray:
    """Top-``k`` in-stock items per visitor by EASE score.

    Members without history get EASE's popularity fallback; items never seen in the
    history score below every seen item.
    """
    raw, _ = model.score_items(visitors)
    scores = np.full((len(visitors), n_items), -1e9)
    scores[:, model.interactions_.item_ids.astype(np.int64)] = raw
    scores[:, ~in_stock] = -np.inf
    return _top_k(scores, k)


def optimised_list_prices(
    current_fen: IntArray,
    reference_fen: IntArray,
    cost_fen: IntArray,
    weekly_units: FloatArray,
    elasticity: FloatArray,
    objective: str,
) -> IntArray:
    """New list prices from the pricing engine (±10% band around the reference price)."""
    offers = pd.DataFrame(
        {
            "store_id": 1,
            "item_id": np.arange(len(current_fen)),
            "current_price_fen": current_fen,
            "reference_price_fen": reference_fen,
            "unit_cost_fen": cost_fen,
            "baseline_units": np.maximum(weekly_units, 1e-3),
            "elasticity": elasticity,
        }
    )
    rails = GuardRailConfig.from_dict({"objective": objective, "emergency_cap": False})
    decision = optimize_prices(offers, rails)
    return decision.prices["price_fen"].to_numpy(dtype=np.int64)


def churn_flagged(
    order_members: IntArray,
    order_days: pd.DatetimeIndex,
    order_pay_fen: IntArray,
    now: pd.Timestamp,
    reasons: tuple[str, ...],
) -> IntArray:
    """Members with a churn alert of one of ``reasons`` at ``now`` (segment engine)."""
    if len(order_members) == 0:
        return np.zeros(0, dtype=np.int64)
    log = pd.DataFrame({"user_id": order_members, "ts": order_days, "amount_fen": order_pay_fen})
    alerts = churn_alerts(log, now.strftime("%Y-%m-%d"), RFMLConfig(timezone="UTC"))
    hit = alerts[alerts["reason"].isin(reasons)]
    return np.unique(hit["user_id"].to_numpy(dtype=np.int64))


def settle_commissions(
    members: pd.DataFrame,
    orders: pd.DataFrame,
    start: pd.Timestamp,
    config: ReferralConfig,
) -> tuple[Settlement, IntArray, IntArray]:
    """Settle the arm's members and orders with :func:`chainmall.referral.settle`.

    Every member registers (and binds to its inviter) at the start of its joining
    week; every order is one ``ORDER_PAID`` line of its paid amount at the start of
    its week (``start + 7·week`` days), no freight and nothing paid from balance. The
    engine's rules apply as configured: invitee ranks by first paid order, 2+1 team
    placement, depth limit, per-line payout cap, monthly cap per beneficiary.

    Args:
        members: ``member_id, inviter_id (nullable), joined_week``.
        orders: ``order_id, member_id, week, pay_fen``.
        start: instant of week 0.
        config: the referral programme.

    Returns:
        The settlement, and the direct and team commission credited per order
        (fen, aligned with ``orders``).
    """
    joined = start + pd.to_timedelta(members["joined_week"].to_numpy() * 7, unit="D")
    paid = start + pd.to_timedelta(orders["week"].to_numpy() * 7, unit="D")
    shop_members = pd.DataFrame(
        {
            "user_id": members["member_id"].to_numpy(),
            "registered_at": joined,
            "inviter_id": members["inviter_id"],
            "bound_at": joined,
        }
    )
    lines = pd.DataFrame(
        {
            "line_id": orders["order_id"].to_numpy(),
            "order_id": orders["order_id"].to_numpy(),
            "user_id": orders["member_id"].to_numpy(),
            "paid_fen": orders["pay_fen"].to_numpy(),
            "balance_paid_fen": np.zeros(len(orders), dtype=np.int64),
            "paid_at": paid,
        }
    )
    receipts = pd.DataFrame(
        {
            "order_id": lines["order_id"],
            "received_at": pd.Series(pd.NaT, index=lines.index, dtype="datetime64[ns, UTC]"),
        }
    )
    refunds = pd.DataFrame(
        {
            "refund_id": pd.Series(dtype=np.int64),
            "line_id": pd.Series(dtype=np.int64),
            "amount_fen": pd.Series(dtype=np.int64),
            "refunded_at": pd.Series(dtype="datetime64[ns, UTC]"),
        }
    )
    events = events_from_frames(shop_members, receipts, lines, refunds, tick_every="")
    settlement = settle(events, config)
    credited = settlement.entries[settlement.entries["kind"] == "COMMISSION"]
    by_order = credited.pivot_table(
        index="order_id",
        columns="reward_type",
        values="amount_fen",
        aggfunc="sum",
        fill_value=0,
        observed=False,
    )
    ids = orders["order_id"].to_numpy()

    def per_order(reward_type: str) -> IntArray:
        if reward_type not in by_order.columns:
            return np.zeros(len(ids), dtype=np.int64)
        column = by_order[reward_type].astype(np.int64)
        return np.asarray(column.reindex(ids, fill_value=0).to_numpy(), dtype=np.int64)

    return settlement, per_order("DIRECT"), per_order("TEAM")


def order_up_to(
    stock: IntArray,
    on_order: IntArray,
    forecast: FloatArray,
    unit_cost_fen: IntArray,
    lead_weeks: int,
    review_weeks: int,
    safety_weeks: float,
) -> IntArray:
    """Units to order per item from :func:`chainmall.replenish.suggest_orders`.

    Periodic review (R, S) with ``S = ceil(f · (L + R + s))`` for the smoothed weekly
    forecast ``f`` and ``s`` weeks of safety stock; inventory position = stock + on order.
    """
    level = np.ceil(forecast * (lead_weeks + review_weeks + safety_weeks))
    lines = pd.DataFrame(
        {
            "unique_id": np.arange(len(stock)),
            "level": level,
            "inventory_position": (stock + on_order).astype(np.float64),
            "unit_cost_fen": unit_cost_fen,
        }
    )
    return np.asarray(suggest_orders(lines)["order_qty"].to_numpy(), dtype=np.int64)
