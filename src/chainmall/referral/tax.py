"""Tax withholding per payout, monthly statements, quarterly export (R12, C8).

Each ``WITHDRAWAL`` entry of a settlement is a payout. Its withholding is
computed by the configured method, all inputs and outputs kept on the row:

- ``CUMULATIVE`` (default; platform labour remuneration, 公告16): per user and
  tax year, cumulative gross ``C`` and ``n`` = months since the first payout month
  of the year (inclusive): ``taxable = max(0, C × (1 − 20%) − 5,000 yuan × n)``;
  ``tax = taxable × rate − quick`` from the annual comprehensive-income table
  (3% … 45%); withheld now = cumulative tax − already withheld (never negative).
- ``PER_PAYMENT`` (劳务报酬 预扣): income ``I`` ≤ 4,000 yuan: ``taxable = I − 800``;
  otherwise ``taxable = I × 80%``; rate 20% / 30% / 40% with quick deductions
  0 / 2,000 / 7,000 yuan above 20,000 / 50,000 yuan of taxable income.

Money is integer fen, every product is floored. The characterisation of the
income is a tax adviser's call (spec §4.7 #10); the engine stores the computation.
Statement hashes (SHA-256 of canonical JSON) go to the ledger as ``STATEMENT``
records (R13).
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from chainmall._validation import Column, check_frame, check_scalar, describe_offenders
from chainmall.config import EngineConfig, Timezone
from chainmall.exceptions import ConfigError, DataValidationError
from chainmall.referral.frame import check_text
from chainmall.referral.ids import as_ids
from chainmall.referral.settlement import Settlement

__all__ = [
    "TaxConfig",
    "TaxMethod",
    "monthly_statements",
    "quarterly_export",
    "statement_records",
    "withholding",
]

_YUAN = 100
ANNUAL_TABLE = (  # (upper bound of cumulative taxable income, rate bp, quick deduction), fen
    (36_000 * _YUAN, 300, 0),
    (144_000 * _YUAN, 1_000, 2_520 * _YUAN),
    (300_000 * _YUAN, 2_000, 16_920 * _YUAN),
    (420_000 * _YUAN, 2_500, 31_920 * _YUAN),
    (660_000 * _YUAN, 3_000, 52_920 * _YUAN),
    (960_000 * _YUAN, 3_500, 85_920 * _YUAN),
    (2**62, 4_500, 181_920 * _YUAN),
)
"""Comprehensive-income table (cumulative withholding), upper bounds inclusive."""
LABOUR_TABLE = (
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


def _table(taxable: np.ndarray, table: tuple[tuple[int, int, int], ...]) -> tuple[Any, Any, Any]:
    bounds = np.array([t[0] for t in table], dtype=np.int64)
    idx = np.searchsorted(bounds, taxable, side="left")
    rate = np.array([t[1] for t in table], dtype=np.int64)[idx]
    quick = np.array([t[2] for t in table], dtype=np.int64)[idx]
    return np.maximum(taxable * rate // 10_000 - quick, 0), rate, quick


def withholding(
    settlement: Settlement, events: pd.DataFrame, config: TaxConfig | None = None
) -> pd.DataFrame:
    """Withholding per payout (``WITHDRAWAL`` entry), in ledger order.

    Args:
        settlement: the settlement (its WITHDRAWAL entries are the payouts).
        events: its events frame (``seq``, ``ts`` give each payout's instant).
        config: method and parameters; default :class:`TaxConfig()` (cumulative).

    Returns:
        ``seq, user_id, month, method, gross_fen, cumulative_gross_fen, months,
        taxable_fen, rate_bp, quick_deduction_fen, tax_due_fen, withheld_fen, net_fen``.
    """
    config = _config(config)
    check_frame(events, _EVENT_TIMES, name="events", id_column="seq")
    e = settlement.entries
    wd = e[e["kind"] == "WITHDRAWAL"]
    local = pd.DatetimeIndex(_payout_times(events, wd["seq"])).tz_convert(config.timezone)
    out = pd.DataFrame(
        {
            "seq": wd["seq"].to_numpy(dtype=np.int64),
            "user_id": as_ids(wd["user_id"]).to_numpy(),
            "month": [f"{y:04d}-{m:02d}" for y, m in zip(local.year, local.month, strict=True)],
            "method": config.method.value,
            "gross_fen": -wd["amount_fen"].to_numpy(dtype=np.int64),
        }
    )
    year = np.asarray(local.year, dtype=np.int64)
    month_no = np.asarray(local.month, dtype=np.int64)
    gross = out["gross_fen"].to_numpy()
    keep = 10_000 - config.expense_deduction_bp
    if config.method is TaxMethod.CUMULATIVE:
        group = pd.Series(list(zip(out["user_id"], year, strict=True)))
        cum = pd.Series(gross).groupby(group).cumsum().to_numpy(dtype=np.int64)
        first = pd.Series(month_no).groupby(group).transform("min").to_numpy(dtype=np.int64)
        months = month_no - first + 1
        taxable = np.maximum(cum * keep // 10_000 - config.basic_deduction_fen * months, 0)
        due, rate, quick = _table(taxable, ANNUAL_TABLE)
        paid_so_far = pd.Series(due).groupby(group).cummax().to_numpy(dtype=np.int64)
        before = pd.Series(paid_so_far).groupby(group).shift(1, fill_value=0).to_numpy()
        withheld = paid_so_far - before
    else:
        cum, months = gross.copy(), np.ones(len(gross), dtype=np.int64)
        taxable = np.where(
            gross <= config.flat_limit_fen,
            np.maximum(gross - config.flat_deduction_fen, 0),
            gross * keep // 10_000,
        )
        due, rate, quick = _table(taxable, LABOUR_TABLE)
        withheld = due
    return out.assign(
        cumulative_gross_fen=cum,
        months=months,
        taxable_fen=taxable,
        rate_bp=rate,
        quick_deduction_fen=quick,
        tax_due_fen=due,
        withheld_fen=withheld,
        net_fen=gross - withheld,
    )


_EVENT_TIMES = (Column("seq", "count", ge=1), Column("ts", "time"))
_MONTH = r"\d{4}-(0[1-9]|1[0-2])"
PAYOUTS = (
    Column("user_id", "id"),
    Column("month", "label"),
    *(Column(c, "money", ge=0) for c in ("gross_fen", "withheld_fen", "net_fen")),
)
"""What :func:`withholding`'s frame holds for the statements and the export."""


def _config(config: object) -> TaxConfig:
    if config is None:
        return TaxConfig()
    if not isinstance(config, TaxConfig):
        raise ConfigError(f"config must be a TaxConfig or None, got {type(config).__name__}")
    return config


def _payout_times(events: pd.DataFrame, seqs: pd.Series) -> pd.Series:
    """The instant of each payout ``seq``: every seq must be in ``events``, at one instant."""
    by_seq = events.groupby("seq")["ts"]
    spread = by_seq.nunique()
    if (spread > 1).any():
        raise DataValidationError(
            f"events.seq repeats with different ts (seq {spread.index[spread > 1][:5].tolist()}); "
            "a seq names one event: number the events 1, 2, ... without reuse"
        )
    ts = by_seq.first().reindex(seqs.to_numpy())
    if ts.isna().any():
        raise DataValidationError(
            f"events.seq lacks {int(ts.isna().sum())} payout(s) of the settlement (seq "
            f"{ts.index[ts.isna()][:5].tolist()}); pass the events frame the settlement was "
            "settled from"
        )
    return ts


def check_payouts(payouts: object, name: str = "payouts") -> pd.DataFrame:
    """``payouts`` if it is :func:`withholding`'s frame (``YYYY-MM`` text months)."""
    frame = check_frame(payouts, PAYOUTS, name=name, id_column="user_id", allow_empty=True)
    check_text(frame["month"], f"{name}.month", "give months as 'YYYY-MM' text")
    bad = ~frame["month"].str.fullmatch(_MONTH).to_numpy(dtype=bool)
    if bad.any():
        raise DataValidationError(
            f"{name}.month must be 'YYYY-MM' but is not in "
            f"{describe_offenders(frame, bad, 'user_id')}; pass withholding's frame"
        )
    return frame


def _hash(row: dict[str, Any]) -> str:
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def monthly_statements(settlement: Settlement, payouts: pd.DataFrame) -> pd.DataFrame:
    """Per earner and month: credited commissions (accrual month), payouts and tax, hashed.

    ``payouts`` is :func:`withholding`'s frame. ``statement_hash`` is SHA-256 of
    the canonical JSON (sorted keys, integers) of the row's other fields.
    """
    check_payouts(payouts)
    e = settlement.entries
    money = e[e["kind"].isin(["COMMISSION", "REVERSAL", "CLAWBACK"])]
    credited = money.groupby([as_ids(money["user_id"]), money["month"].astype(str)])[
        "amount_fen"
    ].sum()
    paid = payouts.groupby(["user_id", "month"])[["gross_fen", "withheld_fen", "net_fen"]].sum()
    credited.index.names = ["user_id", "month"]
    frame = pd.concat([credited.rename("credited_fen"), paid], axis=1).fillna(0)
    frame = frame.astype("int64").reset_index().sort_values(["user_id", "month"])
    frame["user_id"] = as_ids(frame["user_id"])
    frame = frame.rename(columns={"gross_fen": "paid_out_fen"})
    rows = frame.to_dict("records")
    frame["statement_hash"] = [
        _hash({str(k): (v if isinstance(v, str) else int(v)) for k, v in r.items()}) for r in rows
    ]
    return frame.reset_index(drop=True)


_STATEMENTS = (
    Column("user_id", "id"),
    Column("month", "label"),
    Column("statement_hash", "label"),
)
_IDENTITIES = (Column("user_id", "id", unique=True),)


def statement_records(statements: pd.DataFrame, version: str) -> list[dict[str, Any]]:
    """Ledger records (kind ``STATEMENT``) carrying each statement hash (R12, R13)."""
    check_frame(statements, _STATEMENTS, name="statements", id_column="user_id", allow_empty=True)
    for column in ("month", "statement_hash"):
        check_text(statements[column], f"statements.{column}", "pass monthly_statements' frame")
    version = check_scalar(version, "version", "text")
    return [
        {
            "kind": "STATEMENT",
            "user_id": r["user_id"] if isinstance(r["user_id"], str) else int(r["user_id"]),
            "month": str(r["month"]),
            "statement_hash": str(r["statement_hash"]),
            "config_version": version,
        }
        for r in statements.to_dict("records")
    ]


def quarterly_export(payouts: pd.DataFrame, identities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per earner and quarter: income, withheld, net, with identity columns (Order 810 Art 4).

    ``identities`` (optional) has ``user_id`` and the identity fields the shop
    holds (name, id number, ...); ``identity_missing`` flags earners without one.
    """
    check_payouts(payouts)
    if identities is not None:
        check_frame(identities, _IDENTITIES, name="identities", allow_empty=True)
    quarter = [f"{m[:4]}-Q{(int(m[5:7]) - 1) // 3 + 1}" for m in payouts["month"]]
    frame = (
        payouts.assign(quarter=quarter)
        .groupby(["user_id", "quarter"], as_index=False)[["gross_fen", "withheld_fen", "net_fen"]]
        .sum()
    )
    if identities is None:
        return frame.assign(identity_missing=True)
    merged = frame.merge(identities, on="user_id", how="left", indicator=True)
    merged["identity_missing"] = merged.pop("_merge") == "left_only"
    return merged
