"""The earning order lines and their two reward slots: the data the money rules share.

An earning line is an accepted order line with a base (R4.1) whose buyer has an
inviter; :class:`Slot` holds one of its two rewards (direct R4.2, team R4.3) for
every line at once, from the beneficiary to the credit after both caps.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Self

import numpy as np

__all__ = ["Lines", "Slot", "line_key"]


def line_key(line: np.ndarray, code: np.ndarray | int) -> np.ndarray:
    """The ledger tie-break of a line's entries: ``line × 4 + code``.

    ``code`` is ``slot × 2`` (+1 for a ``CAPPED`` entry): a line's direct entries
    come before its team entries, each before its ``CAPPED`` twin, as the fold
    appends them.
    """
    key: np.ndarray = line.astype(np.int64) * 4 + code
    return key


@dataclass(frozen=True)
class Lines:
    """Earning order lines in ledger order (arrays aligned by line)."""

    line: np.ndarray  # index into the accepted orders' lines (ascending)
    order: np.ndarray  # index into the accepted orders
    seq: np.ndarray  # the order's seq
    buyer: np.ndarray  # dense user index
    order_id: np.ndarray
    line_id: np.ndarray
    paid: np.ndarray  # fen
    base: np.ndarray  # fen: paid less the part paid from commission balance (R4.1)
    month: np.ndarray  # accrual month code
    receipt: np.ndarray  # receipt index of the order (-1: not received)
    version: np.ndarray | None  # config version code per line; None: the initial config
    row: np.ndarray  # the line's row in the events frame
    order_row: np.ndarray  # the order's first row (its order_type holds for every line)

    def take(self, index: np.ndarray) -> Self:
        """The lines at ``index``."""
        taken: dict[str, Any] = {f.name: _take(getattr(self, f.name), index) for f in fields(self)}
        return replace(self, **taken)


def _take(values: np.ndarray | None, index: np.ndarray) -> np.ndarray | None:
    return None if values is None else values[index]


@dataclass(frozen=True)
class Slot:
    """One reward slot (direct or team) of every earning line, before and after the caps."""

    reward_type: int  # DIRECT or TEAM
    beneficiary: np.ndarray  # dense user index, -1 none
    entry: np.ndarray  # bool: the slot posts a reward entry
    kind: np.ndarray  # that entry's kind code
    rate: np.ndarray | int  # bp
    gross: np.ndarray  # fen on the entry (0 when BLOCKED_DEPTH)
    gen_dist: np.ndarray | None  # on the entry (None: not recorded)
    pay: np.ndarray  # bool: a COMMISSION with a positive gross
    want: np.ndarray  # fen left for the monthly cap by R4.5 (paying slots; 0 elsewhere)
    credit: np.ndarray  # fen credited after the monthly cap (R4.6)
    rank: np.ndarray | None = None  # direct slot: the buyer's invitee rank
    uplift: np.ndarray | int = 0  # direct slot: the badge uplift (bp)
    rule: np.ndarray | None = None  # the line's rate override label code (-1 none; None: none)

    def payable(self) -> np.ndarray:
        """Fen payable before the caps (0 where the slot does not pay)."""
        return np.where(self.pay, self.gross, 0)
