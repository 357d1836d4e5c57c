"""Reading an events frame (see :mod:`chainmall.referral.events`) for either path.

:func:`read_frame` checks the schema once and keeps ``seq``, type codes and UTC
nanoseconds per row; other columns are read on request, for the rows asked for
(:meth:`EventFrame.ints`, :meth:`EventFrame.texts`), so a path copies only what
it uses. :func:`order_line_groups` is the one rule that groups ``ORDER_PAID`` rows
into events. :func:`events_from_frame` types the events for the fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from chainmall._validation import MAX_EXACT_INT, require_columns, require_frame, require_not_null
from chainmall.exceptions import DataValidationError
from chainmall.referral.events import (
    EVENT_COLUMNS,
    EVENT_TYPES,
    INT_COLUMNS,
    MISSING,
    REQUIRED_FIELDS,
    STR_COLUMNS,
    TYPE_CODE,
    Adjustment,
    CommissionApproved,
    CommissionDeclined,
    ConfigActivated,
    Engagement,
    Event,
    OrderLine,
    OrderPaid,
    is_int,
    split_entry_ids,
)
from chainmall.referral.ids import ID_COLUMNS, IdSpace, IdSpaces, id_kind_of
from chainmall.referral.reasons import Reason

__all__ = [
    "EventFrame",
    "check_text",
    "check_types",
    "event_of_rows",
    "event_starts",
    "events_from_frame",
    "order_line_groups",
    "read_frame",
]

ZERO_WHEN_NULL = ("balance_paid_fen",)
"""Integer columns whose null means 0 (not a missing field)."""


@dataclass(frozen=True)
class EventFrame:
    """A validated events frame: ``seq``, type codes and UTC ns per row; columns on request.

    ``type`` holds codes into ``type_names`` (known types first, in
    :data:`~chainmall.referral.events.TYPE_CODE` order, unknown names after).
    ``ids`` holds the code space of each kind of id given as text.
    """

    frame: pd.DataFrame
    seq: np.ndarray
    type: np.ndarray
    type_names: list[str]
    ts: np.ndarray
    ids: IdSpaces

    @property
    def n_rows(self) -> int:
        """Rows of the frame."""
        return len(self.seq)

    def ints(self, column: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Integer ``column`` as int64 at ``rows`` (all rows: None); nulls are :data:`MISSING`.

        A text id column gives its ids' codes. Nulls of :data:`ZERO_WHEN_NULL`
        columns are 0. All rows of a plain int64 column are a read-only view of
        the frame, not a copy.
        """
        space = self.ids.spaces.get(id_kind_of(column) or "")
        if space is not None and column in self.frame.columns:
            return space.codes(self.texts(column, rows))
        return _int_values(self.frame, column, rows)

    def values(self, column: str, rows: np.ndarray | None = None) -> list[Any]:
        """``column`` at ``rows`` as the caller's values (int or str; None for null)."""
        if self.ids.spaces.get(id_kind_of(column) or "") is not None:
            return list(self.texts(column, rows))
        return [None if v == MISSING else int(v) for v in self.ints(column, rows).tolist()]

    def texts(self, column: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Text ``column`` as an object array (str, or None for null) at ``rows``."""
        n = self.n_rows if rows is None else len(rows)
        if column not in self.frame.columns:
            return np.full(n, None, dtype=object)
        array = self.frame[column].array
        values = np.asarray(array if rows is None else array[rows], dtype=object).copy()
        values[pd.isna(values)] = None
        return values


def read_frame(events: pd.DataFrame, *, name: str = "events") -> EventFrame:
    """Check the frame's schema and read its ``seq``, ``type`` and ``ts`` columns.

    Raises:
        DataValidationError: not a frame, a required column missing or null, an
            unknown column, naive or unrepresentable timestamps, money that is not
            integer fen, or ids that are neither all integers nor all text per kind.
    """
    require_frame(events, name)
    repeated = events.columns[events.columns.duplicated()].unique().tolist()
    if repeated:
        raise DataValidationError(
            f"{name} has repeated column names {repeated}; give every column one name"
        )
    require_columns(events, ["seq", "type", "ts"], name=name)
    require_not_null(events, ["seq", "type", "ts"], name=name)
    unknown = sorted(set(events.columns) - set(EVENT_COLUMNS))
    if unknown:
        raise DataValidationError(
            f"{name} has unknown column(s) {unknown}; the events frame takes {list(EVENT_COLUMNS)}"
        )
    ts = events["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        _check_range(ts, f"{name}.ts")
        raise DataValidationError(
            f"{name}.ts must be timezone-aware datetimes, got dtype {ts.dtype}; naive timestamps "
            "are ambiguous: localize them, e.g. frame['ts'].dt.tz_localize('Asia/Shanghai')"
        )
    for column in ("seq", *INT_COLUMNS):
        if column in events.columns and id_kind_of(column) is None:
            _check_integer(events[column], f"{name}.{column}")
    _check_exact(events, name)
    _check_labels(events, name)
    codes, type_names = _type_codes(events["type"])
    _check_type_case(type_names, f"{name}.type")
    seq = _int_values(events, "seq", None)
    _check_order(seq, f"{name}.seq")
    return EventFrame(
        events,
        seq,
        codes,
        type_names,
        _utc_ns(ts, f"{name}.ts"),
        _id_spaces(events, name),
    )


SEQ_RANGE = (1, MAX_EXACT_INT)
"""``seq`` is a positive integer that every float64 holds exactly (the store numbers from 1)."""
_EXACT = ("seq", "amount_fen", "balance_paid_fen")
"""Integer columns held to +-(2**53 - 1): ``seq`` and money (ids only need int64)."""


def _check_exact(events: pd.DataFrame, name: str) -> None:
    """``seq`` within :data:`SEQ_RANGE`; money within +-(2**53 - 1) fen (never truncated)."""
    for column in _EXACT:
        if column not in events.columns or not _is_integer(events[column].dtype):
            continue
        series = events[column]
        low, high = (1, SEQ_RANGE[1]) if column == "seq" else (-MAX_EXACT_INT, MAX_EXACT_INT)
        values = series.to_numpy(dtype=np.float64, na_value=0.0)
        bad = (values > high) | (values < low)
        bad &= series.notna().to_numpy(dtype=bool)
        if bad.any():
            shown = series[bad]
            fix = (
                "number events 1, 2, ... in the order they happened"
                if column == "seq"
                else "such amounts are corrupt or wrapped; check the source"
            )
            raise DataValidationError(
                f"{name}.{column} must lie in {low:,} .. {high:,} but {int(bad.sum())} row(s) do "
                f"not (rows {list(shown.index[:5])}: {list(shown.iloc[:5])}); {fix}"
            )


def _check_labels(events: pd.DataFrame, name: str) -> None:
    """``type`` holds type names; the text columns hold text (or nulls), never lists or
    numbers: a label is never converted, so the fold and the batch read the same value."""
    _check_type_labels(events["type"], f"{name}.type")
    for column in STR_COLUMNS:
        if column in events.columns:
            check_text(events[column], f"{name}.{column}")


def check_types(types: pd.Series, where: str) -> None:
    """A ``type`` column (``where`` = ``frame.type``) holds labels, none in the wrong case."""
    _check_type_labels(types, where)
    _check_type_case(_type_codes(types)[1], where)


def _check_type_labels(types: pd.Series, where: str) -> None:
    if types.dtype == object and pd.api.types.infer_dtype(types, skipna=True) not in (
        "string",
        "empty",
        "integer",
        "floating",
        "mixed-integer-float",
    ):
        bad = types[[isinstance(v, list | dict | set | np.ndarray) for v in types]]
        if len(bad):
            raise DataValidationError(
                f"{where} holds values that are not labels (rows {list(bad.index[:5])}: "
                f"{[repr(v) for v in bad.iloc[:5]]}); give one type name per row"
            )


_LABEL_FIX = "labels are not converted: give them as text where the values are right"
_ID_FIX = "give every id of a column as text, or every one as an integer"


def check_text(series: pd.Series, where: str, fix: str = _LABEL_FIX) -> None:
    """A text column (``where`` = ``frame.column``) holds only str values (and nulls)."""
    if isinstance(series.dtype, pd.StringDtype) or pd.api.types.infer_dtype(
        series, skipna=True
    ) in ("string", "empty"):
        return
    present = series.dropna()
    bad = present[[not isinstance(v, str) for v in present]]
    raise DataValidationError(
        f"{where} must hold text (or nulls) but holds other values (rows "
        f"{list(bad.index[:5])}: {[repr(v) for v in bad.iloc[:5]]}); {fix}"
    )


def _id_spaces(events: pd.DataFrame, name: str) -> IdSpaces:
    """Check each kind of id column (all integers or all text); the text kinds' spaces."""
    spaces = {}
    for kind, columns in ID_COLUMNS.items():
        present = [c for c in columns if c in events.columns and events[c].count() > 0]
        text = [c for c in present if not _is_integer(events[c].dtype)]
        for column in present:
            if column in text:
                check_text(events[column], f"{name}.{column}", _ID_FIX)
            else:
                _check_integer(events[column], f"{name}.{column}")
        if text and len(text) != len(present):
            raise DataValidationError(
                f"{name}: {' and '.join(present)} name the same {kind}s but {text[0]} holds text "
                f"and the other integers; give them in one type"
            )
        if text:
            values = np.concatenate([events[c].dropna().to_numpy(dtype=object) for c in text])
            spaces[kind] = IdSpace.of(values)
    return IdSpaces(spaces)


def _int_values(frame: pd.DataFrame, column: str, rows: np.ndarray | None) -> np.ndarray:
    """See :meth:`EventFrame.ints`."""
    n = len(frame) if rows is None else len(rows)
    fill = 0 if column in ZERO_WHEN_NULL else MISSING
    if column not in frame.columns or not _is_integer(frame[column].dtype):
        return np.full(n, fill, dtype=np.int64)  # absent, or all null (checked on read)
    series = frame[column]
    if isinstance(series.dtype, pd.api.extensions.ExtensionDtype):  # nullable Int64, ...
        array = series.array if rows is None else series.array[rows]
        values: np.ndarray = array.to_numpy(dtype=np.int64, na_value=fill)
        return values
    values = series.to_numpy()
    if rows is None and values.dtype == np.int64:
        view = values.view()
        view.flags.writeable = False
        return view
    return (values if rows is None else values[rows]).astype(np.int64, copy=False)


def _is_integer(dtype: Any) -> bool:
    return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


_INT64 = np.iinfo(np.int64)


def _check_integer(series: pd.Series, where: str) -> None:
    """Integers inside int64 (its minimum is the null marker); an all-null column is absent."""
    dtype = series.dtype
    if not _is_integer(dtype):
        if not pd.api.types.is_bool_dtype(dtype) and series.count() == 0:
            return
        rows = _not_integer_rows(series)
        raise DataValidationError(
            f"{where} must hold integers (ids, and money in integer fen), got dtype {dtype} "
            f"(rows {list(rows.index[:5])}: {[repr(v) for v in rows.iloc[:5]]}); nothing was "
            "truncated: convert yuan with Decimal(yuan) * 100 and use the nullable 'Int64' "
            "dtype for columns with gaps"
        )
    if series.count() == 0:
        return
    low, high = series.min(), series.max()
    if int(high) > _INT64.max or int(low) <= _INT64.min:
        outside = series[(series > _INT64.max) | (series <= _INT64.min)]
        raise DataValidationError(
            f"{where} holds {len(outside)} value(s) outside -(2**63 - 1) .. 2**63 - 1 (rows "
            f"{list(outside.index[:5])}: {list(outside.iloc[:5])}); ids and fen amounts must "
            "fit a signed 64-bit integer"
        )


def _not_integer_rows(series: pd.Series) -> pd.Series:
    """The rows of a non-integer column to show: fractions and inf, else NaN, bools, text."""
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        present = ~np.isnan(values)
        for bad in (present & (np.isinf(values) | (values != np.round(values))), ~present):
            if bad.any():
                shown: pd.Series = series[bad]
                return shown
        return series
    if pd.api.types.is_bool_dtype(series.dtype):
        return series
    present = series.dropna()
    odd: pd.Series = present[[isinstance(v, bool) or not is_int(v) for v in present]]
    return odd


def _type_codes(types: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Small-int type codes per row and the names they index (known types first)."""
    kinds = pd.Categorical(types if types.dtype == "category" else types.astype(str))
    names = [str(c) for c in kinds.categories]
    all_names = list(EVENT_TYPES) + sorted(set(names) - set(EVENT_TYPES))
    dtype = np.min_scalar_type(-len(all_names))  # int8 unless there are many unknown names
    remap = np.array([all_names.index(n) for n in names], dtype=dtype)
    codes = np.asarray(kinds.codes)
    return (remap[codes] if len(remap) else codes.astype(dtype)), all_names


def _check_type_case(names: list[str], where: str) -> None:
    """Type names differing from known ones only in case are a formatting slip, not new types."""
    slips = {n: n.upper() for n in names if n not in EVENT_TYPES and n.upper() in EVENT_TYPES}
    if slips:
        shown = ", ".join(f"{k!r} -> {v!r}" for k, v in list(slips.items())[:5])
        raise DataValidationError(
            f"{where} holds type names in the wrong case ({shown}); the types are upper case: "
            "use frame['type'].str.upper()"
        )


def _check_order(seq: np.ndarray, where: str) -> None:
    """A frame whose rows are shuffled, not one with a few stale re-deliveries.

    A row whose ``seq`` is below an earlier one's is a stale delivery, which the
    rules reject (``STALE_SEQ``). When no ``seq`` repeats (each occurs in one run of
    rows: an order's lines) and more than a quarter of the events step back, the rows
    are out of order, and rejecting them all would hide the fix.
    """
    down = np.flatnonzero(seq[1:] < seq[:-1]) + 1
    if not len(down):
        return
    runs = seq[np.r_[True, seq[1:] != seq[:-1]]]
    if len(np.unique(runs)) == len(runs) and 4 * len(down) > len(runs):
        raise DataValidationError(
            f"{where} is not in ascending order ({len(down)} row(s) follow a larger seq, first "
            f"at row {int(down[0])}: seq {int(seq[down[0]])} after {int(seq[down[0] - 1])}); "
            "the rows must come in event order: frame.sort_values('seq', kind='stable')"
        )


def _check_range(ts: pd.Series, where: str) -> None:
    """Explain an object column of aware datetimes: out of pandas' range, or mixed zones."""
    if not all(isinstance(v, datetime) and v.tzinfo is not None for v in ts.dropna()):
        return
    try:
        instants = pd.to_datetime(ts, utc=True)  # pandas 3 holds them in a coarser unit
        lo, hi = (pd.Timestamp(t).tz_localize("UTC") for t in (pd.Timestamp.min, pd.Timestamp.max))
        outside = ((instants < lo) | (instants > hi)).to_numpy(dtype=bool)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        outside = np.ones(len(ts), dtype=bool)
    if outside.any():
        raise DataValidationError(
            f"{where} holds instants outside 1677-09-22 .. 2262-04-11 (pandas keeps them as "
            "objects); the engine keeps UTC nanoseconds: correct or drop those rows"
        )
    raise DataValidationError(
        f"{where} holds aware datetimes in several time zones (an object column); convert "
        "them to one zone: frame['ts'] = pd.to_datetime(frame['ts'], utc=True)"
    )


def _utc_ns(ts: pd.Series, where: str) -> np.ndarray:
    """UTC nanoseconds of an aware datetime column: a read-only view when stored in ns."""
    values = ts.array
    if values.unit != "ns":
        try:
            values = values.as_unit("ns")
        except (OverflowError, pd.errors.OutOfBoundsDatetime) as error:
            raise DataValidationError(
                f"{where} holds instants outside 1677-09-22 .. 2262-04-11 ({error}); the engine "
                "keeps UTC nanoseconds: correct or drop those rows"
            ) from None
    view: np.ndarray = values.asi8
    view.flags.writeable = False
    return view


def order_line_groups(
    rows: np.ndarray, seq: np.ndarray, order_id: np.ndarray, user_id: np.ndarray, ts: np.ndarray
) -> np.ndarray:
    """Mask of the ``ORDER_PAID`` rows that start an event.

    ``rows`` are the frame rows of ``ORDER_PAID`` lines (ascending) and the other
    arrays their fields. Consecutive rows with equal ``seq``, ``order_id``,
    ``user_id`` and ``ts`` are lines of one event.
    """
    start = np.ones(len(rows), dtype=bool)
    if len(rows) > 1:
        same = rows[1:] == rows[:-1] + 1
        for values in (seq, order_id, user_id, ts):
            same &= values[1:] == values[:-1]
        start[1:] = ~same
    return start


def event_starts(frame: EventFrame) -> np.ndarray:
    """First row of each event (an ``ORDER_PAID`` event's lines are consecutive rows)."""
    rows = np.flatnonzero(frame.type == TYPE_CODE["ORDER_PAID"])
    new = order_line_groups(
        rows,
        frame.seq[rows],
        frame.ints("order_id", rows),
        frame.ints("user_id", rows),
        frame.ts[rows],
    )
    is_start = np.ones(frame.n_rows, dtype=bool)
    is_start[rows[~new]] = False
    return np.flatnonzero(is_start)


def events_from_frame(events: pd.DataFrame) -> list[Event | tuple[int, str, str]]:
    """Typed events of a frame, in row order, for the per-event fold.

    A row whose required fields are missing becomes ``(seq, type, reason)``
    (``MISSING_FIELD`` or ``UNKNOWN_TYPE``), which the fold rejects as such.
    """
    frame = read_frame(events)
    if frame.n_rows == 0:
        return []
    starts = event_starts(frame)
    ends = np.append(starts[1:], frame.n_rows)
    cols = {c: frame.values(c) for c in INT_COLUMNS} | {c: frame.texts(c) for c in STR_COLUMNS}
    out: list[Event | tuple[int, str, str]] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        kind = frame.type_names[int(frame.type[start])]
        seq = int(frame.seq[start])
        if kind not in EVENT_TYPES:
            out.append((seq, kind, Reason.UNKNOWN_TYPE.name))
        elif any(_null(cols[f][r]) for f in REQUIRED_FIELDS[kind] for r in range(start, end)):
            out.append((seq, kind, Reason.MISSING_FIELD.name))
        else:
            ts = pd.Timestamp(int(frame.ts[start]), tz="UTC").to_pydatetime()
            out.append(_typed(kind, seq, ts, cols, start, end))
    return out


def _null(value: object) -> bool:
    return value is None


def event_of_rows(seq: int, rows: list[dict[str, Any]]) -> Event | tuple[int, str, str]:
    """The typed event of one event's rows, as :func:`events_from_frame` types it.

    ``rows``: dicts of the event's non-null fields (one per line of an ``ORDER_PAID``)
    that passed the frame's checks (aware ``ts``, integer or text ids and money,
    text labels); ``seq`` numbers the event. ``ts`` becomes a UTC datetime and
    integers Python ints; a missing required field or an unknown type gives
    ``(seq, type, reason)`` as from a frame.
    """
    kind = str(rows[0]["type"])
    if kind not in EVENT_TYPES:
        return (seq, kind, Reason.UNKNOWN_TYPE.name)
    if any(row.get(f) is None for f in REQUIRED_FIELDS[kind] for row in rows):
        return (seq, kind, Reason.MISSING_FIELD.name)
    cols: dict[str, list[Any]] = {c: [_plain(c, row.get(c)) for row in rows] for c in INT_COLUMNS}
    cols |= {c: [row.get(c) for row in rows] for c in STR_COLUMNS}
    ns = pd.Timestamp(rows[0]["ts"]).as_unit("ns").value
    return _typed(kind, seq, pd.Timestamp(ns, tz="UTC").to_pydatetime(), cols, 0, len(rows))


def _plain(column: str, value: Any) -> Any:
    """An integer column's value as :meth:`EventFrame.values` gives it (null money paid: 0)."""
    if value is None:
        return 0 if column in ZERO_WHEN_NULL else None
    return int(value) if is_int(value) else value


def _typed(kind: str, seq: int, ts: datetime, cols: dict[str, Any], start: int, end: int) -> Event:
    """The typed event of rows ``start:end`` (one row unless ``ORDER_PAID``)."""
    value = {c: cols[c][start] for c in cols}  # text columns hold str (checked on read)
    ints = {c: value[c] for c in INT_COLUMNS if value[c] is not None}
    if kind == "ORDER_PAID":
        lines = tuple(_order_line(cols, r) for r in range(start, end))
        order_type = value["order_type"]
        return OrderPaid(seq, ts, ints["order_id"], ints["user_id"], lines, order_type)
    if kind == "ENGAGEMENT":
        channel = value["channel"]
        return Engagement(
            seq,
            ts,
            ints["user_id"],
            value["action"],
            channel,
            ints.get("line_id"),
        )
    if kind == "CONFIG_ACTIVATED":
        return ConfigActivated(seq, ts, value["month"])
    if kind == "ADJUSTMENT":
        reason, operator = value["reason"], value["operator_id"]
        return Adjustment(seq, ts, ints["user_id"], ints["amount_fen"], reason, operator)
    if kind == "COMMISSION_APPROVED":
        return CommissionApproved(
            seq, ts, split_entry_ids(value["entry_ids"]), value["operator_id"]
        )
    if kind == "COMMISSION_DECLINED":
        ids = split_entry_ids(value["entry_ids"])
        return CommissionDeclined(seq, ts, ids, value["reason"], value["operator_id"])
    fields: dict[str, object] = {f: ints[f] for f in REQUIRED_FIELDS[kind] if f in ints}
    if kind == "MONTH_CLOSE":
        fields = {"month": value["month"]}
    event: Event = EVENT_TYPES[kind](seq=seq, ts=ts, **fields)
    return event


def _order_line(cols: dict[str, Any], r: int) -> OrderLine:
    """The order line of row ``r``."""
    return OrderLine(
        cols["line_id"][r],
        cols["amount_fen"][r],
        cols["balance_paid_fen"][r],
        cols["product_id"][r],
        cols["category"][r],
    )
