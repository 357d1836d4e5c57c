"""Headline figures of one simulated arm, over the campaign weeks only.

| metric | definition |
|---|---|
| ``gmv_fen`` | sum of what orders paid (after group discount, coupons, points) |
| ``visitors`` | members who visited at least once |
| ``visits`` | member-weeks with a visit |
| ``add_to_cart`` | items added to carts |
| ``buyers`` | members with at least one order |
| ``repurchase_rate`` | buyers with two or more orders / buyers |
| ``ltv_fen`` | GMV per member (members at the start plus those who joined) |
| ``invited_members`` | members who joined through an invite during the campaign |
| ``fission_coefficient`` | invited members / members at the campaign start |
| ``fission_depth`` | longest invite chain (links) ending in a member who joined in the campaign |
| ``distribution_cost_share`` | 2+1 commissions / GMV |
| ``promotion_cost_share`` | (group discounts + coupons + points + lottery prizes) / GMV |
| ``gross_margin_fen`` | GMV − cost of goods − commissions − lottery prizes |
| ``inventory_days`` | mean end-of-week stock units / units sold per day |
| ``lost_sales_share`` | lines not served for lack of stock / lines wanted |
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainmall.campaign.config import WorldConfig

__all__ = ["METRICS", "arm_metrics"]

METRICS = (
    "gmv_fen",
    "visitors",
    "visits",
    "add_to_cart",
    "buyers",
    "repurchase_rate",
    "ltv_fen",
    "invited_members",
    "fission_coefficient",
    "fission_depth",
    "distribution_cost_share",
    "promotion_cost_share",
    "gross_margin_fen",
    "inventory_days",
    "lost_sales_share",
)
"""Names of the figures :func:`arm_metrics` returns, in order."""


def _share(num: float, den: float) -> float:
    return float(num / den) if den else 0.0


def arm_metrics(
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    members: pd.DataFrame,
    weekly: pd.DataFrame,
    config: WorldConfig,
) -> dict[str, float]:
    """The figures of :data:`METRICS` for one arm (see the module table)."""
    start = config.pre_weeks
    o = orders[orders["week"] >= start]
    li = lines[lines["week"] >= start]
    w = weekly[weekly["in_campaign"]]
    gmv = int(o["pay_fen"].sum())
    commissions = int(o["direct_commission_fen"].sum() + o["team_commission_fen"].sum())
    benefits = int(
        o[["group_discount_fen", "coupon_fen", "points_fen", "prize_fen"]].to_numpy().sum()
    )
    cogs = int(li["unit_cost_fen"].sum())
    per_buyer = o.groupby("member_id").size()
    at_start = int((members["joined_week"] < start).sum())
    joined = members[members["joined_week"] >= start]
    invited = joined[joined["inviter_id"].notna()]
    daily_units = w["units_sold"].sum() / (7 * max(len(w), 1))
    wanted = w["units_sold"].sum() + w["lost_units"].sum()
    return {
        "gmv_fen": float(gmv),
        "visitors": float((members["visits"] > 0).sum()),
        "visits": float(w["visitors"].sum()),
        "add_to_cart": float(w["carts"].sum()),
        "buyers": float(len(per_buyer)),
        "repurchase_rate": _share(int((per_buyer >= 2).sum()), len(per_buyer)),
        "ltv_fen": _share(gmv, len(members)),
        "invited_members": float(len(invited)),
        "fission_coefficient": _share(len(invited), at_start),
        "fission_depth": float(invited["depth"].max()) if len(invited) else 0.0,
        "distribution_cost_share": _share(commissions, gmv),
        "promotion_cost_share": _share(benefits, gmv),
        "gross_margin_fen": float(gmv - cogs - commissions - int(o["prize_fen"].sum())),
        "inventory_days": float(w["stock_units"].mean() / daily_units) if daily_units else np.inf,
        "lost_sales_share": _share(float(w["lost_units"].sum()), float(wanted)),
    }
