"""Promotion mechanics: typed rules and their money arithmetic (integer fen).

Each mechanic is a frozen config with a ``kind`` tag (so a :class:`Campaign` loads
from TOML/JSON) and an ``enabled`` switch; the functions below are the rules'
arithmetic, vectorised over orders or members:

* :class:`InviteCoupon`: a coupon for both sides of an accepted invite (default 5
  yuan each), spent by :func:`redeem_coupons`;
* :class:`GroupBuy`: ``group_size`` people buy one item at ``discount`` off
  (:func:`group_price`);
* :class:`SpendLottery`: orders of at least ``threshold_fen`` enter a weekly draw of
  prizes worth ``prize_fen``; :func:`draw_lottery` sets the win probability
  ``min(1, budget / (entries · prize))`` so the expected cost equals the budget;
* :class:`EnergyPoints`: points for orders and shares, redeemed at checkout
  (:func:`redeem_points`);
* :class:`ChurnCoupon`: coupons for members flagged by the RFM-L churn alerts
  (:func:`churn_targets`).

Discounts never exceed what is left to pay, so no price becomes negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field

from chainmall._columns import canonical_frame
from chainmall._validation import check_array, check_scalar
from chainmall.config import EngineConfig
from chainmall.exceptions import DataValidationError

__all__ = [
    "Campaign",
    "ChurnCoupon",
    "EnergyPoints",
    "GroupBuy",
    "InviteCoupon",
    "Mechanic",
    "SpendLottery",
    "churn_targets",
    "draw_lottery",
    "group_price",
    "redeem_coupons",
    "redeem_points",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class InviteCoupon(EngineConfig):
    """Coupons for both sides of an accepted invite (fen)."""

    kind: Literal["invite_coupon"] = "invite_coupon"
    enabled: bool = Field(True, description="switch the mechanic on or off")
    inviter_fen: int = Field(500, ge=0, description="coupon for the inviter per accepted invite")
    invitee_fen: int = Field(500, ge=0, description="coupon for the new member on joining")
    min_spend_fen: int = Field(0, ge=0, description="order amount needed to use the coupon")
    valid_weeks: int = Field(4, ge=1, description="weeks a coupon stays usable")


class GroupBuy(EngineConfig):
    """Group buy: ``group_size`` people buy the same item at ``discount`` off."""

    kind: Literal["group_buy"] = "group_buy"
    enabled: bool = Field(True, description="switch the mechanic on or off")
    group_size: int = Field(3, ge=2, description="people needed to complete a group")
    discount: float = Field(0.2, gt=0, lt=1, description="discount fraction of the list price")
    item_share: float = Field(
        0.2, gt=0, le=1, description="share of the catalogue offered as group buys"
    )


class SpendLottery(EngineConfig):
    """Weekly draw among orders above a spend threshold, with a fixed prize budget."""

    kind: Literal["spend_lottery"] = "spend_lottery"
    enabled: bool = Field(True, description="switch the mechanic on or off")
    threshold_fen: int = Field(9900, ge=1, description="order amount needed to enter (fen)")
    prize_fen: int = Field(2000, ge=1, description="value of one prize (fen)")
    weekly_budget_fen: int = Field(200_000, ge=0, description="expected prize cost per week (fen)")


class EnergyPoints(EngineConfig):
    """Energy points earned by orders and shares, redeemed at checkout."""

    kind: Literal["energy_points"] = "energy_points"
    enabled: bool = Field(True, description="switch the mechanic on or off")
    points_per_order: int = Field(100, ge=0, description="points per paid order")
    points_per_share: int = Field(50, ge=0, description="points per invite sent")
    max_shares_per_week: int = Field(3, ge=0, description="shares earning points per week")
    fen_per_100_points: int = Field(100, ge=0, description="value of 100 points at checkout (fen)")
    max_redeem_share: float = Field(
        0.1, ge=0, le=1, description="largest share of an order payable with points"
    )


class ChurnCoupon(EngineConfig):
    """Coupons for members flagged by the RFM-L churn alerts."""

    kind: Literal["churn_coupon"] = "churn_coupon"
    enabled: bool = Field(True, description="switch the mechanic on or off")
    coupon_fen: int = Field(800, ge=0, description="coupon per flagged member (fen)")
    reasons: tuple[str, ...] = Field(
        ("overdue",), min_length=1, description="alert reasons that earn a coupon"
    )
    every_weeks: int = Field(4, ge=1, description="weeks between two alert runs")
    min_spend_fen: int = Field(3000, ge=0, description="order amount needed to use the coupon")
    valid_weeks: int = Field(2, ge=1, description="weeks a coupon stays usable")


Mechanic = Annotated[
    InviteCoupon | GroupBuy | SpendLottery | EnergyPoints | ChurnCoupon,
    Field(discriminator="kind"),
]
"""Any promotion mechanic (tagged by ``kind``)."""


class Campaign(EngineConfig):
    """What one arm of an experiment runs: mechanics plus the engines it switches on.

    The default is the control arm: no mechanic, no 2+1 commissions,
    popularity-weighted browsing, static list prices.
    """

    name: str = Field("control", description="arm name in the outputs")
    mechanics: tuple[Mechanic, ...] = Field((), description="promotion rules in force")
    referral: bool = Field(False, description="pay 2+1 commissions (direct and team)")
    recommendations: Literal["popular", "personalised"] = Field(
        "popular",
        description="slate: popularity-weighted browsing, or the recommend engine's EASE model",
    )
    dynamic_pricing: bool = Field(
        False, description="set list prices with the pricing engine's optimiser"
    )
    pricing_objective: Literal["profit", "revenue", "mix"] = Field(
        "mix", description="optimiser objective when dynamic_pricing is on"
    )

    def active(self, kind: str) -> EngineConfig | None:
        """The enabled mechanic of ``kind`` (the first one), or None."""
        for mechanic in self.mechanics:
            if mechanic.kind == kind and mechanic.enabled:
                return mechanic
        return None


def _fen(values: Any, name: str) -> IntArray:
    """Integer fen >= 0 (a scalar or an array of any shape)."""
    return np.asarray(check_array(values, name, "money", ndim=None, ge=0), dtype=np.int64)


def _same_shape(**arrays: np.ndarray) -> None:
    try:
        np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = {name: a.shape for name, a in arrays.items()}
        raise DataValidationError(
            f"{', '.join(arrays)} must have matching shapes, got {shapes}"
        ) from None


def _instance(value: object, cls: type, name: str) -> None:
    if not isinstance(value, cls):
        raise DataValidationError(f"{name} must be a {cls.__name__}, got {type(value).__name__}")


def redeem_coupons(
    amount_fen: IntArray, wallet_fen: IntArray, min_spend_fen: IntArray | int
) -> IntArray:
    """Coupon discount per order: ``min(wallet, amount)`` where ``amount >= min_spend``.

    Args:
        amount_fen: what is left to pay per order (fen, >= 0).
        wallet_fen: coupon value held by the order's member (fen, >= 0).
        min_spend_fen: order amount needed to use the coupon (fen).

    Returns:
        Discount per order (fen); ``amount - discount >= 0`` always.
    """
    amount = _fen(amount_fen, "amount_fen")
    wallet = _fen(wallet_fen, "wallet_fen")
    threshold = _fen(min_spend_fen, "min_spend_fen")
    _same_shape(amount_fen=amount, wallet_fen=wallet, min_spend_fen=threshold)
    usable = amount >= threshold
    return np.where(usable, np.minimum(wallet, amount), 0).astype(np.int64)


def group_price(list_price_fen: IntArray | int, discount: float) -> IntArray:
    """Price each group member pays: list price minus the discount rounded down (fen).

    3 people, 20% off a 100.00-yuan item: each pays ``10000 - 2000 = 8000`` fen.
    """
    price = _fen(list_price_fen, "list_price_fen")
    discount = check_scalar(discount, "discount", "number", ge=0, le=1)
    # the discount is rounded down, so nobody pays less than the published rate
    cut = np.floor(price * discount + 1e-9).astype(np.int64)
    return np.asarray(price - cut, dtype=np.int64)


def draw_lottery(
    order_amount_fen: IntArray,
    rule: SpendLottery,
    rng: np.random.Generator,
) -> tuple[BoolArray, float]:
    """Winning orders of one weekly draw and the win probability used.

    Every order with ``amount >= threshold`` enters once; each wins ``prize_fen``
    with probability ``p = min(1, budget / (entries · prize))``, so the expected
    cost is ``min(budget, entries · prize)``.
    """
    order_amount_fen = _fen(order_amount_fen, "order_amount_fen")
    _instance(rule, SpendLottery, "rule")
    _instance(rng, np.random.Generator, "rng")
    enters = order_amount_fen >= rule.threshold_fen
    entries = int(enters.sum())
    if entries == 0 or not rule.enabled:
        return np.zeros(order_amount_fen.shape, dtype=bool), 0.0
    p = min(1.0, rule.weekly_budget_fen / (entries * rule.prize_fen))
    wins = enters & (rng.random(order_amount_fen.shape) < p)
    return wins, p


def redeem_points(
    amount_fen: IntArray, points: IntArray, rule: EnergyPoints
) -> tuple[IntArray, IntArray]:
    """Points discount per order (fen) and the points spent.

    The discount is at most ``max_redeem_share`` of the amount (rounded down) and at
    most the points' value; points are spent in whole units of the value rate.
    """
    amount_fen = _fen(amount_fen, "amount_fen")
    points = check_array(points, "points", "count", ndim=None, ge=0)
    _same_shape(amount_fen=amount_fen, points=points)
    _instance(rule, EnergyPoints, "rule")
    if rule.fen_per_100_points == 0:
        zero = np.zeros(amount_fen.shape, dtype=np.int64)
        return zero, zero
    cap = np.floor(amount_fen * rule.max_redeem_share + 1e-9).astype(np.int64)
    value = points * rule.fen_per_100_points // 100
    discount = np.minimum(cap, value)
    spent = -(-discount * 100 // rule.fen_per_100_points)  # ceil: never spend too few
    return discount.astype(np.int64), np.minimum(spent, points).astype(np.int64)


def churn_targets(
    alerts: pd.DataFrame,
    rule: ChurnCoupon,
    *,
    columns: Mapping[str, str] | None = None,
    customer_id: str | None = None,
) -> pd.DataFrame:
    """One coupon row per member with an alert whose reason the rule targets.

    Args:
        alerts: output of :func:`chainmall.segment.alerts.churn_alerts` (``user_id``,
            ``reason``, ...).
        rule: the coupon rule.
        columns: ``{"user_id": your id column}`` where yours differs.
        customer_id: deprecated; use ``columns=``.

    Returns:
        ``user_id, coupon_fen`` (one row per member).
    """
    frame = canonical_frame(
        alerts,
        columns,
        accepted=("user_id",),
        name="alerts",
        legacy={"customer_id": ("user_id", customer_id)},
    )
    hit = frame[frame["reason"].isin(rule.reasons)]
    ids = pd.unique(hit["user_id"])
    return pd.DataFrame({"user_id": ids, "coupon_fen": np.full(len(ids), rule.coupon_fen)})
