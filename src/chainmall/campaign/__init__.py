"""Campaigns: promotion mechanics, a seeded shop simulator, and experiment analysis.

This package composes the engines (recommend, pricing, segment; referral rules)
to simulate a promotion in a treatment and a control arm, and gives the statistics
to test a campaign on a shop's own data: differences with intervals, CUPED, power.
"""

from chainmall.campaign.arms import Experiment, Replication, replicate, run_experiment
from chainmall.campaign.config import WorldConfig
from chainmall.campaign.experiment import (
    Difference,
    compare_arms,
    cuped,
    diff_in_means,
    diff_in_proportions,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from chainmall.campaign.mechanics import (
    Campaign,
    ChurnCoupon,
    EnergyPoints,
    GroupBuy,
    InviteCoupon,
    SpendLottery,
    draw_lottery,
    group_price,
    redeem_coupons,
    redeem_points,
)
from chainmall.campaign.metrics import METRICS, arm_metrics
from chainmall.campaign.simulator import ArmRun, simulate_arm

__all__ = [
    "METRICS",
    "ArmRun",
    "Campaign",
    "ChurnCoupon",
    "Difference",
    "EnergyPoints",
    "Experiment",
    "GroupBuy",
    "InviteCoupon",
    "Replication",
    "SpendLottery",
    "WorldConfig",
    "arm_metrics",
    "compare_arms",
    "cuped",
    "diff_in_means",
    "diff_in_proportions",
    "draw_lottery",
    "group_price",
    "power_means",
    "power_proportions",
    "redeem_coupons",
    "redeem_points",
    "replicate",
    "run_experiment",
    "sample_size_means",
    "sample_size_proportions",
    "simulate_arm",
]
