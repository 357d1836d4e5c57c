"""A valid referral programme and its parts, for the contract cases of ``chainmall.referral``.

:data:`HISTORY` is a short programme (registrations, binds, paid, received and
settled orders); each of :data:`PARTS` is a run of events that may follow it (of
one type, or a withdrawal workflow's requests and decisions), with the columns
every one of its rows reads (:data:`COLUMNS`). The
rules *reject* bad events (spec ``referral.md`` §4.6): a rejection's reason code
names the columns :data:`REASON_COLUMNS` lists for it (``MISSING_FIELD``: the
timestamp or a field the event type requires).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pandas as pd

from chainmall.referral import ReferralConfig, Settlement, settle
from chainmall.referral.events import REQUIRED_FIELDS
from tests.contract.spec import Col

T0 = datetime(2025, 3, 3, tzinfo=UTC)
CONFIG = ReferralConfig()
VERSIONS = {
    "2": CONFIG.replace(config_version="2", team_rate_bp=300),
    "3": CONFIG.replace(config_version="3", monthly_cap_fen=1_000_000),
}
ID = Col("id", rows_rejected=True)
UNIQUE_ID = Col("id", unique=True, rows_rejected=True)
LABEL = Col("label", rows_rejected=True)

# -- what a rejection names -------------------------------------------------------

IDS = ("user_id", "inviter_id", "order_id", "line_id", "refund_id", "request_id")
_ABOUT = {
    ("seq",): "STALE_SEQ BAD_SEQ",
    ("type",): "UNKNOWN_TYPE",
    ("ts",): "NAIVE_TIMESTAMP BAD_TIMESTAMP STALE_TICK",
    IDS: "BAD_ID",
    ("user_id",): "DUPLICATE_USER DUPLICATE_BAN ALREADY_BOUND BIND_AFTER_ORDER ALREADY_HELD "
    "NOT_HELD",
    ("user_id", "inviter_id"): "UNKNOWN_USER BIND_SELF BIND_LOOP",
    ("inviter_id",): "INVITER_BANNED",
    ("amount_fen",): "INSUFFICIENT_AVAILABLE NON_POSITIVE_AMOUNT REFUND_EXCEEDS_PAID "
    "BELOW_MINIMUM FEE_EXCEEDS_AMOUNT ZERO_ADJUSTMENT",
    ("amount_fen", "balance_paid_fen"): "BAD_AMOUNT",
    ("order_id",): "DUPLICATE_ORDER DUPLICATE_RECEIPT",
    ("line_id",): "DUPLICATE_LINE DUPLICATE_COMMENT",
    ("order_id", "line_id"): "UNKNOWN_ORDER",
    ("refund_id",): "DUPLICATE_REFUND",
    ("month",): "BAD_MONTH DUPLICATE_CLOSE UNKNOWN_VERSION",
    ("ts", "month"): "PREMATURE_CLOSE",
    ("action",): "BAD_ACTION",
    ("request_id",): "DUPLICATE_REQUEST UNKNOWN_REQUEST ALREADY_DECIDED NOT_APPROVED",
    ("user_id", "ts"): "DAILY_LIMIT",
    ("reason", "operator_id"): "MISSING_REASON",
}
REASON_COLUMNS = {reason: cols for cols, names in _ABOUT.items() for reason in names.split()}
"""The columns each rejection reason is about (spec §4.3, §4.6)."""


def named(rejected: pd.DataFrame, kind: str | None = None) -> pd.DataFrame:
    """``rejected`` with each reason code followed by the columns it is about."""
    kinds = rejected["type"] if kind is None else [kind] * len(rejected)
    reasons = rejected["reason"] if "reason" in rejected else rejected["outcome"]

    def about(kind: str, reason: str) -> str:
        if reason == "MISSING_FIELD":
            return ", ".join(("ts", *REQUIRED_FIELDS.get(kind, ())))
        return ", ".join(REASON_COLUMNS.get(reason, ()))

    text = [f"{r} ({about(str(k), str(r))})" for k, r in zip(kinds, reasons, strict=True)]
    return rejected.assign(reason=text)


# -- the valid programme ------------------------------------------------------------


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """An events frame of ``rows``: int64 ids and fen (``Int64`` where some are null)."""
    frame = pd.DataFrame(rows)
    for column in frame.columns:
        if column in IDS or column.endswith("_fen"):
            frame[column] = frame[column].astype("Int64" if frame[column].isna().any() else "int64")
    return frame.assign(ts=pd.to_datetime(frame["ts"], utc=True))


def _history_rows() -> list[dict[str, Any]]:
    """Users 1-14; binds 2,3,4 -> 1, 5,6 -> 2, 7 -> 5; orders 101-107 (10,000 fen) paid,
    received and settled by a tick; orders 110-113 (8,000 fen) paid, not received."""
    rows: list[dict[str, Any]] = []

    def add(kind: str, ts: datetime | None = None, **fields: Any) -> None:
        seq = len(rows) + 1
        rows.append({"seq": seq, "type": kind, "ts": ts or T0 + timedelta(minutes=seq), **fields})

    for user in range(1, 15):
        add("REGISTERED", user_id=user)
    for user, inviter in ((2, 1), (3, 1), (4, 1), (5, 2), (6, 2), (7, 5)):
        add("BOUND", user_id=user, inviter_id=inviter)
    for order, user, fen in [(100 + u, u, 10_000) for u in range(1, 8)] + [
        (109 + u, u, 8_000) for u in range(1, 5)
    ]:
        add("ORDER_PAID", order_id=order, user_id=user, line_id=order + 900, amount_fen=fen)
    for user in range(1, 8):
        add("ORDER_RECEIVED", order_id=100 + user)
    add("SETTLEMENT_TICK", T0 + timedelta(days=20))
    return rows


def _part(kind: str, fields: dict[str, list[Any]]) -> pd.DataFrame:
    """Events of type ``kind`` (or per row, ``fields["type"]``) after the history: ``seq``
    from 101, a minute apart from day 30."""
    n = len(next(iter(fields.values())))
    start = T0 + timedelta(days=30)
    rows = [{"seq": 101 + i, "type": kind, "ts": start + timedelta(minutes=i)} for i in range(n)]
    return _frame([row | {k: v[i] for k, v in fields.items()} for i, row in enumerate(rows)])


FEN = Col("money", ge=0, rows_rejected=True)
POSITIVE_FEN = Col("money", gt=0, rows_rejected=True)
BALANCE = Col("money", ge=0, nullable=True, required=False, rows_rejected=True)
_PARTS: dict[str, tuple[dict[str, list[Any]], dict[str, Col]]] = {
    "ORDER_PAID": (
        {
            "order_id": [201, 202, 203, 204, 205, 206],
            "user_id": [2, 3, 4, 5, 6, 7],
            "line_id": [2001, 2002, 2003, 2004, 2005, 2006],
            "amount_fen": [5_000, 7_000, 12_000, 3_333, 9_000, 6_000],
            "balance_paid_fen": [0, 100, 0, 33, 0, 500],
        },
        {"order_id": UNIQUE_ID, "user_id": ID, "line_id": UNIQUE_ID, "amount_fen": FEN}
        | {"balance_paid_fen": BALANCE},
    ),
    "REFUND": (
        {
            "refund_id": [901, 902, 903, 904, 905],
            "line_id": [1002, 1003, 1005, 1006, 1012],
            "amount_fen": [2_500, 10_000, 1_000, 4_000, 8_000],
        },
        {"refund_id": UNIQUE_ID, "line_id": ID, "amount_fen": POSITIVE_FEN},
    ),
    "BOUND": (
        {"user_id": [8, 9, 10, 11], "inviter_id": [1, 2, 3, 4]},
        {"user_id": UNIQUE_ID, "inviter_id": ID},
    ),
    "WITHDRAWAL": (
        {"user_id": [1, 2, 5, 1], "amount_fen": [500, 700, 100, 50]},
        {"user_id": ID, "amount_fen": POSITIVE_FEN},
    ),
    "ENGAGEMENT": (
        {
            "user_id": [1, 2, 3, 4, 5],
            "action": ["SHARE"] * 5,
            "channel": ["APP", "APP", "WECHAT", "APP", "MOMENTS"],
        },
        {
            "user_id": ID,
            "action": LABEL,
            "channel": Col("label", nullable=True, required=False, rows_rejected=True),
        },
    ),
    "HOLD": ({"user_id": [1, 2, 3, 4]}, {"user_id": UNIQUE_ID}),
    "USER_BANNED": ({"user_id": [9, 10, 11, 12]}, {"user_id": UNIQUE_ID}),
    "REGISTERED": ({"user_id": [20, 21, 22, 23]}, {"user_id": UNIQUE_ID}),
    "ORDER_RECEIVED": ({"order_id": [110, 111, 112, 113]}, {"order_id": UNIQUE_ID}),
    "MONTH_CLOSE": (
        {"month": ["2024-11", "2024-12", "2025-01", "2025-02"]},
        {"month": Col("label", unique=True, rows_rejected=True), "ts": Col("time")},
    ),
    "CONFIG_ACTIVATED": ({"month": ["2", "3", "2"]}, {"month": LABEL}),
    "WITHDRAWAL_REQUESTED": (
        {"user_id": [1, 2, 5, 1], "request_id": [71, 72, 73, 74]}
        | {"amount_fen": [500, 700, 100, 50]},
        {"user_id": ID, "request_id": UNIQUE_ID, "amount_fen": POSITIVE_FEN},
    ),
    "WITHDRAWAL_DECISIONS": (
        {
            "type": [f"WITHDRAWAL_{s}" for s in ("REQUESTED", "REQUESTED", "REQUESTED")]
            + [f"WITHDRAWAL_{s}" for s in ("APPROVED", "REJECTED", "APPROVED", "PAID", "FAILED")],
            "user_id": [1, 2, 5, None, None, None, None, None],
            "amount_fen": [500, 700, 100, None, None, None, None, None],
            "request_id": [71, 72, 73, 71, 72, 73, 71, 73],
        },
        {"request_id": ID},
    ),
    "ADJUSTMENT": (
        {"user_id": [1, 2, 3, 8], "amount_fen": [500, -200, 100, -50]}
        | {"reason": ["goodwill", "typo", "bonus", "typo"], "operator_id": ["op1", "op2"] * 2},
        {"user_id": ID, "amount_fen": Col("money", rows_rejected=True)}
        | {"reason": LABEL, "operator_id": LABEL},
    ),
}
PARTS = {kind: _part(kind, fields) for kind, (fields, _) in _PARTS.items()}
COLUMNS = {kind: columns for kind, (_, columns) in _PARTS.items()}
"""What each part's columns must hold; bad values may be rejected rows (spec §4.6)."""
_USED = {c: None for frame in [_frame(_history_rows()), *PARTS.values()] for c in frame.columns}
HISTORY = (
    _frame(_history_rows())
    .reindex(columns=list(_USED))
    .astype({c: "Int64" if c in IDS or c.endswith("_fen") else object for c in list(_USED)[3:]})
)
"""The history, with every column the parts use (null where a type has no field)."""
SEQ = Col("count", ge=1, unique=True, rows_rejected=True)
LOG_COLUMNS = {"seq": SEQ, "type": LABEL, "ts": Col("time")}


def with_history(part: Any) -> Any:
    """``HISTORY`` then ``part``, its times in the part's unit (not a frame, or a repeated
    column: ``part`` alone)."""
    if not isinstance(part, pd.DataFrame) or part.columns.has_duplicates:
        return part
    head = HISTORY
    if "ts" in part.columns and isinstance(part["ts"].dtype, pd.DatetimeTZDtype):
        head = HISTORY.assign(ts=HISTORY["ts"].dt.as_unit(part["ts"].dt.unit))
    return pd.concat([head, part], ignore_index=True)


def full_log(*kinds: str) -> pd.DataFrame:
    """``HISTORY`` and the parts of ``kinds``, numbered on."""
    frames = [HISTORY]
    for kind in kinds:
        frames.append(PARTS[kind].assign(seq=PARTS[kind]["seq"] + 1_000 * len(frames)))
    return pd.concat(frames, ignore_index=True)


def rows_of(kind: str) -> pd.DataFrame:
    """The events of type ``kind`` of ``full_log(kind)``."""
    log = full_log(kind)
    return log[log["type"] == kind].reset_index(drop=True)


@cache
def settled(*kinds: str) -> Settlement:
    return settle(full_log(*kinds), CONFIG, VERSIONS)
