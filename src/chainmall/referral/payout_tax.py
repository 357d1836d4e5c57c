"""Withholding of one payout (R12, C8): the tax config and the computation the rules share.

The fold (:mod:`chainmall.referral.rules.withdrawals`), its batch twin and
:mod:`chainmall.referral.tax` compute a payout's withholding here, so the three
cannot differ. Money is integer fen, every product is floored.

- ``CUMULATIVE`` (default; platform labour remuneration, 公告16): per member and
  tax year, cumulative gross ``C`` (this payout included) and ``n`` = months from
  the member's first payout month of the year to this payout's (inclusive):
  ``taxable = max(0, floor(C × (1 − 20%)) − 5,000 yuan × n)``; ``due = max(0,
  floor(taxable × rate) − quick)`` from the annual comprehensive-income table
  (3% … 45%); withheld now = ``due`` − what was withheld before in the year (never
  negative), so a payout also catches up what an earlier one could not withhold.
- ``PER_PAYMENT`` (劳务报酬 预扣): income ``I`` ≤ 4,000 yuan: ``taxable = I − 800``
  (not below 0); otherwise ``taxable = floor(I × 80%)``; rate 20% / 30% / 40% with
  quick deductions 0 / 2,000 / 7,000 yuan above 20,000 / 50,000 yuan of taxable
  income; withheld = due.

A payout never withholds more than it pays (the requested amount less its fee):
``withheld = min(computed, amount − fee)``. The characterisation of the income is a
tax adviser's call (spec §4.7 #10); the engine records the computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import Field

from chainmall.config import EngineConfig, Timezone

__all__ = [
    "ANNUAL_TABLE",
    "LABOUR_TABLE",
    "TaxConfig",
    "TaxMethod",
    "TaxYear",
    "Withheld",
    "bracket",
    "withhold",
]

_YUAN = 100
Table = tuple[tuple[int, int, int], ...]
ANNUAL_TABLE: Table = (  # (upper bound of cumulative taxable income, rate bp, quick deduction), fen
    (36_000 * _YUAN, 300, 0),
    (144_000 * _YUAN, 1_000, 2_520 * _YUAN),
    (300_000 * _YUAN, 2_000, 16_920 * _YUAN),
    (420_000 * _YUAN, 2_500, 31_920 * _YUAN),
    (660_000 * _YUAN, 3_000, 52_920 * _YUAN),
    (960_000 * _YUAN, 3_500, 85_920 * _YUAN),
    (2**62, 4_500, 181_920 * _YUAN),
)
"""Comprehensive-income table (cumulative withholding), upper bounds inclusive."""
LABOUR_TABLE: Table = (
    (20_000 * _YUAN, 2_000, 0),
    (50_000 * _YUAN, 3_000, 2_000 * _YUAN),
    (2**62, 4_000, 7_000 * _YUAN),
)
"""Per-payment labour-remuneration table, upper bounds inclusive."""


class TaxMethod(StrEnum):
    """How a payout's withholding is computed."""

    CUMULATIVE = "CUMULATIVE"
    PER_PAYMENT = "PER_PAYMENT"


class TaxConfig(EngineConfig):
    """Withholding parameters (money in fen, rates in bp)."""

    method: TaxMethod = Field(default=TaxMethod.CUMULATIVE, description="withholding method")
    expense_deduction_bp: int = Field(
        default=2_000, ge=0, le=10_000, description="expense deduction, bp of gross (20%)"
    )
    basic_deduction_fen: int = Field(
        default=500_000, ge=0, description="cumulative method: basic deduction per month (fen)"
    )
    flat_deduction_fen: int = Field(
        default=80_000, ge=0, description="per-payment method: deduction at or below the limit"
    )
    flat_limit_fen: int = Field(
        default=400_000, ge=0, description="per-payment method: income limit of the flat 800"
    )
    timezone: Timezone = Field(default="Asia/Shanghai", description="calendar of tax months")

    @property
    def table(self) -> Table:
        """The rate table of the method."""
        return ANNUAL_TABLE if self.method is TaxMethod.CUMULATIVE else LABOUR_TABLE


@dataclass(frozen=True, slots=True)
class TaxYear:
    """A member's cumulative-method memory for one tax year (fen; months ``1..12``)."""

    gross: int  # cumulative gross paid out in the year
    first_month: int  # month number of the year's first payout
    withheld: int  # withheld in the year so far


@dataclass(frozen=True, slots=True)
class Withheld:
    """One payout's computation: taxable income, rate, quick deduction, due and withheld (fen)."""

    taxable: int
    rate_bp: int
    quick: int
    due: int
    withheld: int


def bracket(taxable: int, table: Table) -> tuple[int, int, int]:
    """``(rate_bp, quick deduction, due)`` of ``taxable`` fen in ``table``."""
    for bound, rate, quick in table:
        if taxable <= bound:
            return rate, quick, max(taxable * rate // 10_000 - quick, 0)
    raise ValueError(f"taxable income {taxable} fen is beyond the table")  # pragma: no cover


def withhold(
    config: TaxConfig, year: TaxYear | None, gross: int, month: int, limit: int
) -> tuple[Withheld, TaxYear | None]:
    """Withholding of a payout of ``gross`` fen in ``month`` (1..12) of a tax year.

    ``year``: the member's memory of that tax year (None: no payout yet); ``limit``:
    the most that may be withheld (what the payout pays). Returns the computation
    and the year's new memory (None for ``PER_PAYMENT``, which keeps none).
    """
    keep = 10_000 - config.expense_deduction_bp
    if config.method is TaxMethod.PER_PAYMENT:
        if gross <= config.flat_limit_fen:
            taxable = max(gross - config.flat_deduction_fen, 0)
        else:
            taxable = gross * keep // 10_000
        rate, quick, due = bracket(taxable, LABOUR_TABLE)
        return Withheld(taxable, rate, quick, due, min(due, limit)), None
    before = year or TaxYear(0, month, 0)
    cumulative = before.gross + gross
    first = min(before.first_month, month)  # a payout dated before the first one
    months = month - first + 1
    taxable = max(cumulative * keep // 10_000 - config.basic_deduction_fen * months, 0)
    rate, quick, due = bracket(taxable, ANNUAL_TABLE)
    withheld = min(max(due - before.withheld, 0), limit)
    after = TaxYear(cumulative, first, before.withheld + withheld)
    return Withheld(taxable, rate, quick, due, withheld), after
