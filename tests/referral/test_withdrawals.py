"""Withdrawal workflow and manual adjustments: golden lifecycles, bad input, INV-10, money.

Golden numbers are worked by hand. One member (2) earns 2,000 fen: 2 invites 3,
2 buys (a member from then on), 3 pays 10,000 fen; the direct rate is 20%, so 2 is
credited 2,000 fen, settled 14 days after receipt (the tick at seq 8).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings

from chainmall.referral import (
    Adjustment,
    Bound,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    RefundSucceeded,
    Registered,
    SettlementTick,
    WithdrawalApproved,
    WithdrawalConfig,
    WithdrawalFailed,
    WithdrawalPaid,
    WithdrawalRejected,
    WithdrawalRequested,
    events_from_frame,
    events_to_frame,
    fold,
    settle,
)
from chainmall.referral.rules import run_fold
from tests.referral.equality import assert_same
from tests.referral.referral_streams import configs, sparse_ids, streams, text, with_entry_ids

T0 = datetime(2025, 3, 3, tzinfo=UTC)
FEE = ReferralConfig(team_rate_bp=0, withdrawals=WithdrawalConfig(fee_bp=100, fee_fen=50))


def earned(config: ReferralConfig = FEE) -> list[Any]:
    """Member 2 has 2,000 fen available after the tick (seq 8)."""
    return [
        Registered(2, T0, 2),
        Registered(3, T0, 3),
        Bound(4, T0, 3, 2),
        OrderPaid(5, T0, 99, 2, (OrderLine(999, 100),)),
        OrderPaid(6, T0, 100, 3, (OrderLine(1000, 10_000),)),
        OrderReceived(7, T0, 100),
        SettlementTick(8, T0 + timedelta(days=15)),
    ]


def later(days: int) -> datetime:
    return T0 + timedelta(days=15 + days)


def run(events: list[Any], config: ReferralConfig = FEE) -> Any:
    """Fold and batch agree on the same frame; the fold's settlement.

    Both read the frame (consecutive events sharing a ``seq`` are one event's rows there).
    """
    frame = events_to_frame(events)
    slow = fold(frame, config)
    fast = settle(frame, config)
    assert_same(slow, fast)
    assert slow.merkle_root() == fast.merkle_root()
    return slow


def account(result: Any, user: int = 2) -> dict[str, int]:
    row = result.balances.set_index("user_id").loc[user]
    return {k: int(v) for k, v in row.items()}


def tail(result: Any, after: int = 8) -> list[tuple[int, str, int, Any]]:
    e = result.entries
    e = e[e["seq"] > after]
    rec = e["receivable_fen"].astype(object).where(e["receivable_fen"].notna(), None)
    return list(zip(e["seq"], e["kind"].astype(str), e["amount_fen"].astype(int), rec, strict=True))


def reasons(result: Any) -> list[tuple[int, str]]:
    return list(zip(result.rejected["seq"], result.rejected["reason"], strict=True))


def test_request_approve_paid() -> None:
    # fee = 50 + floor(1,200 × 1%) = 62; paid out 1,200 − 62 = 1,138
    result = run(
        [
            *earned(),
            WithdrawalRequested(9, later(1), 2, 77, 1_200),
            WithdrawalApproved(10, later(1), 77),
            WithdrawalPaid(11, later(2), 77),
        ]
    )
    assert tail(result) == [
        (9, "WITHDRAW_HOLD", -1_200, None),
        (11, "WITHDRAW_PAID", -1_138, None),
        (11, "WITHDRAW_FEE", -62, None),
    ]
    hold = result.entries.index[result.entries["kind"] == "WITHDRAW_HOLD"][0]
    refs = result.entries[result.entries["seq"] == 11]["ref_pos"].tolist()
    assert refs == [hold, hold]
    assert account(result) == {
        "pending_fen": 0,
        "awaiting_approval_fen": 0,
        "available_fen": 800,
        "reserved_fen": 0,
        "receivable_fen": 0,
        "withdrawn_fen": 1_200,
        "withheld_fen": 0,
        "credited_fen": 2_000,
    }


def test_request_reserves_until_decided() -> None:
    result = run([*earned(), WithdrawalRequested(9, later(1), 2, 77, 1_500)])
    assert account(result)["available_fen"] == 500
    assert account(result)["reserved_fen"] == 1_500
    # a second request cannot take the reserved funds (INV-10)
    result = run([*earned(), WithdrawalRequested(9, later(1), 2, 77, 1_500),
                  WithdrawalRequested(10, later(1), 2, 78, 600)])  # fmt: skip
    assert reasons(result) == [(10, "INSUFFICIENT_AVAILABLE")]


def test_request_reject() -> None:
    result = run(
        [
            *earned(),
            WithdrawalRequested(9, later(1), 2, 77, 1_500),
            WithdrawalRejected(10, later(1), 77),
        ]
    )
    assert tail(result) == [(9, "WITHDRAW_HOLD", -1_500, None), (10, "WITHDRAW_RELEASE", 1_500, 0)]
    assert account(result)["available_fen"] == 2_000
    assert account(result)["reserved_fen"] == 0
    assert account(result)["withdrawn_fen"] == 0


def test_request_approve_failed() -> None:
    result = run(
        [
            *earned(),
            WithdrawalRequested(9, later(1), 2, 77, 1_500),
            WithdrawalApproved(10, later(1), 77),
            WithdrawalFailed(11, later(2), 77),
        ]
    )
    assert tail(result) == [(9, "WITHDRAW_HOLD", -1_500, None), (11, "WITHDRAW_RELEASE", 1_500, 0)]
    assert account(result)["available_fen"] == 2_000
    assert account(result)["withdrawn_fen"] == 0


def test_refund_after_payout_claws_back_then_nets_next_request() -> None:
    # 2 withdraws 2,000 (fee 70, paid 1,930); the order is refunded in full after
    # settlement: the 2,000 commission is clawed back, all of it owed (receivable).
    # A credit adjustment of 2,500 nets the 2,000 owed first: 500 available, so a
    # request of 600 is refused and one of 500 accepted.
    events = [
        *earned(),
        WithdrawalRequested(9, later(1), 2, 77, 2_000),
        WithdrawalApproved(10, later(1), 77),
        WithdrawalPaid(11, later(1), 77),
        RefundSucceeded(12, later(2), 5000, 1000, 10_000),
        Adjustment(13, later(3), 2, 2_500, "campaign bonus", "ops-7"),
        WithdrawalRequested(14, later(3), 2, 78, 600),
        WithdrawalRequested(15, later(3), 2, 79, 500),
    ]
    result = run(events)
    assert tail(result, after=11) == [
        (12, "CLAWBACK", -2_000, 2_000),
        (13, "ADJUSTMENT", 2_500, -2_000),
        (15, "WITHDRAW_HOLD", -500, None),
    ]
    assert reasons(result) == [(14, "INSUFFICIENT_AVAILABLE")]
    assert account(result) == {
        "pending_fen": 0,
        "awaiting_approval_fen": 0,
        "available_fen": 0,
        "reserved_fen": 500,
        "receivable_fen": 0,
        "withdrawn_fen": 2_000,
        "withheld_fen": 0,
        "credited_fen": 2_500,  # 2,000 − 2,000 clawed back + 2,500 adjusted
    }


def test_rejected_release_nets_receivable() -> None:
    # 1,500 reserved; a refund claws 2,000 back from the 500 available: 1,500 owed.
    # The rejection releases 1,500, all of it netted against what is owed.
    events = [
        *earned(),
        WithdrawalRequested(9, later(1), 2, 77, 1_500),
        RefundSucceeded(10, later(2), 5000, 1000, 10_000),
        WithdrawalRejected(11, later(3), 77),
    ]
    result = run(events)
    assert tail(result, after=9) == [
        (10, "CLAWBACK", -2_000, 1_500),
        (11, "WITHDRAW_RELEASE", 1_500, -1_500),
    ]
    assert account(result)["available_fen"] == 0
    assert account(result)["receivable_fen"] == 0


def test_debit_adjustment_beyond_available_is_owed() -> None:
    result = run([*earned(), Adjustment(9, later(1), 2, -2_300, "duplicate payout", "ops-1")])
    assert tail(result) == [(9, "ADJUSTMENT", -2_300, 300)]
    assert account(result)["available_fen"] == 0
    assert account(result)["receivable_fen"] == 300


def test_bad_input_is_rejected_with_its_reason_and_changes_nothing() -> None:
    config = ReferralConfig(
        team_rate_bp=0, withdrawals=WithdrawalConfig(min_fen=100, fee_fen=100, daily_limit=2)
    )
    bad = [
        WithdrawalRequested(9, later(1), 2, 70, 2_001),  # above available
        WithdrawalRequested(10, later(1), 2, 71, 99),  # below the minimum
        WithdrawalRequested(11, later(1), 2, 72, 100),  # the fee takes it all
        WithdrawalRequested(12, later(1), 9, 73, 500),  # unknown user
        WithdrawalRequested(13, later(1), 2, 74, 0),
        WithdrawalApproved(14, later(1), 404),  # unknown request
        WithdrawalRequested(15, later(1), 2, 75, 300),
        WithdrawalRequested(16, later(1), 2, 75, 300),  # same request id
        WithdrawalPaid(17, later(1), 75),  # not approved yet
        WithdrawalRejected(18, later(1), 75),
        WithdrawalApproved(19, later(1), 75),  # already decided
        WithdrawalPaid(20, later(1), 75),  # rejected: never paid
        WithdrawalRequested(21, later(1), 2, 76, 300),
        WithdrawalRequested(22, later(1), 2, 77, 300),  # third request of the day
        WithdrawalRequested(23, later(2), 2, 77, 300),  # next day: fine
        Adjustment(24, later(2), 2, 500, "  ", "ops-1"),  # blank reason
        Adjustment(25, later(2), 2, 500, "bonus", ""),  # no operator
        Adjustment(26, later(2), 2, 0, "bonus", "ops-1"),
        WithdrawalApproved(27, later(2), 77),
        WithdrawalFailed(28, later(2), 77),
        WithdrawalPaid(29, later(2), 77),  # failed already
    ]
    result = run([*earned(config), *bad], config)
    assert reasons(result) == [
        (9, "INSUFFICIENT_AVAILABLE"),
        (10, "BELOW_MINIMUM"),
        (11, "FEE_EXCEEDS_AMOUNT"),
        (12, "UNKNOWN_USER"),
        (13, "NON_POSITIVE_AMOUNT"),
        (14, "UNKNOWN_REQUEST"),
        (16, "DUPLICATE_REQUEST"),
        (17, "NOT_APPROVED"),
        (19, "ALREADY_DECIDED"),
        (20, "NOT_APPROVED"),
        (22, "DAILY_LIMIT"),
        (24, "MISSING_REASON"),
        (25, "MISSING_REASON"),
        (26, "ZERO_ADJUSTMENT"),
        (29, "ALREADY_DECIDED"),
    ]
    # accepted: 75 reserved then released, 76 reserved, 77 reserved then released
    assert account(result)["reserved_fen"] == 300
    assert account(result)["available_fen"] == 1_700


def test_text_request_ids_round_trip() -> None:
    events = [
        *earned(),
        WithdrawalRequested(9, later(1), 2, "wx-req-9", 1_000),
        WithdrawalApproved(10, later(1), "wx-req-9"),
        WithdrawalPaid(11, later(1), "wx-req-9"),
    ]
    frame = events_to_frame(events)
    assert frame["request_id"].dropna().tolist() == ["wx-req-9"] * 3
    assert account(run(events))["withdrawn_fen"] == 1_000


def conserved(events: list[Any], config: ReferralConfig) -> None:
    """INV-10 and money conservation on the fold's running accounts."""
    frame = events_to_frame(with_entry_ids(events, config))  # both read the frame, as in ``run``
    state, _ = run_fold(events_from_frame(frame), config)
    result = settle(frame, config)
    users = set(state.registered)
    for user in users:
        assert state.available[user] >= 0  # INV-10
        assert state.reserved[user] >= 0
        assert state.receivable[user] == 0 or state.available[user] == 0  # netted first
    e = result.entries
    kind = e["kind"].astype(str)
    credits = int(
        e["amount_fen"][kind.isin(["COMMISSION", "REVERSAL", "CLAWBACK", "ADJUSTMENT"])].sum()
        + e["amount_fen"][kind.isin(["DECLINE", "AWAIT_REVERSAL"])].sum()
    )
    payouts = -int(e["amount_fen"][kind.isin(["WITHDRAWAL", "WITHDRAW_PAID"])].sum())
    fees = -int(e["amount_fen"][kind == "WITHDRAW_FEE"].sum())
    held = sum(
        state.pending[u]
        + state.awaiting[u]
        + state.available[u]
        + state.reserved[u]
        - state.receivable[u]
        for u in users | set(e["user_id"])
    )
    assert credits - payouts - fees == held
    open_requests: dict[Any, int] = {}
    for _, request in state.requests.items():
        if request.status in ("REQUESTED", "APPROVED"):
            open_requests[request.user_id] = open_requests.get(request.user_id, 0) + request.amount
    assert {u: v for u, v in state.reserved.items() if v} == open_requests


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(streams(), configs())
def test_inv10_and_money_conserved(events: list[Any], config: ReferralConfig) -> None:
    conserved(events, config)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(streams(), configs())
def test_fold_equals_batch_text_and_sparse_ids(events: list[Any], config: ReferralConfig) -> None:
    for mapped in (sparse_ids(events), sparse_ids(events, text)):
        run(mapped, config)
