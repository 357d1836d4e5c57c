"""What the backfill reads: a whole log's settlement and events, by kind and type.

:class:`Sources` holds the numbered events frame, the
:class:`~chainmall.referral.settlement.Settlement` that ``settle`` made of it, the
initial config and the ledger's ``referral_entries`` rows; :class:`Log`,
:class:`Ledger` and :class:`Orders` read the accepted events, the entries and the
accepted orders' lines with whole-column operations; the helpers encode ids as
the store's text and JSON (:mod:`.mapping`'s encodings).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainmall.referral.calendar import NS_PER_S
from chainmall.referral.config import ReferralConfig
from chainmall.referral.records import KINDS
from chainmall.referral.settlement import Settlement

__all__ = [
    "Ledger",
    "Log",
    "Orders",
    "Sources",
    "id_json",
    "id_texts",
    "json_lists",
    "local_days",
    "ns",
    "where",
]


@dataclass(frozen=True)
class Sources:
    """What the rows are derived from: the numbered events frame, its settlement, the
    initial config and the ``referral_entries`` rows of its ledger (text ids, entry ids)."""

    frame: pd.DataFrame
    settlement: Settlement
    config: ReferralConfig
    entries: pd.DataFrame


def id_texts(values: Any) -> np.ndarray:
    """The caller's ids as the store's text (None for nulls), an object array."""
    values = pd.Series(values) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_integer_dtype(values.dtype):
        mask = values.isna().to_numpy()
        out = values.to_numpy(dtype=np.int64, na_value=0).astype(str).astype(object)
        out[mask] = None
        return out  # type: ignore[no-any-return]
    raw = values.to_numpy(dtype=object)
    return np.array([None if pd.isna(v) else str(v) for v in raw], dtype=object).reshape(len(raw))


def id_json(values: Any) -> np.ndarray:
    """JSON texts of the caller's ids (as ``mapping.dumps`` writes one id), ``null`` for none."""
    values = pd.Series(values) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_integer_dtype(values.dtype):
        out = id_texts(values)
        out[pd.isna(out)] = "null"
        return out
    raw = values.to_numpy(dtype=object)
    return np.array(
        ["null" if pd.isna(v) else json.dumps(v, ensure_ascii=False) for v in raw], dtype=object
    ).reshape(len(raw))


def json_lists(keys: pd.Series, items: np.ndarray) -> pd.Series:
    """Per key, the JSON list of its ``items`` (JSON texts) in their order; keys in
    first-seen order. One string concatenation per item (``np.add.reduceat``)."""
    codes, uniques = pd.factorize(keys.to_numpy(), sort=False)
    if not len(codes):
        return pd.Series([], index=pd.Index(uniques), dtype=object)
    order = np.argsort(codes, kind="stable")
    grouped = codes[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    items = np.asarray(items, dtype=object)[order]
    pieces = items + ","
    last = np.r_[starts[1:], len(order)] - 1
    pieces[last] = items[last] + "]"
    return pd.Series("[" + np.add.reduceat(pieces, starts), index=pd.Index(uniques), dtype=object)


def where(present: np.ndarray, values: np.ndarray | int) -> Any:
    """An ``Int64`` column: ``values`` where ``present``, null elsewhere."""
    data = np.broadcast_to(np.asarray(values, dtype=np.int64), present.shape).copy()
    return pd.arrays.IntegerArray(data, ~np.asarray(present, dtype=bool))


def ns(ts: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a timestamp column."""
    return pd.DatetimeIndex(ts).as_unit("ns").asi8


def local_days(ts_ns: np.ndarray, timezone: str) -> np.ndarray:
    """Local calendar day ``YYYYMMDD`` of UTC instants (as ``rules.withdrawals.local_day``)."""
    local = pd.DatetimeIndex(ts_ns // NS_PER_S * NS_PER_S, tz="UTC").tz_convert(timezone)
    return np.asarray(local.year * 10_000 + local.month * 100 + local.day, dtype=np.int64)


class Log:
    """The accepted events of the numbered frame, by type, and the accepted ticks."""

    def __init__(self, frame: pd.DataFrame, settlement: Settlement) -> None:
        rejected = settlement.rejected["seq"].to_numpy(dtype=np.int64)
        self.accepted = frame[~frame["seq"].isin(rejected)]
        self._types = self.accepted["type"].to_numpy(dtype=object)
        ticks = self.of("SETTLEMENT_TICK")
        self.tick_seq = ticks["seq"].to_numpy(dtype=np.int64)
        self.tick_ts = ns(ticks["ts"])

    def of(self, *types: str) -> pd.DataFrame:
        """The accepted rows of ``types``, in event order."""
        return self.accepted[np.isin(self._types, list(types))]

    def first_tick(self, after_seq: np.ndarray, due_ns: np.ndarray) -> np.ndarray:
        """Position of the first accepted tick after ``after_seq`` reaching ``due_ns``
        (``len``: none yet); ticks never go back in time."""
        return np.maximum(
            np.searchsorted(self.tick_seq, after_seq, side="right"),
            np.searchsorted(self.tick_ts, due_ns, side="left"),
        )


class Ledger:
    """The settlement's entries read by kind, with their entry ids."""

    def __init__(self, entries: pd.DataFrame, rows: pd.DataFrame) -> None:
        self.frame = entries
        self.rows_of = rows
        self.ids = rows["entry_id"].to_numpy()
        self.user = rows["user_id"].to_numpy()  # the store's text ids
        self.kind = entries["kind"].cat.codes.to_numpy()
        self.amount = entries["amount_fen"].to_numpy(dtype=np.int64)
        self.ref = entries["ref_pos"].to_numpy(dtype=np.int64, na_value=-1)
        self.seq = entries["seq"].to_numpy(dtype=np.int64)

    def rows(self, *kinds: str) -> np.ndarray:
        """Positions of the entries of ``kinds``."""
        return np.flatnonzero(np.isin(self.kind, [KINDS.index(k) for k in kinds]))

    def users(self, rows: np.ndarray) -> np.ndarray:
        """The distinct users (text ids) of entries ``rows``."""
        return np.asarray(pd.unique(self.user[rows]), dtype=object)


@dataclass(frozen=True)
class Orders:
    """The accepted orders' lines (text ids, event order) and per order its id and paid fen."""

    lines: pd.DataFrame  # seq, order_id, line_id, line_json (JSON id), user_id, amount_fen
    ids: pd.Index
    paid: np.ndarray

    @classmethod
    def of(cls, log: Log) -> Orders:
        rows = log.of("ORDER_PAID")
        lines = pd.DataFrame(
            {
                "seq": rows["seq"].to_numpy(dtype=np.int64),
                "order_id": id_texts(rows["order_id"]),
                "line_id": id_texts(rows["line_id"]),
                "line_json": id_json(rows["line_id"]),
                "user_id": id_texts(rows["user_id"]),
                "amount_fen": rows["amount_fen"].to_numpy(dtype=np.int64),
            }
        )
        paid = lines.groupby("order_id", sort=False)["amount_fen"].sum()
        return cls(lines, pd.Index(paid.index), paid.to_numpy(dtype=np.int64))

    def order_of_line(self, line_ids: pd.Series) -> np.ndarray:
        """The order (text id) of each line id (the caller's ids)."""
        of = pd.Series(self.lines["order_id"].to_numpy(), index=self.lines["line_id"].to_numpy())
        return of.reindex(id_texts(line_ids)).to_numpy(dtype=object)
