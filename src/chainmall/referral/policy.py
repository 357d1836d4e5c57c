"""Configuration of the part-2 incentives (R7-R10): energy points, badges, TCV, dividend.

:class:`IncentiveConfig` is nested in :class:`~chainmall.referral.ReferralConfig`
as ``incentives``. Every incentive is non-cash except two explicit, capped
lines: the badge uplift on a direct commission (only with
``ReferralConfig.badge_uplift_enabled``) and the dividend (only with
``dividend_enabled``, from a fixed platform budget).
"""

from __future__ import annotations

import itertools

from pydantic import Field, model_validator

from chainmall.config import EngineConfig

__all__ = ["Badge", "IncentiveConfig"]


class Badge(EngineConfig):
    """A badge level: reached at ``min_points`` cumulative net energy points."""

    name: str = Field(min_length=1, description="badge label, e.g. BRONZE")
    min_points: int = Field(gt=0, description="cumulative net energy points needed (points)")
    uplift_bp: int = Field(
        ge=0, le=500, description="direct-commission uplift, bp of the amount (at most +5%)"
    )
    logistics_priority: bool = Field(default=False, description="orders ship with priority")


_DEFAULT_BADGES = (
    Badge(name="BRONZE", min_points=1_000, uplift_bp=100),
    Badge(name="GOLD", min_points=5_000, uplift_bp=300, logistics_priority=True),
    Badge(name="DIAMOND", min_points=20_000, uplift_bp=500, logistics_priority=True),
)


class IncentiveConfig(EngineConfig):
    """Energy points, badges, team contribution (TCV), partners and the dividend."""

    share_points: int = Field(default=50, ge=0, description="points per share (points)")
    share_daily_cap: int = Field(
        default=3, ge=0, description="shares per local day that earn points (count)"
    )
    no_point_channels: tuple[str, ...] = Field(
        default=("WECHAT",),
        description="share channels that earn 0 points (WeChat forbids rewarding shares)",
    )
    comment_points: int = Field(
        default=30, ge=0, description="points for the first comment on a received line"
    )
    order_points: int = Field(
        default=100, ge=0, description="points when an order settles; reversed on claw-back"
    )
    badges: tuple[Badge, ...] = Field(
        default=_DEFAULT_BADGES, description="badge levels by increasing min_points"
    )
    repurchase_min_fen: int = Field(
        default=5_000, ge=1, description="net order amount that counts as a repurchase (fen)"
    )
    tcv_decay_bp: int = Field(
        default=3_000, ge=0, le=10_000, description="monthly TCV decay of inactive members (bp)"
    )
    tcv_depth: int = Field(
        default=2, ge=1, le=2, description="inviter-tree depth of the TCV subtree (levels)"
    )
    partner_repurchase_count: int = Field(
        default=3, ge=1, description="settled team repurchases that make a PARTNER (count)"
    )
    dividend_enabled: bool = Field(
        default=False, description="pay the top-TCV dividend (Art. 7(3) risk: off by default)"
    )
    dividend_top_fraction_bp: int = Field(
        default=1_000, ge=1, le=10_000, description="share of eligible members paid (bp)"
    )
    dividend_pool_fen: int = Field(
        default=0, ge=0, description="fixed platform budget per closed month (fen)"
    )

    @model_validator(mode="after")
    def _check(self) -> IncentiveConfig:
        if any(b.min_points <= a.min_points for a, b in itertools.pairwise(self.badges)):
            raise ValueError("badges must have strictly increasing min_points")
        if self.dividend_enabled and self.dividend_pool_fen <= 0:
            raise ValueError("dividend_enabled needs a positive dividend_pool_fen budget")
        return self

    def badge_index(self, points: int) -> int:
        """Index of the highest badge reached with ``points`` (-1: none)."""
        level = -1
        for i, badge in enumerate(self.badges):
            if points >= badge.min_points:
                level = i
        return level
