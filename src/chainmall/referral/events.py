"""Referral events: typed records for the fold, one long DataFrame for the batch.

The events frame has one row per event, except ``ORDER_PAID`` which has one row
per order line; consecutive ``ORDER_PAID`` rows with the same ``seq``,
``order_id``, ``user_id`` and ``ts`` form one event. Columns (defaults):

| column | dtype | used by |
|---|---|---|
| ``seq`` | int | every event; must increase (a repeat or a step back is ``STALE_SEQ``) |
| ``type`` | str | one of :data:`EVENT_TYPES` |
| ``ts`` | tz-aware datetime | every event (the tick's / close's ``as_of``) |
| ``user_id`` | int | REGISTERED, BOUND, ORDER_PAID, USER_BANNED, WITHDRAWAL |
| ``inviter_id`` | int | BOUND |
| ``order_id`` | int | ORDER_PAID, ORDER_RECEIVED |
| ``line_id`` | int | ORDER_PAID, REFUND |
| ``amount_fen`` | int | ORDER_PAID (paid goods amount of the line), REFUND, WITHDRAWAL |
| ``balance_paid_fen`` | int | ORDER_PAID: part paid from commission balance (default 0) |
| ``refund_id`` | int | REFUND |
| ``month`` | str | MONTH_CLOSE (``"YYYY-MM"``); CONFIG_ACTIVATED: the version label |
| ``action`` | str | ENGAGEMENT: ``"SHARE"`` or ``"COMMENT"`` (comments name ``line_id``) |
| ``channel`` | str | ENGAGEMENT: where a share went (``"WECHAT"`` shares earn no points) |

``CONFIG_ACTIVATED`` (spec §4.0, §4.6) reuses two columns: ``month`` holds the
activated ``config_version`` label and ``ts`` its ``effective_at`` (as a tick's
``ts`` is its ``as_of``). Order lines paid at or after ``effective_at`` (and with
a larger ``seq``) use that version; see :mod:`chainmall.referral.versions`.

Integer columns may be pandas nullable ``Int64``. Frame-level problems (missing
``seq``/``type``/``ts``, float money, naive timestamps) raise
:class:`~chainmall.exceptions.DataValidationError`; event-level problems are
returned as rejected events with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from chainmall._threads import map_columns
from chainmall._validation import require_columns, require_frame, require_not_null
from chainmall.exceptions import DataValidationError

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_TYPES",
    "Bound",
    "ConfigActivated",
    "Engagement",
    "Event",
    "Hold",
    "MonthClose",
    "OrderLine",
    "OrderPaid",
    "OrderReceived",
    "RefundSucceeded",
    "Registered",
    "Release",
    "SettlementTick",
    "UserBanned",
    "Withdrawal",
    "events_from_frame",
    "events_to_frame",
    "normalize_events",
]


@dataclass(frozen=True, slots=True)
class Registered:
    """A user account was created."""

    seq: int
    ts: datetime
    user_id: int


@dataclass(frozen=True, slots=True)
class Bound:
    """``user_id`` used ``inviter_id``'s invite link (R1)."""

    seq: int
    ts: datetime
    user_id: int
    inviter_id: int


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A goods line: ``paid_fen`` net of discounts, ``balance_paid_fen`` of it from balance."""

    line_id: int
    paid_fen: int
    balance_paid_fen: int = 0


@dataclass(frozen=True, slots=True)
class OrderPaid:
    """An order was paid; freight and fees are not lines."""

    seq: int
    ts: datetime
    order_id: int
    user_id: int
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, slots=True)
class OrderReceived:
    """The buyer received (or auto-received) the order: starts the refund window."""

    seq: int
    ts: datetime
    order_id: int


@dataclass(frozen=True, slots=True)
class RefundSucceeded:
    """``amount_fen`` of line ``line_id`` was refunded; ``refund_id`` is the idempotency key."""

    seq: int
    ts: datetime
    refund_id: int
    line_id: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class SettlementTick:
    """Settle every pending entry whose ``settle_at <= ts``."""

    seq: int
    ts: datetime


@dataclass(frozen=True, slots=True)
class MonthClose:
    """Close accrual month ``month`` (``"YYYY-MM"``) as of ``ts``."""

    seq: int
    ts: datetime
    month: str


@dataclass(frozen=True, slots=True)
class UserBanned:
    """The user is banned: no new binds to them; their rewards are forfeited."""

    seq: int
    ts: datetime
    user_id: int


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """The user withdraws ``amount_fen`` from the available balance."""

    seq: int
    ts: datetime
    user_id: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Engagement:
    """A share (``action="SHARE"``, on ``channel``) or a comment on bought line ``line_id``."""

    seq: int
    ts: datetime
    user_id: int
    action: str
    channel: str | None = None
    line_id: int | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """Pause settlement (R5) of the user's entries (team-health or admin hold, R11)."""

    seq: int
    ts: datetime
    user_id: int


@dataclass(frozen=True, slots=True)
class Release:
    """Lift the user's hold: held entries settle at the next tick."""

    seq: int
    ts: datetime
    user_id: int


@dataclass(frozen=True, slots=True)
class ConfigActivated:
    """Config ``version`` applies to orders paid at or after ``ts`` (= ``effective_at``)."""

    seq: int
    ts: datetime
    version: str

    @property
    def effective_at(self) -> datetime:
        """First paid time (inclusive) the version applies to: the event's ``ts``."""
        return self.ts


Event = (
    Registered
    | Bound
    | OrderPaid
    | OrderReceived
    | RefundSucceeded
    | SettlementTick
    | MonthClose
    | UserBanned
    | Withdrawal
    | Engagement
    | Hold
    | Release
    | ConfigActivated
)

EVENT_TYPES: dict[str, type[Any]] = {
    "REGISTERED": Registered,
    "BOUND": Bound,
    "ORDER_PAID": OrderPaid,
    "ORDER_RECEIVED": OrderReceived,
    "REFUND": RefundSucceeded,
    "SETTLEMENT_TICK": SettlementTick,
    "MONTH_CLOSE": MonthClose,
    "USER_BANNED": UserBanned,
    "WITHDRAWAL": Withdrawal,
    "ENGAGEMENT": Engagement,
    "HOLD": Hold,
    "RELEASE": Release,
    "CONFIG_ACTIVATED": ConfigActivated,
}
TYPE_OF: dict[type[Any], str] = {cls: name for name, cls in EVENT_TYPES.items()}

INT_COLUMNS = (
    "user_id",
    "inviter_id",
    "order_id",
    "line_id",
    "amount_fen",
    "balance_paid_fen",
    "refund_id",
)
STR_COLUMNS = ("month", "action", "channel")
EVENT_COLUMNS = ("seq", "type", "ts", *INT_COLUMNS, *STR_COLUMNS)

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "REGISTERED": ("user_id",),
    "BOUND": ("user_id", "inviter_id"),
    "ORDER_PAID": ("order_id", "user_id", "line_id", "amount_fen"),
    "ORDER_RECEIVED": ("order_id",),
    "REFUND": ("refund_id", "line_id", "amount_fen"),
    "SETTLEMENT_TICK": (),
    "MONTH_CLOSE": ("month",),
    "USER_BANNED": ("user_id",),
    "WITHDRAWAL": ("user_id", "amount_fen"),
    "ENGAGEMENT": ("user_id", "action"),
    "HOLD": ("user_id",),
    "RELEASE": ("user_id",),
    "CONFIG_ACTIVATED": ("month",),
}

MISSING = np.iinfo(np.int64).min
"""Sentinel for a null integer field inside the engine's int64 arrays."""


TYPE_CODE: dict[str, int] = {name: i for i, name in enumerate(EVENT_TYPES)}
"""Code of each known event type; unknown types get codes after these."""


def normalize_events(
    events: pd.DataFrame, *, name: str = "events"
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Validate the frame schema; return its columns in engine form and the type names.

    Integer columns become int64 with :data:`MISSING` for nulls, ``ts`` int64 UTC
    nanoseconds, ``type`` small-int codes into the returned names (known types first,
    see :data:`TYPE_CODE`), ``month``, ``action``, ``channel`` object arrays (str or
    None; a read-only all-None view where the frame lacks the column).
    """
    require_frame(events, name)
    require_columns(events, ["seq", "type", "ts"], name=name)
    require_not_null(events, ["seq", "type", "ts"], name=name)
    unknown = sorted(set(events.columns) - set(EVENT_COLUMNS))
    if unknown:
        raise DataValidationError(
            f"{name} has unknown column(s) {unknown}; the events frame takes {list(EVENT_COLUMNS)}"
        )
    ts = events["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise DataValidationError(
            f"{name}.ts must be timezone-aware datetimes, got dtype {ts.dtype}; naive timestamps "
            "are ambiguous: localize them, e.g. frame['ts'].dt.tz_localize('Asia/Shanghai')"
        )
    kinds = pd.Categorical(
        events["type"].astype(str) if events["type"].dtype != "category" else events["type"]
    )
    names = [str(c) for c in kinds.categories]
    all_names = list(EVENT_TYPES) + sorted(set(names) - set(EVENT_TYPES))
    code_type = np.min_scalar_type(-len(all_names))
    remap = np.array([all_names.index(n) for n in names], dtype=code_type)
    codes = np.asarray(kinds.codes)
    out: dict[str, np.ndarray] = {
        "seq": _int_column(events, "seq", name),
        "type": remap[codes] if len(remap) else codes,
        "ts": _utc_ns(ts),
    }
    present = [col for col in INT_COLUMNS if col in events.columns]
    columns = map_columns(lambda c: _int_column(events, c, name), present)
    converted = dict(zip(present, columns, strict=True))
    for col in INT_COLUMNS:
        if col in converted:
            out[col] = converted[col]
        else:
            fill = 0 if col == "balance_paid_fen" else MISSING
            out[col] = np.full(len(events), fill, dtype=np.int64)
    for col in STR_COLUMNS:
        if col in events.columns:
            text = events[col].astype(object).to_numpy(copy=True)
            text[pd.isna(text)] = None
            out[col] = text
        else:
            out[col] = np.broadcast_to(np.array(None, dtype=object), len(events))
    return out, all_names


def _utc_ns(ts: pd.Series) -> np.ndarray:
    """UTC nanoseconds of an aware datetime column: a read-only view when stored in ns."""
    values = ts.array
    if values.unit != "ns":
        values = values.as_unit("ns")
    view: np.ndarray = values.asi8
    view.flags.writeable = False
    return view


def _int_column(frame: pd.DataFrame, col: str, name: str) -> np.ndarray:
    series = frame[col]
    dtype = series.dtype
    integer = pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if integer and dtype == np.int64:  # plain int64: a read-only view, no copy
        view = series.to_numpy()
        view.flags.writeable = False
        return view
    if integer:
        return series.to_numpy(dtype=np.int64, na_value=MISSING)
    if not pd.api.types.is_bool_dtype(dtype) and series.count() == 0:
        return np.full(len(series), MISSING, dtype=np.int64)  # an all-null column
    raise DataValidationError(
        f"{name}.{col} must hold integers (ids, and money in integer fen), got dtype "
        f"{dtype}; convert yuan with Decimal(yuan) * 100 and use the nullable 'Int64' "
        "dtype for columns with gaps"
    )


def event_bounds(cols: dict[str, np.ndarray]) -> np.ndarray:
    """Start row of each event in normalised columns (ORDER_PAID lines grouped)."""
    n = len(cols["seq"])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    is_order = cols["type"] == TYPE_CODE["ORDER_PAID"]
    same = np.zeros(n, dtype=bool)
    same[1:] = is_order[1:] & is_order[:-1]
    for col in ("seq", "order_id", "user_id", "ts"):
        values = cols[col]
        same[1:] &= values[1:] == values[:-1]
    return np.flatnonzero(~same)


def events_from_frame(events: pd.DataFrame) -> list[Event | tuple[int, str, str]]:
    """Typed events of a frame, in row order, for the per-event fold.

    A row whose required fields are missing becomes ``(seq, type, reason)``
    (``MISSING_FIELD`` or ``UNKNOWN_TYPE``), which the fold rejects as such.
    """
    cols, names = normalize_events(events)
    bounds = event_bounds(cols)
    ends = np.append(bounds[1:], len(cols["seq"]))
    out: list[Event | tuple[int, str, str]] = []
    for start, end in zip(bounds.tolist(), ends.tolist(), strict=True):
        kind = names[int(cols["type"][start])]
        seq = int(cols["seq"][start])
        if kind not in EVENT_TYPES:
            out.append((seq, kind, "UNKNOWN_TYPE"))
            continue
        rows = range(start, end)
        if any(_missing(cols, f, r) for f in REQUIRED_FIELDS[kind] for r in rows):
            out.append((seq, kind, "MISSING_FIELD"))
            continue
        ts = pd.Timestamp(int(cols["ts"][start]), tz="UTC").to_pydatetime()
        out.append(_build(kind, seq, ts, cols, start, end))
    return out


def _missing(cols: dict[str, np.ndarray], field: str, row: int) -> bool:
    value = cols[field][row]
    return value is None if field in STR_COLUMNS else int(value) == MISSING


def _build(
    kind: str, seq: int, ts: datetime, cols: dict[str, np.ndarray], start: int, end: int
) -> Event:
    def get(col: str) -> int:
        return int(cols[col][start])

    if kind == "REGISTERED":
        return Registered(seq, ts, get("user_id"))
    if kind == "BOUND":
        return Bound(seq, ts, get("user_id"), get("inviter_id"))
    if kind == "ORDER_PAID":
        lines = tuple(
            OrderLine(int(cols["line_id"][r]), int(cols["amount_fen"][r]), _balance(cols, r))
            for r in range(start, end)
        )
        return OrderPaid(seq, ts, get("order_id"), get("user_id"), lines)
    if kind == "ORDER_RECEIVED":
        return OrderReceived(seq, ts, get("order_id"))
    if kind == "REFUND":
        return RefundSucceeded(seq, ts, get("refund_id"), get("line_id"), get("amount_fen"))
    if kind == "SETTLEMENT_TICK":
        return SettlementTick(seq, ts)
    if kind == "MONTH_CLOSE":
        return MonthClose(seq, ts, str(cols["month"][start]))
    if kind == "USER_BANNED":
        return UserBanned(seq, ts, get("user_id"))
    if kind == "ENGAGEMENT":
        line = get("line_id")
        channel = cols["channel"][start]
        return Engagement(
            seq,
            ts,
            get("user_id"),
            str(cols["action"][start]),
            None if channel is None else str(channel),
            None if line == MISSING else line,
        )
    if kind == "HOLD":
        return Hold(seq, ts, get("user_id"))
    if kind == "RELEASE":
        return Release(seq, ts, get("user_id"))
    if kind == "CONFIG_ACTIVATED":
        return ConfigActivated(seq, ts, str(cols["month"][start]))
    return Withdrawal(seq, ts, get("user_id"), get("amount_fen"))


def _balance(cols: dict[str, np.ndarray], row: int) -> int:
    value = int(cols["balance_paid_fen"][row])
    return 0 if value == MISSING else value


def events_to_frame(events: list[Event]) -> pd.DataFrame:
    """The events frame of typed events (ORDER_PAID expands to one row per line)."""
    rows: list[dict[str, Any]] = []
    for event in events:
        base = {"seq": event.seq, "type": TYPE_OF[type(event)], "ts": event.ts}
        if isinstance(event, OrderPaid):
            for line in event.lines:
                rows.append(
                    {
                        **base,
                        "order_id": event.order_id,
                        "user_id": event.user_id,
                        "line_id": line.line_id,
                        "amount_fen": line.paid_fen,
                        "balance_paid_fen": line.balance_paid_fen,
                    }
                )
            continue
        fields = {
            f: getattr(event, f)
            for f in (*INT_COLUMNS, *STR_COLUMNS)
            if f in type(event).__dataclass_fields__
        }
        if isinstance(event, ConfigActivated):
            fields["month"] = event.version
        rows.append({**base, **fields})
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    for col in INT_COLUMNS:
        frame[col] = frame[col].astype("Int64")
    frame["seq"] = frame["seq"].astype("int64")
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    for col in STR_COLUMNS:
        frame[col] = frame[col].astype(object)
    return frame
