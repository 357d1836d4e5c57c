"""The simulated world: population, behaviour and stock assumptions (one config).

Every behavioural response to a promotion is an explicit field here, because the
simulator's effects are only as true as these assumptions.
"""

from __future__ import annotations

from pydantic import Field

from chainmall.config import EngineConfig
from chainmall.referral import ReferralConfig

__all__ = ["WorldConfig"]


class WorldConfig(EngineConfig):
    """A shop's members, catalogue, behaviour and stock rules (fen, weeks, fractions)."""

    n_members: int = Field(2000, ge=10, description="members at the start (count)")
    n_items: int = Field(100, ge=10, description="catalogue size (items)")
    n_factors: int = Field(4, ge=1, description="latent taste dimensions")
    taste_strength: float = Field(
        1.0, ge=0, description="weight of member-item taste match in add-to-cart (logits)"
    )
    weeks: int = Field(26, ge=1, description="weeks the campaign runs")
    pre_weeks: int = Field(8, ge=1, description="weeks before the campaign (covariates, history)")
    price_min_fen: int = Field(1000, ge=1, description="cheapest list price at start (fen)")
    price_max_fen: int = Field(20000, ge=1, description="dearest list price at start (fen)")
    cost_share: float = Field(0.6, gt=0, lt=1, description="unit cost / initial list price")
    elasticity_mean: float = Field(-1.8, lt=0, description="mean own-price elasticity of items")
    visit_rate: float = Field(0.3, gt=0, lt=1, description="mean weekly visit probability")
    leave_rate: float = Field(
        0.02, ge=0, lt=1, description="weekly probability a member stops visiting for good"
    )
    slate_size: int = Field(8, ge=1, description="items shown per visit")
    cart_logit: float = Field(-3.0, description="add-to-cart log-odds of an average item")
    buy_logit: float = Field(0.0, description="checkout log-odds of a cart without benefits")
    benefit_response: float = Field(
        3.0,
        ge=0,
        description="checkout log-odds gained per unit of benefit share (benefit / cart amount)",
    )
    coupon_visit_uplift: float = Field(
        1.3, ge=1, description="visit-probability multiplier while holding a coupon"
    )
    share_rate: float = Field(
        0.05, ge=0, description="mean invites sent per member per week (heavy-tailed)"
    )
    share_tail: float = Field(
        1.5, gt=1, description="Pareto shape of members' share propensity (lower = heavier)"
    )
    accept_rate: float = Field(0.3, ge=0, le=1, description="share of invites that join")
    referral_share_uplift: float = Field(
        0.3, ge=0, description="relative rise in invites sent when 2+1 commissions are paid"
    )
    coupon_share_uplift_per_yuan: float = Field(
        0.02, ge=0, description="relative rise in invites per yuan of invite coupons (both sides)"
    )
    group_fill_rate: float = Field(
        0.4, ge=0, le=1, description="probability an initiated group buy completes"
    )
    group_new_member_share: float = Field(
        0.2, ge=0, le=1, description="share of group companions who are new, invited members"
    )
    referral: ReferralConfig = Field(
        default_factory=ReferralConfig,
        description="the 2+1 programme that settles commissions when a campaign pays them "
        "(rates in bp, payout and monthly caps in fen, depth limit)",
    )
    lead_weeks: int = Field(1, ge=0, description="replenishment lead time (weeks)")
    review_weeks: int = Field(1, ge=1, description="weeks between replenishment orders")
    safety_weeks: float = Field(1.0, ge=0, description="safety stock in weeks of forecast")
    smoothing: float = Field(0.3, gt=0, le=1, description="exponential smoothing of weekly sales")
    refit_weeks: int = Field(4, ge=1, description="weeks between recommender / price updates")
