"""Commission approval: golden lifecycles worked by hand, bad input, fold = batch.

Set-up (as in ``test_withdrawals``): member 2 invites 3; 3 pays two lines of
10,000 and 5,000 fen, so 2 earns 2,000 + 1,000 fen (direct 20%, no team rate);
the order is received at T0 and settles at the tick of T0 + 15 days (seq 8).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainmall.exceptions import ConfigError
from chainmall.referral import (
    ApprovalConfig,
    Bound,
    CommissionApproved,
    CommissionDeclined,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    RefundSucceeded,
    Registered,
    SettlementTick,
    WithdrawalRequested,
    events_from_frame,
    events_to_frame,
    fold,
    settle,
)
from tests.referral.equality import assert_same, check_fold_equals_batch
from tests.referral.referral_streams import approval_streams, configs, streams

T0 = datetime(2025, 3, 3, tzinfo=UTC)
MANUAL = ReferralConfig(team_rate_bp=0, approval=ApprovalConfig(mode="manual"))
AFTER_3_DAYS = ReferralConfig(team_rate_bp=0, approval=ApprovalConfig(auto_after_days=3))


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def earned() -> list[Any]:
    """Member 2's two commissions (2,000 and 1,000 fen) settle at seq 8."""
    return [
        Registered(2, T0, 2),
        Registered(3, T0, 3),
        Bound(4, T0, 3, 2),
        OrderPaid(5, T0, 99, 2, (OrderLine(999, 100),)),
        OrderPaid(6, T0, 100, 3, (OrderLine(1000, 10_000), OrderLine(1001, 5_000))),
        OrderReceived(7, T0, 100),
        SettlementTick(8, day(15)),
    ]


def run(events: list[Any], config: ReferralConfig) -> Any:
    """Fold and batch agree on the same frame (ledger, root, rejections); the fold's."""
    frame = events_to_frame(events)
    slow, fast = fold(frame, config), settle(frame, config)
    assert_same(slow, fast)
    assert slow.merkle_root() == fast.merkle_root()
    return slow


def commission_ids(config: ReferralConfig) -> tuple[str, str]:
    """The entry ids of the 2,000 and the 1,000 fen commission."""
    result = fold(earned(), config)
    kinds = result.entries["kind"].astype(str).tolist()
    ids = [eid for eid, kind in zip(result.entry_ids(), kinds, strict=True) if kind == "COMMISSION"]
    return ids[0], ids[1]


def tail(result: Any, after: int = 8) -> list[tuple[int, str, int]]:
    e = result.entries[result.entries["seq"] >= after]
    return list(zip(e["seq"], e["kind"].astype(str), e["amount_fen"], strict=True))


def account(result: Any, user: int = 2) -> dict[str, int]:
    row = result.balances.set_index("user_id").loc[user]
    return {k: int(row[k]) for k in ("pending_fen", "awaiting_approval_fen", "available_fen")}


def test_default_is_available_at_settlement_and_decisions_are_too_late() -> None:
    plain = ReferralConfig(team_rate_bp=0)
    big, _ = commission_ids(plain)
    result = run([*earned(), CommissionApproved(9, day(16), (big,), "ops-1")], plain)
    assert tail(result) == [(8, "SETTLE", 2_000), (8, "SETTLE", 1_000)]
    assert result.rejected["reason"].tolist() == ["ALREADY_DECIDED"]
    assert account(result) == {"pending_fen": 0, "awaiting_approval_fen": 0, "available_fen": 3_000}


def test_manual_waits_then_approve_one() -> None:
    big, _ = commission_ids(MANUAL)
    waiting = run(earned(), MANUAL)
    assert tail(waiting) == [(8, "AWAIT_APPROVAL", 2_000), (8, "AWAIT_APPROVAL", 1_000)]
    assert account(waiting) == {
        "pending_fen": 0,
        "awaiting_approval_fen": 3_000,
        "available_fen": 0,
    }
    refused = run([*earned(), WithdrawalRequested(9, day(16), 2, 1, 500)], MANUAL)
    assert refused.rejected["reason"].tolist() == ["INSUFFICIENT_AVAILABLE"]  # not withdrawable
    result = run([*earned(), CommissionApproved(9, day(16), (big,), "ops-1")], MANUAL)
    assert tail(result, 9) == [(9, "APPROVE", 2_000)]
    assert account(result) == {
        "pending_fen": 0,
        "awaiting_approval_fen": 1_000,
        "available_fen": 2_000,
    }
    approve_ref = result.entries["ref_pos"].iloc[-1]
    assert result.entries["kind"].iloc[approve_ref] == "COMMISSION"


def test_bulk_approve_is_all_or_nothing() -> None:
    big, small = commission_ids(MANUAL)
    bad = run([*earned(), CommissionApproved(9, day(16), (big, "no-such-entry"), "ops-1")], MANUAL)
    assert bad.rejected["reason"].tolist() == ["UNKNOWN_ENTRY"]
    assert tail(bad, 9) == []
    assert account(bad)["available_fen"] == 0
    both = run([*earned(), CommissionApproved(9, day(16), (small, big), "ops-1")], MANUAL)
    assert tail(both, 9) == [(9, "APPROVE", 1_000), (9, "APPROVE", 2_000)]  # in the given order
    assert account(both)["available_fen"] == 3_000


def test_decline_reverses_with_reason() -> None:
    big, small = commission_ids(MANUAL)
    events = [*earned(), CommissionDeclined(9, day(16), (big,), "self-purchase ring", "ops-2")]
    result = run(events, MANUAL)
    assert tail(result, 9) == [(9, "DECLINE", -2_000)]
    b = result.balances.set_index("user_id").loc[2]
    assert (b["awaiting_approval_fen"], b["available_fen"], b["credited_fen"]) == (1_000, 0, 1_000)
    typed = events_from_frame(events_to_frame(events))[-1]
    assert typed.reason == "self-purchase ring" and typed.operator_id == "ops-2"  # in the log
    again = [*events, CommissionApproved(10, day(17), (big, small), "ops-1")]
    assert run(again, MANUAL).rejected["reason"].tolist() == ["ALREADY_DECIDED"]
    refund = [*events, RefundSucceeded(10, day(17), 1, 1000, 10_000)]
    assert tail(run(refund, MANUAL), 10) == []  # nothing left of a declined commission


def test_auto_approve_after_n_days_on_a_tick() -> None:
    events = [*earned(), SettlementTick(9, day(17.9)), SettlementTick(10, day(18))]
    result = run(events, AFTER_3_DAYS)
    assert tail(result) == [
        (8, "AWAIT_APPROVAL", 2_000),
        (8, "AWAIT_APPROVAL", 1_000),
        (10, "APPROVE", 2_000),  # the tick 3 days after the settling one; not the one before
        (10, "APPROVE", 1_000),
    ]
    assert account(result)["available_fen"] == 3_000
    _, small = commission_ids(AFTER_3_DAYS)
    early = [*earned(), CommissionDeclined(9, day(16), (small,), "fraud", "ops-1")]
    early += [SettlementTick(10, day(18))]
    assert tail(run(early, AFTER_3_DAYS), 9) == [(9, "DECLINE", -1_000), (10, "APPROVE", 2_000)]


def test_refund_of_an_awaiting_commission() -> None:
    big, _ = commission_ids(MANUAL)
    events = [*earned(), RefundSucceeded(9, day(16), 1, 1000, 2_500)]  # a quarter of the line
    result = run([*events, CommissionApproved(10, day(17), (big,), "ops-1")], MANUAL)
    assert tail(result, 9) == [(9, "AWAIT_REVERSAL", -500), (10, "APPROVE", 1_500)]
    after = run([*result_events(events, big), RefundSucceeded(11, day(18), 2, 1000, 7_500)], MANUAL)
    assert tail(after, 11) == [(11, "CLAWBACK", -1_500)]  # approved: clawed back from available
    b = after.balances.set_index("user_id").loc[2]
    assert (b["awaiting_approval_fen"], b["available_fen"], b["credited_fen"]) == (1_000, 0, 1_000)


def result_events(events: list[Any], big: str) -> list[Any]:
    return [*events, CommissionApproved(10, day(17), (big,), "ops-1")]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (CommissionApproved(9, day(16), ("",), "ops-1"), "BAD_ID"),
        (CommissionApproved(9, day(16), (), "ops-1"), "MISSING_FIELD"),
        (CommissionApproved(9, day(16), ("x",), " "), "MISSING_REASON"),
        (CommissionDeclined(9, day(16), ("x",), "", "ops-1"), "MISSING_REASON"),
        (CommissionDeclined(9, day(16), ("x",), "why", "ops-1"), "UNKNOWN_ENTRY"),
    ],
)
def test_bad_decisions_are_rejected(event: Any, reason: str) -> None:
    result = fold([*earned(), event], MANUAL)
    assert result.rejected["reason"].tolist() == [reason]


def test_not_settled_and_named_twice() -> None:
    big, _ = commission_ids(MANUAL)
    early = [*earned()[:-1], CommissionApproved(8, day(1), (big,), "ops-1")]
    assert run(early, MANUAL).rejected["reason"].tolist() == ["NOT_SETTLED"]
    twice = [*earned(), CommissionApproved(9, day(16), (big, big), "ops-1")]
    assert run(twice, MANUAL).rejected["reason"].tolist() == ["ALREADY_DECIDED"]


def test_manual_mode_takes_no_days() -> None:
    with pytest.raises(ConfigError, match="auto_after_days"):
        ApprovalConfig(mode="manual", auto_after_days=3)


def test_default_keeps_the_merkle_root() -> None:
    """Root of ``settle`` on ``make_shop(seed=0, n_members=20_000)``, taken before approval
    existed (same run of the benchmark's shop): the default config writes the same ledger."""
    from chainmall.datasets import make_shop
    from chainmall.referral import events_from_shop

    events = events_from_shop(make_shop(seed=0, n_members=20_000))
    root = settle(events, ReferralConfig()).merkle_root().hex()
    assert root == ROOT_20K


ROOT_20K = "2a9d4b9008831461424a21038fdb4b89a4d01ab36da5fd10f2ede7a58b909820"


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(streams(), configs())
def test_fold_equals_batch_with_approval(events: list[Any], config: ReferralConfig) -> None:
    for approval in (ApprovalConfig(mode="manual"), ApprovalConfig(auto_after_days=1)):
        check_fold_equals_batch(events, config.replace(approval=approval))


APPROVAL_MODES = st.sampled_from(
    [ApprovalConfig(), ApprovalConfig(mode="manual"), ApprovalConfig(auto_after_days=10)]
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(approval_streams(), configs(), APPROVAL_MODES)
def test_approval_streams_fold_equals_batch(
    events: list[Any], config: ReferralConfig, approval: ApprovalConfig
) -> None:
    """Streams where most decisions name settled commissions: fold = batch, INV-10,
    money conserved with the awaiting account."""
    config = config.replace(approval=approval)
    result = check_fold_equals_batch(events, config)
    b = result.balances
    held = b["pending_fen"] + b["awaiting_approval_fen"] + b["available_fen"] + b["reserved_fen"]
    assert (held - b["receivable_fen"] + b["withdrawn_fen"] == b["credited_fen"]).all()
    assert (b["available_fen"] >= 0).all() and (b["awaiting_approval_fen"] >= 0).all()
    if not approval.waits:
        assert not result.entries["kind"].isin(["AWAIT_APPROVAL", "APPROVE"]).any()
