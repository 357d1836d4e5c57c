"""Events frame from a shop's tables (members, orders, order lines, refunds).

:func:`events_from_frames` turns the tables a shop already has into the one
long events frame :func:`~chainmall.referral.settle` takes: registration and
binding per member, one ``ORDER_PAID`` row per line, receipts, refunds, and a
daily ``SETTLEMENT_TICK``. Events are ordered by time, then by kind (register,
bind, pay, receive, refund, tick), then by id, and numbered ``seq = 1, 2, ...``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import Column, Kind, check_frame, describe_offenders
from chainmall.exceptions import DataValidationError

__all__ = ["events_from_frames", "events_from_shop"]

_ORDER = ("REGISTERED", "BOUND", "ORDER_PAID", "ORDER_RECEIVED", "REFUND", "SETTLEMENT_TICK")


def _part(kind: str, ts: pd.Series, n: int, key: np.ndarray, **cols: Any) -> dict[str, Any]:
    return {"type": kind, "ts": ts, "n": n, "key": key, **cols}


def events_from_frames(
    members: pd.DataFrame,
    orders: pd.DataFrame,
    order_lines: pd.DataFrame,
    refunds: pd.DataFrame,
    *,
    tick_every: str = "1D",
    tick_until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Build the events frame (see :mod:`chainmall.referral.events`) from shop tables.

    Args:
        members: ``user_id, registered_at, inviter_id (nullable), bound_at``.
        orders: ``order_id, received_at`` (NaT while in transit).
        order_lines: ``line_id, order_id, user_id, paid_fen, balance_paid_fen, paid_at``.
        refunds: ``refund_id, line_id, amount_fen, refunded_at``.
        tick_every: settlement tick period (pandas offset alias), from the first
            registration; ``""`` for no ticks.
        tick_until: last tick instant; default: last event + refund window of 15 days.

    Returns:
        The events frame, ``seq`` strictly increasing (lines of an order share one).
    """
    _check_tables(members, orders, order_lines, refunds)
    parts = _event_parts(members, orders, order_lines, refunds)
    if tick_every:
        parts.extend(_ticks(parts, tick_every, tick_until))
    return _merge(parts)


_IDS: Kind = "count"
"""Shop ids are integers (the events frame's id columns, sorted by value)."""
_TABLES: dict[str, tuple[Column, ...]] = {
    "members": (
        Column("user_id", _IDS),
        Column("registered_at", "time"),
        Column("inviter_id", _IDS, nullable=True),
        Column("bound_at", "time", nullable=True),
    ),
    "orders": (Column("order_id", _IDS), Column("received_at", "time", nullable=True)),
    "order_lines": (
        *(Column(c, _IDS) for c in ("line_id", "order_id", "user_id")),
        Column("paid_fen", "money"),
        Column("balance_paid_fen", "money"),
        Column("paid_at", "time"),
    ),
    "refunds": (
        Column("refund_id", _IDS),
        Column("line_id", _IDS),
        Column("amount_fen", "money"),
        Column("refunded_at", "time"),
    ),
}
"""What each shop table's columns hold (instants end in ``_at``). Signs and repeated or
unknown ids are kept: the rules reject such events with a reason."""
_ROW_IDS = {"members": "user_id", "orders": "order_id", "order_lines": "line_id"}
_ROW_IDS["refunds"] = "refund_id"


def _check_tables(
    members: pd.DataFrame, orders: pd.DataFrame, order_lines: pd.DataFrame, refunds: pd.DataFrame
) -> None:
    """Every table is a frame holding its declared columns; an invited member has a
    ``bound_at``."""
    tables = {"members": members, "orders": orders, "order_lines": order_lines, "refunds": refunds}
    for name, frame in tables.items():
        check_frame(frame, _TABLES[name], name=name, id_column=_ROW_IDS[name], allow_empty=True)
    unbound = (members["inviter_id"].notna() & members["bound_at"].isna()).to_numpy(dtype=bool)
    if unbound.any():
        raise DataValidationError(
            f"members.bound_at is missing for invited members in "
            f"{describe_offenders(members, unbound, 'user_id')}; give the instant each "
            "member used the invite link"
        )


def _event_parts(
    members: pd.DataFrame, orders: pd.DataFrame, order_lines: pd.DataFrame, refunds: pd.DataFrame
) -> list[dict[str, Any]]:
    """The events of each kind, as columns with their instants and sort keys."""
    invited = members[members["inviter_id"].notna()]
    received = orders[orders["received_at"].notna()]
    lines = order_lines
    return [
        _part(
            "REGISTERED",
            members["registered_at"],
            len(members),
            members["user_id"].to_numpy(),
            user_id=members["user_id"].to_numpy(),
        ),
        _part(
            "BOUND",
            invited["bound_at"],
            len(invited),
            invited["user_id"].to_numpy(),
            user_id=invited["user_id"].to_numpy(),
            inviter_id=invited["inviter_id"].to_numpy(dtype=np.int64),
        ),
        _part(
            "ORDER_PAID",
            lines["paid_at"],
            len(lines),
            lines["order_id"].to_numpy(),
            order_id=lines["order_id"].to_numpy(),
            user_id=lines["user_id"].to_numpy(),
            line_id=lines["line_id"].to_numpy(),
            amount_fen=lines["paid_fen"].to_numpy(),
            balance_paid_fen=lines["balance_paid_fen"].to_numpy(),
        ),
        _part(
            "ORDER_RECEIVED",
            received["received_at"],
            len(received),
            received["order_id"].to_numpy(),
            order_id=received["order_id"].to_numpy(),
        ),
        _part(
            "REFUND",
            refunds["refunded_at"],
            len(refunds),
            refunds["refund_id"].to_numpy(),
            refund_id=refunds["refund_id"].to_numpy(),
            line_id=refunds["line_id"].to_numpy(),
            amount_fen=refunds["amount_fen"].to_numpy(),
        ),
    ]


def _ticks(
    parts: list[dict[str, Any]], every: str, until: pd.Timestamp | None
) -> list[dict[str, Any]]:
    """Settlement ticks every ``every`` from the first event's day to ``until``."""
    instants = [p["ts"] for p in parts if p["n"]]
    if not instants:
        return []
    first = min(t.min() for t in instants)
    last = until or max(t.max() for t in instants) + pd.Timedelta(days=15)
    ticks = pd.date_range(first.ceil("D"), last, freq=every)
    return [_part("SETTLEMENT_TICK", pd.Series(ticks), len(ticks), np.arange(len(ticks)))]


def _merge(parts: list[dict[str, Any]]) -> pd.DataFrame:
    """Concatenate parts, sort by (ts, kind, key, row) and number events."""
    total = sum(p["n"] for p in parts)
    ts = np.empty(total, dtype=np.int64)
    prio = np.empty(total, dtype=np.int8)
    key = np.empty(total, dtype=np.int64)
    cols = {
        c: np.full(total, -1, dtype=np.int64)
        for c in ("user_id", "inviter_id", "order_id", "line_id", "amount_fen", "refund_id")
    }
    cols["balance_paid_fen"] = np.zeros(total, dtype=np.int64)
    present = {c: np.zeros(total, dtype=bool) for c in cols}
    at = 0
    for p in parts:
        n = p["n"]
        span = slice(at, at + n)
        ts[span] = p["ts"].dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()
        prio[span] = _ORDER.index(p["type"])
        key[span] = p["key"]
        for c in cols:
            if c in p:
                cols[c][span] = p[c]
                present[c][span] = True
        at += n
    order = np.lexsort((np.arange(total), key, prio, ts))
    ts, prio, key = ts[order], prio[order], key[order]
    new_event = np.ones(total, dtype=bool)
    new_event[1:] = (ts[1:] != ts[:-1]) | (prio[1:] != prio[:-1]) | (key[1:] != key[:-1])
    is_line = prio == _ORDER.index("ORDER_PAID")
    new_event[~is_line] = True
    seq = np.cumsum(new_event)
    frame: dict[str, Any] = {
        "seq": seq.astype(np.int64),
        "type": pd.Categorical.from_codes(prio.astype(np.int64), categories=pd.Index(_ORDER)),
        "ts": pd.to_datetime(ts, utc=True),
    }
    for c, values in cols.items():
        if c == "balance_paid_fen":
            frame[c] = values[order]
            continue
        arr = pd.array(values[order], dtype="Int64")
        arr[~present[c][order]] = pd.NA
        frame[c] = arr
    return pd.DataFrame(frame)


def events_from_shop(shop: Any, **kwargs: Any) -> pd.DataFrame:
    """:func:`events_from_frames` of a :class:`chainmall.datasets.Shop`."""
    return events_from_frames(shop.members, shop.orders, shop.order_lines, shop.refunds, **kwargs)
