"""Tax withheld at payout (R12, ``ReferralConfig.tax``): golden payouts worked by hand,
the after-the-fact computation of :mod:`chainmall.referral.tax` read back, properties.

Set-up: member 2 earns 2,000,000 fen (20% of a 10,000,000 fen line bought by its
invitee 3), settled 2025-03-18 (14 days after receipt). Withdrawals cost a fixed fee
of 100 fen. Default cumulative method: 20% expense deduction, 500,000 fen basic
deduction per month, annual table (3% up to 3,600,000 fen taxable, then 10% − 252,000).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from chainmall.exceptions import ConfigError, DataValidationError
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
    TaxConfig,
    TaxMethod,
    Withdrawal,
    WithdrawalApproved,
    WithdrawalConfig,
    WithdrawalPaid,
    WithdrawalRequested,
    events_to_frame,
    fold,
    monthly_statements,
    settle,
    withholding,
)
from tests.referral.equality import assert_same
from tests.referral.referral_streams import configs, streams, with_entry_ids

T0 = datetime(2025, 3, 3, tzinfo=UTC)
TAXED = ReferralConfig(team_rate_bp=0, withdrawals=WithdrawalConfig(fee_fen=100), tax=TaxConfig())


def earned() -> list[Any]:
    """Member 2 has 2,000,000 fen available after the tick (seq 8, 2025-03-18)."""
    return [
        Registered(2, T0, 2),
        Registered(3, T0, 3),
        Bound(4, T0, 3, 2),
        OrderPaid(5, T0, 99, 2, (OrderLine(999, 100),)),
        OrderPaid(6, T0, 100, 3, (OrderLine(1000, 10_000_000),)),
        OrderReceived(7, T0, 100),
        SettlementTick(8, T0 + timedelta(days=15)),
    ]


def payout(seq: int, when: datetime, request: int, amount: int, paid: datetime) -> list[Any]:
    """A request of ``amount`` fen, approved at once and paid at ``paid`` (seqs seq..seq+2)."""
    return [
        WithdrawalRequested(seq, when, 2, request, amount),
        WithdrawalApproved(seq + 1, when, request),
        WithdrawalPaid(seq + 2, paid, request),
    ]


def run(events: list[Any], config: ReferralConfig = TAXED) -> Any:
    """Fold and batch agree on the same frame (ledger and root); the fold's settlement."""
    frame = events_to_frame(events)
    slow, fast = fold(frame, config), settle(frame, config)
    assert_same(slow, fast)
    assert slow.merkle_root() == fast.merkle_root()
    return slow


def rows(result: Any, kinds: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """``(seq, kind, amount, gross, base, rate, month)`` of the entries of ``kinds``."""
    e = result.entries[result.entries["kind"].isin(kinds)]
    cols = ["seq", "kind", "amount_fen", "gross_fen", "base_fen", "rate_bp", "month"]
    return [
        tuple(None if pd.isna(v) else (v if isinstance(v, str) else int(v)) for v in row)
        for row in e[cols].astype(object).itertuples(index=False)
    ]


def account(result: Any, user: int = 2) -> dict[str, int]:
    row = result.balances.set_index("user_id").loc[user]
    return {k: int(v) for k, v in row.items()}


MARCH_PAID = datetime(2025, 3, 19, tzinfo=UTC)
LAST_MARCH_SECOND = datetime(2025, 3, 31, 15, 59, 59, tzinfo=UTC)  # 23:59:59 +08
FIRST_APRIL_SECOND = datetime(2025, 3, 31, 16, 0, 0, tzinfo=UTC)  # 2025-04-01 00:00 +08


def two_payouts() -> list[Any]:
    """1,000,000 fen paid in March; 800,000 requested in March, paid in April (local)."""
    return [
        *earned(),
        *payout(9, MARCH_PAID, 77, 1_000_000, MARCH_PAID),
        *payout(12, LAST_MARCH_SECOND, 78, 800_000, FIRST_APRIL_SECOND),
    ]


def test_cumulative_method_across_two_payouts_and_a_month_boundary() -> None:
    # March (n = 1): C = 1,000,000; taxable = 800,000 − 500,000 = 300,000; 3% → 9,000.
    # April (n = 2, the payout's local month, not the request's): C = 1,800,000;
    # taxable = 1,440,000 − 1,000,000 = 440,000; due 13,200; withheld 13,200 − 9,000 = 4,200.
    result = run(two_payouts())
    assert rows(result, ("WITHDRAW_PAID", "WITHDRAW_FEE", "WITHHOLDING")) == [
        (11, "WITHDRAW_PAID", -990_900, None, None, None, None),
        (11, "WITHDRAW_FEE", -100, None, None, None, None),
        (11, "WITHHOLDING", -9_000, 1_000_000, 300_000, 300, "2025-03"),
        (14, "WITHDRAW_PAID", -795_700, None, None, None, None),
        (14, "WITHDRAW_FEE", -100, None, None, None, None),
        (14, "WITHHOLDING", -4_200, 800_000, 440_000, 300, "2025-04"),
    ]
    holds = result.entries.index[result.entries["kind"] == "WITHDRAW_HOLD"].tolist()
    tax = result.entries[result.entries["kind"] == "WITHHOLDING"]
    assert tax["ref_pos"].tolist() == holds
    assert account(result) == {
        "pending_fen": 0,
        "awaiting_approval_fen": 0,
        "available_fen": 200_000,
        "reserved_fen": 0,
        "receivable_fen": 0,
        "withdrawn_fen": 1_800_000,
        "withheld_fen": 13_200,
        "credited_fen": 2_000_000,
    }


def test_claw_back_after_payout_keeps_the_tax_and_the_year_counts_on() -> None:
    # The line is refunded in full after both payouts: 2,000,000 clawed back from the
    # 200,000 available, 1,800,000 owed. A credit adjustment of 2,300,000 in April nets
    # the 1,800,000 first (500,000 available). A third payout of 500,000 in April: C =
    # 2,300,000; taxable = 1,840,000 − 1,000,000 = 840,000; due 25,200; withheld
    # 25,200 − 13,200 = 12,000; paid 500,000 − 100 − 12,000 = 487,900.
    april = datetime(2025, 4, 20, tzinfo=UTC)
    events = [
        *two_payouts(),
        RefundSucceeded(15, april, 5000, 1000, 10_000_000),
        Adjustment(16, april, 2, 2_300_000, "refund goodwill", "ops-1"),
        *payout(17, april, 79, 500_000, april),
    ]
    result = run(events)
    assert rows(result, ("CLAWBACK", "ADJUSTMENT", "WITHDRAW_PAID", "WITHHOLDING"))[-4:] == [
        (15, "CLAWBACK", -2_000_000, None, None, None, "2025-03"),
        (16, "ADJUSTMENT", 2_300_000, None, None, None, None),
        (19, "WITHDRAW_PAID", -487_900, None, None, None, None),
        (19, "WITHHOLDING", -12_000, 500_000, 840_000, 300, "2025-04"),
    ]
    assert account(result)["withheld_fen"] == 25_200
    b = account(result)
    assert b["credited_fen"] - b["withdrawn_fen"] == (
        b["pending_fen"] + b["available_fen"] + b["reserved_fen"] - b["receivable_fen"]
    )
    # statements: March income 2,000,000 − 2,000,000 clawed back (accrual month), April
    # the adjustment; payouts and tax by the payout's month
    frame = events_to_frame(events)
    statements = monthly_statements(result, withholding(result), frame)
    got = statements[["month", "credited_fen", "paid_out_fen", "withheld_fen", "net_fen"]]
    assert got.values.tolist() == [
        ["2025-03", 0, 1_000_000, 9_000, 991_000],
        ["2025-04", 2_300_000, 1_300_000, 16_200, 1_283_800],
    ]


def test_withholding_frame_reads_the_ledger() -> None:
    result = run(two_payouts())
    frame = withholding(result)
    assert frame[
        ["seq", "cumulative_gross_fen", "months", "tax_due_fen", "withheld_fen"]
    ].values.tolist() == [
        [11, 1_000_000, 1, 9_000, 9_000],
        [14, 1_800_000, 2, 13_200, 4_200],
    ]
    with pytest.raises(ConfigError, match=r"ReferralConfig\.tax"):
        withholding(result, None, TaxConfig(method=TaxMethod.PER_PAYMENT))
    untaxed = run(two_payouts(), TAXED.replace(tax=None))
    with pytest.raises(DataValidationError, match="pass the events frame"):
        withholding(untaxed)


def test_debit_adjustment_reduces_the_month_income_and_needs_the_events() -> None:
    events = [*earned(), Adjustment(9, MARCH_PAID, 2, -500, "chargeback", "ops-1")]
    result = run(events)
    with pytest.raises(DataValidationError, match="events="):
        monthly_statements(result, withholding(result))
    statements = monthly_statements(result, withholding(result), events_to_frame(events))
    assert statements[["month", "credited_fen"]].values.tolist() == [["2025-03", 1_999_500]]


PER_PAYMENT = ReferralConfig(team_rate_bp=0, tax=TaxConfig(method=TaxMethod.PER_PAYMENT))


def test_one_step_withdrawal_per_payment_method() -> None:
    # 300,000 (≤ 4,000 yuan): taxable 300,000 − 80,000 = 220,000, 20% → 44,000.
    # 500,000: taxable 80% = 400,000, 20% → 80,000. Each payout alone (no memory).
    result = run(
        [
            *earned(),
            Withdrawal(9, MARCH_PAID, 2, 300_000),
            Withdrawal(10, MARCH_PAID, 2, 500_000),
        ],
        PER_PAYMENT,
    )
    assert rows(result, ("WITHDRAWAL", "WITHHOLDING")) == [
        (9, "WITHDRAWAL", -256_000, None, None, None, None),
        (9, "WITHHOLDING", -44_000, 300_000, 220_000, 2_000, "2025-03"),
        (10, "WITHDRAWAL", -420_000, None, None, None, None),
        (10, "WITHHOLDING", -80_000, 500_000, 400_000, 2_000, "2025-03"),
    ]
    assert result.entries["ref_pos"].iloc[[3, 5]].tolist() == [2, 4]  # the WITHDRAWAL entries
    b = account(result)
    assert (b["available_fen"], b["withdrawn_fen"], b["withheld_fen"]) == (
        1_200_000,
        800_000,
        124_000,
    )


def test_never_withholds_more_than_the_payout_pays() -> None:
    # fee 90% of 300,000 = 270,000: the payout pays 30,000, less than the 44,000 due
    config = PER_PAYMENT.replace(withdrawals=WithdrawalConfig(fee_bp=9_000))
    result = run([*earned(), *payout(9, MARCH_PAID, 77, 300_000, MARCH_PAID)], config)
    assert rows(result, ("WITHDRAW_PAID", "WITHDRAW_FEE", "WITHHOLDING")) == [
        (11, "WITHDRAW_PAID", 0, None, None, None, None),
        (11, "WITHDRAW_FEE", -270_000, None, None, None, None),
        (11, "WITHHOLDING", -30_000, 300_000, 220_000, 2_000, "2025-03"),
    ]


def test_tax_off_keeps_the_ledger_and_on_agrees_with_the_after_the_fact_computation() -> None:
    # one-step payouts, no fee: the rules withhold what tax.withholding computes later
    events = [
        *earned(),
        Withdrawal(9, MARCH_PAID, 2, 700_000),
        Withdrawal(10, FIRST_APRIL_SECOND, 2, 600_000),
        Withdrawal(11, datetime(2025, 6, 1, tzinfo=UTC), 2, 650_000),
    ]
    frame = events_to_frame(events)
    off = run(events, TAXED.replace(tax=None))
    assert "WITHHOLDING" not in set(off.entries["kind"].astype(str))
    later = withholding(off, frame, TaxConfig())
    at_payout = withholding(run(events))
    same = ["seq", "month", "cumulative_gross_fen", "months", "taxable_fen", "withheld_fen"]
    pd.testing.assert_frame_equal(at_payout[same], later[same], check_dtype=False)
    assert later["withheld_fen"].sum() > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), configs())
def test_money_conserved_with_tax(events: list[Any], config: ReferralConfig) -> None:
    """credits − net payouts − fees − withholding = balances; withdrawable ≥ 0 (INV-10)."""
    config = config.replace(tax=TaxConfig(basic_deduction_fen=100))
    result = run(with_entry_ids(events, config), config)
    e = result.entries
    by_kind = e.groupby([e["user_id"], e["kind"].astype(str)])["amount_fen"].sum()
    b = result.balances.set_index("user_id")
    for user, row in b.iterrows():
        amounts = by_kind.get(user, pd.Series(dtype="int64"))
        out = -sum(int(amounts.get(k, 0)) for k in ("WITHDRAWAL", "WITHDRAW_PAID"))
        fees = -int(amounts.get("WITHDRAW_FEE", 0))
        tax = -int(amounts.get("WITHHOLDING", 0))
        held = row["pending_fen"] + row["awaiting_approval_fen"] + row["available_fen"]
        held += row["reserved_fen"]
        assert row["credited_fen"] - out - fees - tax == held - row["receivable_fen"]
        assert tax == row["withheld_fen"] >= 0
        assert row["available_fen"] >= 0 and row["reserved_fen"] >= 0
    assert (e.loc[e["kind"] == "WITHHOLDING", "amount_fen"] <= 0).all()
    assert (e.loc[e["kind"].isin(["WITHDRAWAL", "WITHDRAW_PAID"]), "amount_fen"] <= 0).all()
