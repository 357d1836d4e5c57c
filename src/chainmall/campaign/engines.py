"""Adapters: each engine the simulator uses, behind one small function.

The campaign package composes the engines; the engines know nothing of it. Each
adapter turns the simulator's arrays into the engine's frames and back:

* :func:`personalised_slates`: :class:`chainmall.recommend.EASE` fitted on the
  arm's purchases and carts; :func:`popular_slates` is the control's browsing
  (popularity-weighted random items);
* :func:`optimised_list_prices`: :func:`chainmall.pricing.optimize_prices` (one
  list price per item, the same for every member);
* :func:`churn_flagged`: :func:`chainmall.segment.alerts.churn_alerts`;
* :func:`team_commissions`: the 2+1 commission rules of the referral spec (R4) in
  vectorised form (see the function for the simplifications);
* :func:`order_up_to`: :func:`chainmall.replenish.suggest_orders` with a
  periodic-review order-up-to level on an exponentially smoothed forecast.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from chainmall.pricing import GuardRailConfig, optimize_prices
from chainmall.recommend import EASE, Interactions, InteractionsConfig
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
    "team_commissions",
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
            "store": 1,
            "product": np.arange(len(current_fen)),
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
    log = pd.DataFrame({"customer_id": order_members, "ts": order_days, "amount": order_pay_fen})
    alerts = churn_alerts(log, now.strftime("%Y-%m-%d"), RFMLConfig(timezone="UTC"))
    hit = alerts[alerts["reason"].isin(reasons)]
    return np.unique(hit["customer_id"].to_numpy(dtype=np.int64))


def team_commissions(
    pay_fen: IntArray,
    inviter: IntArray,
    grand_inviter: IntArray,
    rank: IntArray,
    inviter_rank: IntArray,
    inviter_is_member: BoolArray,
    grand_is_member: BoolArray,
    direct_rate_bp: tuple[int, int, int],
    team_rate_bp: int,
    max_payout_bp: int,
) -> tuple[IntArray, IntArray]:
    """Direct and team commission per order (fen), rounded down (referral spec R4).

    Direct: the buyer's inviter, if a member, at the rate of the buyer's invitee
    rank (1-3, 4-10, 11+). Team (2+1, ``FIRST_N`` slide of 2, depth limit 2): a
    buyer among its inviter's first two invitees slid to the inviter's boss; within
    two genealogical steps that is the grand-inviter, who is the inviter's team
    parent only when the inviter was the grand-inviter's 3rd or later invitee (the
    grand-inviter being a boss then). Otherwise no team commission (spec R4.3).
    The per-order payout cap cuts the team commission first (R4.5).

    Simplifications: ranks follow joining order (the spec counts first orders),
    commissions are per order rather than per line, no monthly cap, no refunds.
    """
    has_inviter = inviter >= 0
    tier = np.where(rank <= 3, 0, np.where(rank <= 10, 1, 2))
    rate = np.asarray(direct_rate_bp, dtype=np.int64)[tier]
    direct = np.where(has_inviter & inviter_is_member, pay_fen * rate // 10_000, 0)
    team_ok = has_inviter & (grand_inviter >= 0) & (rank <= 2) & (inviter_rank >= 3)
    team = np.where(team_ok & grand_is_member, pay_fen * team_rate_bp // 10_000, 0)
    cap = pay_fen * max_payout_bp // 10_000
    team = np.minimum(team, np.maximum(cap - direct, 0))
    direct = np.minimum(direct, cap)
    return direct.astype(np.int64), team.astype(np.int64)


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
