"""R12 tax withholding, statements and the quarterly export; golden values by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chainmall.ledger import Ledger
from chainmall.referral import (
    Bound,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    Registered,
    SettlementTick,
    TaxConfig,
    TaxMethod,
    Withdrawal,
    events_to_frame,
    monthly_statements,
    quarterly_export,
    settle,
    statement_records,
    withholding,
)

YUAN = 100


def _payouts(*amounts_yuan: int, months: tuple[int, ...]) -> tuple[Any, Any]:
    """User 1 earns 20% on a big order of invitee 2, then withdraws ``amounts`` in ``months``."""
    t0 = datetime(2025, 1, 2, tzinfo=UTC)
    ev: list[Any] = [Registered(1, t0, 1), Registered(2, t0, 2), Bound(3, t0, 2, 1)]
    ev += [OrderPaid(4, t0, 9, 1, (OrderLine(9, 100),))]
    big = tuple(OrderLine(10 + k, 20_000_000) for k in range(3))  # 600,000 yuan → 120,000
    ev += [OrderPaid(5, t0, 10, 2, big)]
    ev += [OrderReceived(6, t0, 10), SettlementTick(7, datetime(2025, 1, 20, tzinfo=UTC))]
    for k, (amount, month) in enumerate(zip(amounts_yuan, months, strict=True)):
        ev.append(Withdrawal(8 + k, datetime(2025, month, 25, tzinfo=UTC), 1, amount * YUAN))
    frame = events_to_frame(ev)
    return settle(frame, ReferralConfig(monthly_cap_fen=10**10)), frame


def test_cumulative_method_golden() -> None:
    """Jan: 10,000 yuan → taxable 10,000 × 0.8 − 5,000 × 1 = 3,000 → 3% = 90 yuan.
    Feb: cumulative 20,000 → 16,000 − 10,000 = 6,000 → 180 cumulative − 90 = 90 yuan.
    Mar: 50,000 more → 70,000 × 0.8 − 15,000 = 41,000 → 10% − 2,520 = 1,580; − 180 = 1,400."""
    result, frame = _payouts(10_000, 10_000, 50_000, months=(1, 2, 3))
    tax = withholding(result, frame)
    assert (tax["withheld_fen"] // YUAN).tolist() == [90, 90, 1_400]
    assert (tax["taxable_fen"] // YUAN).tolist() == [3_000, 6_000, 41_000]
    assert (tax["net_fen"] + tax["withheld_fen"] == tax["gross_fen"]).all()


def test_cumulative_never_negative() -> None:
    """Jan 10,000 → 90 withheld; Mar 100 yuan: 10,100 × 0.8 − 15,000 < 0 → tax 0, never a refund."""
    result, frame = _payouts(10_000, 100, months=(1, 3))
    assert (withholding(result, frame)["withheld_fen"] // YUAN).tolist() == [90, 0]


@pytest.mark.parametrize(
    ("income", "withheld"),
    [
        (3_000, 440),  # (3,000 − 800) × 20% = 440
        (4_000, 640),  # (4,000 − 800) × 20% = 640
        (30_000, 5_200),  # 30,000 × 0.8 = 24,000 × 30% − 2,000 = 5,200
        (100_000, 25_000),  # 80,000 × 40% − 7,000 = 25,000
        (500, 0),  # below 800: nothing taxable
    ],
)
def test_per_payment_method_golden(income: int, withheld: int) -> None:
    """劳务报酬 预扣 per payment: the worked values in the parameter comments."""
    result, frame = _payouts(income, months=(2,))
    tax = withholding(result, frame, TaxConfig(method=TaxMethod.PER_PAYMENT))
    assert tax["withheld_fen"].tolist() == [withheld * YUAN]


def test_statements_hash_into_ledger_and_quarterly_export() -> None:
    """Statements carry a SHA-256 of their row; appending them changes the ledger root."""
    result, frame = _payouts(10_000, 10_000, 50_000, months=(1, 2, 4))
    tax = withholding(result, frame)
    statements = monthly_statements(result, tax)
    assert statements["statement_hash"].str.len().eq(64).all()
    jan = statements[(statements["user_id"] == 1) & (statements["month"] == "2025-01")].iloc[0]
    assert (jan["paid_out_fen"], jan["withheld_fen"]) == (1_000_000, 9_000)
    ledger = Ledger.from_records(result.records())
    before = ledger.root()
    ledger.extend(statement_records(statements, "1"))
    assert ledger.root() != before
    export = quarterly_export(tax)
    assert export[["quarter", "gross_fen"]].values.tolist() == [
        ["2025-Q1", 2_000_000],
        ["2025-Q2", 5_000_000],
    ]
    assert export["identity_missing"].all()
