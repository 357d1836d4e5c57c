"""The ledger of a whole log, assembled from blocks of entries in the fold's order.

Each rule stage hands over its entries as a :class:`Block`: one kind of entry,
its fields as scalars, arrays or lazy gathers, and sort keys. The fold appends
entries event by event, so ledger order is ``(seq, k1)``, ``k1`` ordering the
entries of one event:

- rewards of an order line (R4): the line key (line × 4 + slot × 2, +1 for ``CAPPED``);
- settlements at a tick (R5): their place in the fold's queue (``queue_ranks``);
- reversals and claw-backs of a refund (R6): the slot (direct first);
- account events (withdrawals, adjustments): inserted by the balance pass.

:meth:`LedgerBuilder.entries` places every field in ledger order a chunk at a
time (each output column is written once), resolves references, and runs the
balance pass that decides the account events
(:func:`~chainmall.referral._batch.withdrawals.post_accounts`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainmall._threads import map_columns
from chainmall.referral._batch.kernels import Limits, row_chunks
from chainmall.referral._batch.lines import line_key
from chainmall.referral._batch.withdrawals import AccountEvents, LateRejections, post_accounts
from chainmall.referral.events import MISSING
from chainmall.referral.frames import entries_frame
from chainmall.referral.records import INT_FIELDS, KINDS

__all__ = ["Block", "Gather", "LedgerBuilder", "LineKey", "Where", "kind_code"]

Values = int | np.ndarray | Callable[[slice], np.ndarray] | None
"""A block field: one value for every entry, an array, a lazy gather, or None (null)."""


def kind_code(kind: str) -> int:
    """Code of an entry kind (index into :data:`~chainmall.referral.records.KINDS`)."""
    return KINDS.index(kind)


@dataclass(frozen=True)
class Gather:
    """Lazy ``values[index]`` (or ``values[via[index]]``), read a slice of entries at a time."""

    values: np.ndarray
    index: np.ndarray
    via: np.ndarray | None = None

    def __call__(self, rows: slice) -> np.ndarray:
        """The values of entries ``rows``."""
        index = self.index[rows]
        if self.via is not None:
            index = self.via[index]
        found: np.ndarray = self.values[index]
        return found


@dataclass(frozen=True)
class Where:
    """Lazy ``where(mask[index], values[index] - minus[index], fill)``, a slice at a time."""

    mask: np.ndarray
    values: np.ndarray
    index: np.ndarray
    fill: int = MISSING
    minus: np.ndarray | None = None

    def __call__(self, rows: slice) -> np.ndarray:
        """The values of entries ``rows``."""
        index = self.index[rows]
        values = self.values[index]
        if self.minus is not None:
            values = values - self.minus[index]
        return np.where(self.mask[index], values, self.fill)


@dataclass(frozen=True)
class LineKey:
    """Lazy :func:`~chainmall.referral._batch.lines.line_key` of ``line[index]``."""

    line: np.ndarray
    index: np.ndarray
    code: int

    def __call__(self, rows: slice) -> np.ndarray:
        """The keys of entries ``rows``."""
        return line_key(self.line[self.index[rows]], self.code)


@dataclass
class Block:
    """``n`` ledger entries of one stage: entry fields, then the ledger sort keys.

    :meth:`LedgerBuilder.entries` sets each field to None once it is placed, so the
    arrays behind it are released while the rest are placed.
    """

    n: int
    seq: Values
    kind: Values
    user_id: Values
    amount_fen: Values
    buyer_id: Values = None
    order_id: Values = None
    line_id: Values = None
    base_fen: Values = None
    rate_bp: Values = None
    uplift_bp: Values = None
    rank: Values = None
    gen_dist: Values = None
    gross_fen: Values = None
    ratio_cut_fen: Values = None
    cap_cut_fen: Values = None
    receivable_fen: Values = None
    refund_id: Values = None
    reward_type: Values = None
    month: Values = None
    version: Values = None  # config version code; None: the initial config
    rate_override: Values = None  # rate override label code (-1 or None: none)
    ref: Values = None  # index (in block order over all blocks) of the entry referred to
    k1: Values = 0


_CODES: dict[str, type[np.integer[Any]]] = {
    "kind": np.int8,
    "reward_type": np.int8,
    "month": np.int16,
    "version": np.int16,
    "rate_override": np.int16,
}
"""Fields holding category codes (-1: null), and their dtypes, rather than int64 values."""
_PLACEMENT_ORDER = (
    "kind",
    "ref",
    "rate_bp",
    "uplift_bp",
    "rank",
    "gen_dist",
    "buyer_id",
    "base_fen",
    "gross_fen",
    "ratio_cut_fen",
    "cap_cut_fen",
    "amount_fen",
    "user_id",
    "order_id",
    "line_id",
    "month",
    "version",
    "rate_override",
    "reward_type",
    "receivable_fen",
    "refund_id",
)
"""Every entry field but ``seq``, in the order they are placed: fields that are the last
to read some working array come first, so that array is released early (peak memory)."""


def _values(value: Values, rows: slice) -> Any:
    """A field's values on entries ``rows`` (a scalar stays a scalar)."""
    if callable(value):
        return value(rows)
    return value[rows] if isinstance(value, np.ndarray) else value


def _null(name: str) -> int:
    """The value of a field a block leaves out."""
    return MISSING if name in INT_FIELDS else -1


class LedgerBuilder:
    """Collects blocks; :meth:`entries` returns them as the ledger in fold order."""

    def __init__(self, limits: Limits, threads: int) -> None:
        self.blocks: list[Block] = []
        self.size = 0
        self.limits = limits
        self.threads = threads

    def add(self, block: Block) -> np.ndarray:
        """Append a block; return its entries' indices (what a ``ref`` names)."""
        self.blocks.append(block)
        self.size += block.n
        return np.arange(self.size - block.n, self.size)

    def entries(
        self,
        months: list[str],
        versions: Sequence[str],
        accounts: AccountEvents | None = None,
        overrides: Sequence[str] = (),
    ) -> tuple[pd.DataFrame, LateRejections]:
        """The entries frame in ledger order with the account events' entries; those refused.

        ``overrides``: the labels the ``rate_override`` codes index. Consumes the
        blocks: each field is released once it is placed.
        """
        cols, months, late = post_accounts(self._columns(), accounts, months)
        if "version" in cols:
            cols["config_version"] = cols.pop("version")
        return entries_frame(cols, months, versions, overrides), late

    def _columns(self) -> dict[str, np.ndarray]:
        """Every entry field as a column in ledger order (``ref`` as ``ref_pos``)."""
        seq, k1 = map_columns(self._stacked, ("seq", "k1"), self.threads)
        order = np.lexsort((k1, seq))
        del k1
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        cols = {"seq": seq[order]}
        del seq, order
        versioned = any(b.version is not None for b in self.blocks)
        ruled = any(b.rate_override is not None for b in self.blocks)
        names = [
            n
            for n in _PLACEMENT_ORDER
            if (versioned or n != "version") and (ruled or n != "rate_override")
        ]
        placed = map_columns(lambda n: self._placed(n, position), names, self.threads)
        cols |= dict(zip(names, placed, strict=True))
        ref = cols.pop("ref")
        for rows in row_chunks(len(ref), self.limits):  # entry index -> ledger position
            r = ref[rows]
            ref[rows] = np.where(r >= 0, position[np.maximum(r, 0)], -1)
        cols["ref_pos"] = ref
        return cols

    def _stacked(self, name: str) -> np.ndarray:
        """Sort key ``name`` of every entry, in block order (the field is released)."""
        out = np.zeros(self.size, dtype=np.int64)
        lo = 0
        for b in self.blocks:
            for rows in row_chunks(b.n, self.limits):
                out[lo + rows.start : lo + rows.stop] = _values(getattr(b, name), rows)
            setattr(b, name, None)
            lo += b.n
        return out

    def _placed(self, name: str, position: np.ndarray) -> np.ndarray:
        """Field ``name`` of every entry at its ledger ``position`` (the field is released)."""
        dtype = _CODES.get(name, np.int64)
        out = np.full(self.size, _null(name), dtype=dtype)
        lo = 0
        for b in self.blocks:
            value = getattr(b, name)
            if value is not None:
                for rows in row_chunks(b.n, self.limits):
                    out[position[lo + rows.start : lo + rows.stop]] = _values(value, rows)
                setattr(b, name, None)
            lo += b.n
        return out
