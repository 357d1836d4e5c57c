"""Simulator: determinism, conservation, and equality of arms without a campaign."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.campaign import (
    METRICS,
    Campaign,
    ChurnCoupon,
    EnergyPoints,
    GroupBuy,
    InviteCoupon,
    SpendLottery,
    WorldConfig,
    compare_arms,
    replicate,
    run_experiment,
    simulate_arm,
)

SMALL = WorldConfig(n_members=300, n_items=30, weeks=8, pre_weeks=4, refit_weeks=2)
ALL_MECHANICS = (
    InviteCoupon(),
    GroupBuy(),
    SpendLottery(weekly_budget_fen=20_000),
    EnergyPoints(),
    ChurnCoupon(every_weeks=2),
)
PAPER = Campaign(
    name="paper",
    mechanics=ALL_MECHANICS,
    referral=True,
    recommendations="personalised",
    dynamic_pricing=True,
)


@pytest.fixture(scope="module")
def paper_run() -> pd.DataFrame:
    return run_experiment(SMALL, PAPER, seed=3)


def test_same_seed_same_output(paper_run) -> None:
    again = simulate_arm(SMALL, PAPER, seed=3)
    pd.testing.assert_frame_equal(again.orders, paper_run.treatment.orders)
    pd.testing.assert_frame_equal(again.members, paper_run.treatment.members)
    other = simulate_arm(SMALL, PAPER, seed=4)
    assert not other.orders.equals(paper_run.treatment.orders)


def test_money_is_conserved(paper_run) -> None:
    run = paper_run.treatment
    o, li = run.orders, run.lines
    for frame in (o, li):
        assert all(str(frame[c].dtype) == "int64" for c in frame.columns if c.endswith("_fen"))
    # each order: list amount - group discount - coupon - points = paid >= 0
    assert (o["pay_fen"] >= 0).all()
    parts = o["group_discount_fen"] + o["coupon_fen"] + o["points_fen"] + o["pay_fen"]
    assert (parts == o["list_amount_fen"]).all()
    per_order = li.groupby("order_id")["list_price_fen"].sum()
    assert (per_order.reindex(o["order_id"]).to_numpy() == o["list_amount_fen"]).all()
    # GMV = sum of order amounts; distribution cost = sum of commissions
    camp = o[o["week"] >= SMALL.pre_weeks]
    m = run.metrics
    assert m["gmv_fen"] == camp["pay_fen"].sum()
    commissions = camp["direct_commission_fen"].sum() + camp["team_commission_fen"].sum()
    assert m["distribution_cost_share"] == pytest.approx(commissions / camp["pay_fen"].sum())
    assert commissions > 0
    # payout cap: commissions <= 30% of the paid amount, rounded down
    assert (o["direct_commission_fen"] + o["team_commission_fen"] <= o["pay_fen"] * 3 // 10).all()
    weekly_gmv = run.weekly.loc[run.weekly["in_campaign"], "gmv_fen"].sum()
    assert weekly_gmv == m["gmv_fen"]


def test_outputs_every_metric_for_both_arms(paper_run) -> None:
    summary = paper_run.summary()
    assert summary["metric"].tolist() == list(METRICS)
    assert np.isfinite(summary[["control", "treatment"]].to_numpy()).all()
    assert paper_run.control.metrics["distribution_cost_share"] == 0
    assert paper_run.treatment.metrics["fission_depth"] >= 1


def test_pre_period_is_identical_with_common_random_numbers(paper_run) -> None:
    t, c = paper_run.treatment.orders, paper_run.control.orders
    pre_t = t[t["week"] < SMALL.pre_weeks].reset_index(drop=True)
    pre_c = c[c["week"] < SMALL.pre_weeks].reset_index(drop=True)
    pd.testing.assert_frame_equal(pre_t, pre_c)


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 1000),
    kinds=st.lists(st.sampled_from(range(len(ALL_MECHANICS))), max_size=5, unique=True),
)
def test_disabled_mechanics_leave_treatment_equal_to_control(seed: int, kinds: list[int]) -> None:
    world = SMALL.replace(weeks=4, n_members=150)
    off = tuple(ALL_MECHANICS[i].replace(enabled=False) for i in kinds)
    exp = run_experiment(world, Campaign(name="off", mechanics=off), seed=seed)
    pd.testing.assert_frame_equal(exp.treatment.orders, exp.control.orders)
    assert exp.treatment.metrics == exp.control.metrics


def test_zero_valued_coupon_equals_control() -> None:
    zero = Campaign(mechanics=(InviteCoupon(inviter_fen=0, invitee_fen=0),))
    exp = run_experiment(SMALL.replace(coupon_share_uplift_per_yuan=0.0), zero, seed=1)
    assert exp.treatment.metrics == exp.control.metrics


def test_member_outcomes_feed_cuped() -> None:
    exp = run_experiment(SMALL, PAPER, seed=2, common_random_numbers=False)
    members = exp.member_outcomes()
    assert set(members["arm"]) == {"treatment", "control"}
    assert (members["joined_week"] < SMALL.pre_weeks).all()
    plain = compare_arms(members, "spend_fen")
    adjusted = compare_arms(members, "spend_fen", covariate="pre_spend_fen")
    assert adjusted.se <= plain.se
    assert adjusted.variance_reduction > 0


def test_replicate_gives_intervals() -> None:
    rep = replicate(SMALL.replace(weeks=4), PAPER, seeds=[0, 1, 2])
    assert len(rep.runs) == 3 * len(METRICS)
    row = rep.effects.set_index("metric").loc["gmv_fen"]
    assert row["relative_ci_low"] <= row["relative"] <= row["relative_ci_high"]


def test_progress_shows_a_bar_over_weeks_and_changes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = SMALL.replace(weeks=1)
    run = simulate_arm(world, Campaign(), seed=0, progress=True)
    assert f"{SMALL.pre_weeks + 1}/{SMALL.pre_weeks + 1}" in capsys.readouterr().err
    quiet = simulate_arm(world, Campaign(), seed=0)
    assert capsys.readouterr().err == ""
    pd.testing.assert_frame_equal(run.weekly, quiet.weekly)


def _hand_tree() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A buys (week 0); P, Q, invited by A, buy (week 1): A is a BOSS; X, A's 3rd
    invitee, buys (week 2) and joins A's team; B, X's 1st invitee, buys (week 3)."""
    a, p, q, x, b = range(5)
    members = pd.DataFrame(
        {
            "member_id": [a, p, q, x, b],
            "inviter_id": pd.array([None, a, a, a, x], dtype="Int64"),
            "joined_week": [0, 0, 0, 0, 0],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": [10, 11, 12, 13, 14],
            "member_id": [a, p, q, x, b],
            "week": [0, 1, 1, 2, 3],
            "pay_fen": [10_000] * 5,
        }
    )
    return members, orders


def test_commissions_by_hand_through_the_referral_engine() -> None:
    from chainmall.campaign.engines import settle_commissions
    from chainmall.referral import ReferralConfig

    members, orders = _hand_tree()
    start = pd.Timestamp("2025-01-06", tz="UTC")
    settlement, direct, team = settle_commissions(members, orders, start, ReferralConfig())
    # A: 20% on P, Q and X (ranks 1-3); X: 20% on B; A: 5% team on B (distance 2)
    assert direct.tolist() == [0, 2000, 2000, 2000, 2000]
    assert team.tolist() == [0, 0, 0, 0, 500]
    status = settlement.users.set_index("user_id")["status"].astype(str)
    assert status[0] == "BOSS"
    # the engine's caps apply: per-line payout cap cuts the team share first ...
    _, direct, team = settle_commissions(
        members, orders, start, ReferralConfig(max_payout_ratio_bp=2200)
    )
    assert team.tolist() == [0, 0, 0, 0, 200]
    # ... and the monthly cap per beneficiary (all four weeks are in January)
    capped, direct, team = settle_commissions(
        members, orders, start, ReferralConfig(monthly_cap_fen=5000)
    )
    assert direct.tolist() == [0, 2000, 2000, 1000, 2000]
    assert team.tolist() == [0, 0, 0, 0, 0]
    assert (capped.entries["kind"] == "CAPPED").sum() == 2


def test_commissions_equal_the_ledger(paper_run) -> None:
    run = paper_run.treatment
    assert run.settlement is not None and paper_run.control.settlement is None
    assert run.settlement.rejected.empty  # every event was valid for the engine
    entries = run.settlement.entries
    credited = entries[entries["kind"] == "COMMISSION"]
    live = run.orders.loc[run.orders["week"] >= SMALL.pre_weeks, "order_id"]
    from_ledger = int(credited.loc[credited["order_id"].isin(live), "amount_fen"].sum())
    o = run.orders
    assert from_ledger == int(o["direct_commission_fen"].sum() + o["team_commission_fen"].sum())
    assert (o.loc[o["week"] < SMALL.pre_weeks, "direct_commission_fen"] == 0).all()
    # every order paid is one ledger line; every member is a user of the tree
    assert set(run.settlement.users["user_id"].astype(int)) == set(run.members["member_id"])


def test_replenishment_orders_up_to_the_level() -> None:
    from chainmall.campaign.engines import order_up_to

    got = order_up_to(
        np.array([0, 5, 30]),
        np.array([0, 2, 0]),
        np.array([4.0, 4.0, 4.0]),
        np.array([100, 100, 100]),
        lead_weeks=1,
        review_weeks=1,
        safety_weeks=1.0,
    )
    assert got.tolist() == [12, 5, 0]  # level 12 minus the inventory position
