"""The result of a settlement run, shared by the batch path and the fold.

:class:`Settlement` holds frames only; ledger records, entry ids and the Merkle
root are computed on request (hashing tens of millions of entries takes longer
than settling them, so it is a separate, measured step).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from chainmall.ledger import Ledger, merkle_root
from chainmall.referral.config import ReferralConfig
from chainmall.referral.events import MISSING
from chainmall.referral.records import (
    INT_FIELDS,
    KINDS,
    REWARD_TYPES,
    iter_records,
    leaf_hashes,
    record_dict,
)

__all__ = ["Settlement"]

STATUS = ("REGISTERED", "MEMBER", "BOSS", "BANNED")
REASONS = ("JOIN", "SLIDE", "BREAKAWAY")


def _nullable(values: np.ndarray) -> pd.Series:
    """Int64 series with <NA> where ``values`` holds the MISSING sentinel (no copy of values)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pd.Series(pd.arrays.IntegerArray(values, values == MISSING), copy=False)


def entries_frame(
    columns: dict[str, np.ndarray], months: list[str], versions: Sequence[str]
) -> pd.DataFrame:
    """The public entries frame from int64 arrays (MISSING for null) and category codes.

    ``kind`` codes index :data:`KINDS`, ``reward_type`` codes :data:`REWARD_TYPES`,
    ``month`` codes ``months`` (-1 = null) and ``config_version`` codes
    ``versions`` (no such column: every entry has ``versions[0]``).
    """
    data: dict[str, Any] = {}
    for name in INT_FIELDS:
        values = columns[name]
        data[name] = _nullable(values)
    for name, categories in (("kind", KINDS), ("reward_type", REWARD_TYPES), ("month", months)):
        codes = columns[name]
        data[name] = pd.Series(
            pd.Categorical.from_codes(codes, categories=pd.Index(list(categories)))
        )
    data["ref_pos"] = _nullable(columns["ref_pos"])
    codes = columns.get("config_version", np.zeros(len(data["ref_pos"]), dtype=np.int8))
    data["config_version"] = pd.Series(
        pd.Categorical.from_codes(codes, categories=pd.Index(list(versions)))
    )
    order = ["seq", "kind", "user_id", "reward_type", "amount_fen"]
    rest = [c for c in data if c not in order]
    return pd.DataFrame({c: data[c] for c in order + rest}, copy=False)


def users_frame(
    user_ids: np.ndarray,
    fields: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Per-user relation state (dense arrays indexed like ``user_ids``; -1 = none)."""
    never = np.iinfo(np.int64).max

    def ids(index: np.ndarray) -> pd.Series:
        return _nullable(np.where(index >= 0, user_ids[np.maximum(index, 0)], MISSING))

    def seqs(values: np.ndarray) -> pd.Series:
        return _nullable(np.where(values == never, MISSING, values))

    status = np.where(
        fields["ban_seq"] != never,
        3,
        np.where(fields["boss_seq"] != never, 2, np.where(fields["member_seq"] != never, 1, 0)),
    )
    rank = fields["rank"].astype(np.int64, copy=False)  # MISSING needs int64
    return pd.DataFrame(
        {
            "user_id": pd.Series(user_ids, dtype="int64"),
            "status": pd.Categorical.from_codes(status, categories=pd.Index(list(STATUS))),
            "inviter_id": ids(fields["inviter"]),
            "team_parent_id": ids(fields["team_parent"]),
            "invitee_rank": _nullable(np.where(rank > 0, rank, MISSING)),
            "registered_seq": seqs(fields["reg_seq"]),
            "bound_seq": seqs(fields["bind_seq"]),
            "member_seq": seqs(fields["member_seq"]),
            "boss_seq": seqs(fields["boss_seq"]),
            "banned_seq": seqs(fields["ban_seq"]),
        }
    )


def relations_frame(
    user_ids: np.ndarray,
    seq: np.ndarray,
    user: np.ndarray,
    source: np.ndarray,
    target: np.ndarray,
    reason: np.ndarray,
) -> pd.DataFrame:
    """Relation log frame from dense arrays (-1 = platform); reason codes index REASONS."""

    def ids(index: np.ndarray) -> pd.Series:
        return _nullable(np.where(index >= 0, user_ids[np.maximum(index, 0)], MISSING))

    return pd.DataFrame(
        {
            "seq": pd.Series(seq, dtype="int64"),
            "user_id": pd.Series(user_ids[user], dtype="int64"),
            "from_parent": ids(source),
            "to_parent": ids(target),
            "reason": pd.Categorical.from_codes(reason, categories=pd.Index(list(REASONS))),
        }
    )


def rejected_frame(seq: list[int], kind: list[str], reason: list[str]) -> pd.DataFrame:
    """Rejected events: seq, type, reason (sorted by seq)."""
    frame = pd.DataFrame(
        {
            "seq": pd.Series(seq, dtype="int64"),
            "type": pd.Series(kind, dtype=object),
            "reason": pd.Series(reason, dtype=object),
        }
    )
    return frame.sort_values("seq", kind="stable").reset_index(drop=True)


def balances_of(entries: pd.DataFrame) -> pd.DataFrame:
    """Per-user accounts derived from the entries (fen), sorted by ``user_id``.

    ``pending`` = commissions - reversals - settled; ``available`` = settled -
    netted - clawed back - withdrawn; ``receivable`` = what the user owes after
    claw-backs exceeded the available balance. Every user with an entry has a
    row, also those with zero-amount entries only.
    """
    cell = entries["user_id"].to_numpy(dtype=np.int64, copy=True)
    users = _codes_in_place(cell)
    cell *= len(KINDS)  # (user, kind) cells, in place
    cell += pd.Categorical(entries["kind"], categories=pd.Index(list(KINDS))).codes
    shape = (len(users), len(KINDS))
    amount = _sum_by(cell, entries["amount_fen"], shape)
    recv = _sum_by(cell, entries["receivable_fen"], shape)
    a = {k: amount[:, i] for i, k in enumerate(KINDS)}
    r = {k: recv[:, i] for i, k in enumerate(KINDS)}
    return pd.DataFrame(
        {
            "user_id": users,
            "pending_fen": a["COMMISSION"] + a["REVERSAL"] - a["SETTLE"],
            "available_fen": a["SETTLE"]
            + r["SETTLE"]
            + a["CLAWBACK"]
            + r["CLAWBACK"]
            + a["WITHDRAWAL"],
            "receivable_fen": r["SETTLE"] + r["CLAWBACK"],
            "withdrawn_fen": -a["WITHDRAWAL"],
            "credited_fen": a["COMMISSION"] + a["REVERSAL"] + a["CLAWBACK"],
        }
    )


def _codes_in_place(values: np.ndarray) -> np.ndarray:
    """Replace int64 ``values`` by their codes in the sorted uniques, and return those.

    Dense values (the usual user ids) take a counting pass instead of a sort.
    """
    dense = dense_span(values)
    if dense is not None:
        lo, span = dense
        values -= lo
        present = np.bincount(values, minlength=span) > 0
        code_of = np.cumsum(present) - 1
        for rows in row_chunks(len(values)):
            values[rows] = code_of[values[rows]]
        return np.flatnonzero(present) + lo
    codes, uniques = pd.factorize(values, sort=True)
    values[:] = codes
    return np.asarray(uniques)


def _sum_by(cell: np.ndarray, column: pd.Series, shape: tuple[int, int]) -> np.ndarray:
    """Exact int64 sums of ``column`` (nulls count 0) per flat ``cell`` code, as a table.

    Read a chunk of rows at a time, so the temporaries stay small.
    """
    size = shape[0] * shape[1]
    total = np.zeros(size, dtype=np.int64)
    for rows in row_chunks(len(cell)):
        np.add.at(total, cell[rows], column.iloc[rows].to_numpy(np.int64, na_value=0))
    return total.reshape(shape)


CHUNK_ROWS = 1 << 20
"""Rows per chunk of the passes that gather or sum large columns: small temporaries."""


def dense_span(values: np.ndarray) -> tuple[int, int] | None:
    """``(min, max - min + 1)`` of int ``values`` when a counting pass over it is cheap.

    Cheap: at most about 4 slots per value. None otherwise, or when ``values`` is empty.
    """
    if not len(values):
        return None
    lo, hi = int(values.min()), int(values.max())
    return (lo, hi - lo + 1) if hi - lo + 1 <= 4 * len(values) + 1024 else None


def row_chunks(n: int) -> list[slice]:
    """Slices of ``n`` rows, :data:`CHUNK_ROWS` at a time."""
    return [slice(lo, min(lo + CHUNK_ROWS, n)) for lo in range(0, n, CHUNK_ROWS)]


@dataclass(frozen=True)
class Settlement:
    """Ledger entries, relation log, users, balances and rejected events of one run.

    Attributes:
        entries: one row per ledger entry, in ledger order; money in fen;
            ``ref_pos`` is the row of the entry a reversal/settlement refers to (-1 none).
        relation_changes: the append-only team-tree log (JOIN / SLIDE / BREAKAWAY).
        users: per user: status, inviter, current team parent, invitee rank, seqs.
        balances: per beneficiary: pending, available, receivable, withdrawn, credited.
        rejected: events that changed nothing, with a reason.
        config: the initial configuration (its unlawful overrides, if any, are in
            ``compliance_overrides``; they are equal in every version).
        energy: the energy-point log (R10): ``seq, user_id, points, source, ref``;
            non-cash, never part of the money ledger.
        versions: every config by version label, the initial one first; each
            entry's ``config_version`` names the one it used.
    """

    entries: pd.DataFrame
    relation_changes: pd.DataFrame
    users: pd.DataFrame
    balances: pd.DataFrame
    rejected: pd.DataFrame
    config: ReferralConfig
    energy: pd.DataFrame | None = None
    versions: Mapping[str, ReferralConfig] = field(default_factory=dict)

    @property
    def compliance_overrides(self) -> tuple[str, ...]:
        """Unlawful settings that were explicitly allowed for this run (normally empty)."""
        return self.config.compliance_overrides

    def iter_ledger(self) -> Iterator[tuple[str, bytes]]:
        """``(entry_id, canonical record bytes)`` per entry, in ledger order."""
        return iter_records(self.entries)

    def records(self) -> list[dict[str, Any]]:
        """Ledger records (dicts) in order: what :class:`~chainmall.ledger.Ledger` stores."""
        return [dict(record_dict(raw)) for _, raw in self.iter_ledger()]

    def entry_ids(self) -> list[str]:
        """Content-hash id of every entry, in ledger order."""
        return [eid for eid, _ in self.iter_ledger()]

    def merkle_root(self) -> bytes:
        """RFC 6962 root of the ledger of all entries (32 bytes)."""
        return merkle_root(leaf_hashes(self.entries))

    def ledger(self) -> Ledger:
        """A :class:`~chainmall.ledger.Ledger` holding every record (for proofs)."""
        return Ledger.from_records(self.records())

    def to_networkx(self) -> Any:
        """Inviter and team edges as a ``networkx.DiGraph`` (child -> parent)."""
        from chainmall.referral.tree import to_networkx

        return to_networkx(self.users)
