"""Tax withholding per payout, monthly statements, quarterly export (R12, C8).

With ``ReferralConfig.tax`` set, the rules withhold the tax at each payout
(``WITHHOLDING`` entries, :mod:`chainmall.referral.payout_tax`) and
:func:`withholding` reads the computation from the ledger. Without it, each
``WITHDRAWAL`` entry of a settlement is a payout whose withholding
:func:`withholding` computes after the fact, by the same method:

- ``CUMULATIVE`` (default; platform labour remuneration, 公告16): per user and
  tax year, cumulative gross ``C`` and ``n`` = months since the first payout month
  of the year (inclusive): ``taxable = max(0, C × (1 − 20%) − 5,000 yuan × n)``;
  ``tax = taxable × rate − quick`` from the annual comprehensive-income table
  (3% … 45%); withheld now = cumulative tax − already withheld (never negative).
- ``PER_PAYMENT`` (劳务报酬 预扣): income ``I`` ≤ 4,000 yuan: ``taxable = I − 800``;
  otherwise ``taxable = I × 80%``; rate 20% / 30% / 40% with quick deductions
  0 / 2,000 / 7,000 yuan above 20,000 / 50,000 yuan of taxable income.

Monthly statements count as income the commissions net of reversals and
claw-backs (by accrual month) and the manual adjustments (by the month of the
adjustment: a credit adds to the income, a debit reduces it).

Money is integer fen, every product is floored. The characterisation of the
income is a tax adviser's call (spec §4.7 #10); the engine stores the computation.
Statement hashes (SHA-256 of canonical JSON) go to the ledger as ``STATEMENT``
records (R13).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import Column, check_frame, check_scalar, describe_offenders
from chainmall.exceptions import ConfigError, DataValidationError
from chainmall.referral.frame import check_text
from chainmall.referral.ids import as_ids
from chainmall.referral.payout_tax import ANNUAL_TABLE, LABOUR_TABLE, TaxConfig, TaxMethod
from chainmall.referral.settlement import Settlement

__all__ = [
    "TaxConfig",
    "TaxMethod",
    "monthly_statements",
    "quarterly_export",
    "statement_records",
    "withholding",
]


def _table(taxable: np.ndarray, table: tuple[tuple[int, int, int], ...]) -> tuple[Any, Any, Any]:
    bounds = np.array([t[0] for t in table], dtype=np.int64)
    idx = np.searchsorted(bounds, taxable, side="left")
    rate = np.array([t[1] for t in table], dtype=np.int64)[idx]
    quick = np.array([t[2] for t in table], dtype=np.int64)[idx]
    return np.maximum(taxable * rate // 10_000 - quick, 0), rate, quick


def withholding(
    settlement: Settlement, events: pd.DataFrame | None = None, config: TaxConfig | None = None
) -> pd.DataFrame:
    """Withholding per payout, in ledger order.

    With ``ReferralConfig.tax`` set, the rules withheld the tax at each payout and
    the ledger holds the computation (``WITHHOLDING`` entries): the frame is read
    from it, ``events`` is not needed and ``config`` must be None or that config.
    Otherwise each ``WITHDRAWAL`` entry is a payout whose withholding is computed
    here after the fact, from the ``events`` frame's instants.

    Args:
        settlement: the settlement (its WITHDRAWAL entries are the payouts).
        events: its events frame (``seq``, ``ts`` give each payout's instant).
        config: method and parameters; default :class:`TaxConfig()` (cumulative).

    Returns:
        ``seq, user_id, month, method, gross_fen, cumulative_gross_fen, months,
        taxable_fen, rate_bp, quick_deduction_fen, tax_due_fen, withheld_fen, net_fen``
        (``net_fen`` = gross − withheld, before any withdrawal fee).

    Raises:
        ConfigError: ``config`` differs from the settlement's ``ReferralConfig.tax``.
        DataValidationError: ``events`` is missing or does not hold the payouts.
    """
    in_ledger = settlement.config.tax
    if in_ledger is not None:
        if config is not None and config != in_ledger:
            raise ConfigError(
                "config differs from the settlement's ReferralConfig.tax, whose withholding "
                "is in the ledger; pass config=None to read it"
            )
        return _from_ledger(settlement.entries, in_ledger)
    if events is None:
        raise DataValidationError(
            "events is None, but this settlement withheld no tax at payout "
            "(ReferralConfig.tax is None); pass the events frame it was settled from"
        )
    config = _config(config)
    check_frame(events, _EVENT_TIMES, name="events", id_column="seq")
    e = settlement.entries
    wd = e[e["kind"] == "WITHDRAWAL"]
    local = pd.DatetimeIndex(_event_times(events, wd["seq"], "payout")).tz_convert(config.timezone)
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


def _from_ledger(entries: pd.DataFrame, config: TaxConfig) -> pd.DataFrame:
    """:func:`withholding`'s frame read from the ledger's ``WITHHOLDING`` entries."""
    w = entries[entries["kind"] == "WITHHOLDING"]
    month = w["month"].astype(str).tolist()
    year = np.array([int(m[:4]) for m in month], dtype=np.int64)
    month_no = np.array([int(m[5:7]) for m in month], dtype=np.int64)
    user = as_ids(w["user_id"]).to_numpy()
    gross = w["gross_fen"].to_numpy(dtype=np.int64)
    if config.method is TaxMethod.CUMULATIVE:
        group = pd.Series(list(zip(user, year, strict=True)))
        cum = pd.Series(gross).groupby(group).cumsum().to_numpy(dtype=np.int64)
        first = pd.Series(month_no).groupby(group).cummin().to_numpy(dtype=np.int64)
        months = month_no - first + 1
    else:
        cum, months = gross, np.ones(len(gross), dtype=np.int64)
    taxable = w["base_fen"].to_numpy(dtype=np.int64)
    due, rate, quick = _table(taxable, config.table)
    withheld = -w["amount_fen"].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "seq": w["seq"].to_numpy(dtype=np.int64),
            "user_id": user,
            "month": pd.Series(month, dtype=object),
            "method": config.method.value,
            "gross_fen": gross,
            "cumulative_gross_fen": cum,
            "months": months,
            "taxable_fen": taxable,
            "rate_bp": rate,
            "quick_deduction_fen": quick,
            "tax_due_fen": due,
            "withheld_fen": withheld,
            "net_fen": gross - withheld,
        }
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


def _event_times(events: pd.DataFrame, seqs: pd.Series, what: str) -> pd.Series:
    """The instant of each ``seq`` (of a ``what``): every seq must be in ``events``, at one
    instant."""
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
            f"events.seq lacks {int(ts.isna().sum())} {what}(s) of the settlement (seq "
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


def monthly_statements(
    settlement: Settlement, payouts: pd.DataFrame, events: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per earner and month: income credited, payouts and tax, hashed.

    ``credited_fen`` is the income of the month: commissions net of reversals and
    claw-backs by accrual month, plus manual adjustments by the local month
    (``ReferralConfig.timezone``) of the adjustment (a debit reduces the income).
    ``payouts`` is :func:`withholding`'s frame; ``events`` the events frame, needed
    only when the ledger holds adjustments (it dates them). ``statement_hash`` is
    SHA-256 of the canonical JSON (sorted keys, integers) of the row's other fields.

    Raises:
        DataValidationError: the ledger holds adjustments and ``events`` is None or
            lacks them.
    """
    check_payouts(payouts)
    e = settlement.entries
    money = e[  # a declined commission is no income (commission approval)
        e["kind"].isin(["COMMISSION", "REVERSAL", "CLAWBACK", "AWAIT_REVERSAL", "DECLINE"])
    ]
    income = pd.DataFrame(
        {
            "user_id": as_ids(money["user_id"]).to_numpy(),
            "month": money["month"].astype(str).to_numpy(),
            "amount_fen": money["amount_fen"].to_numpy(dtype=np.int64),
        }
    )
    adjustments = _adjustments(settlement, events)
    if len(adjustments):
        income = pd.concat([income, adjustments], ignore_index=True)
    credited = income.groupby(["user_id", "month"])["amount_fen"].sum()
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


def _adjustments(settlement: Settlement, events: pd.DataFrame | None) -> pd.DataFrame:
    """The ledger's adjustments as income rows ``user_id, month, amount_fen``."""
    e = settlement.entries
    adjust = e[e["kind"] == "ADJUSTMENT"]
    if not len(adjust):
        return pd.DataFrame(
            {
                "user_id": pd.Series(dtype=object),
                "month": pd.Series(dtype=object),
                "amount_fen": pd.Series(dtype="int64"),
            }
        )
    if events is None:
        raise DataValidationError(
            f"the settlement holds {len(adjust)} adjustment(s) (seq "
            f"{adjust['seq'].head(5).tolist()}), income of the month they were made; pass "
            "events= (the events frame it was settled from) to date them"
        )
    check_frame(events, _EVENT_TIMES, name="events", id_column="seq")
    times = _event_times(events, adjust["seq"], "adjustment")
    local = pd.DatetimeIndex(times).tz_convert(settlement.config.timezone)
    return pd.DataFrame(
        {
            "user_id": as_ids(adjust["user_id"]).to_numpy(),
            "month": [f"{y:04d}-{m:02d}" for y, m in zip(local.year, local.month, strict=True)],
            "amount_fen": adjust["amount_fen"].to_numpy(dtype=np.int64),
        }
    )


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
