"""The result of a settlement run, the same from the fold and the batch path.

:class:`Settlement` holds frames only; ledger records, entry ids and the Merkle
root are computed on request (hashing tens of millions of entries takes longer
than settling them, so it is a separate, measured step). :func:`balances_of`
derives every account from the entries alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from chainmall.ledger import Ledger, merkle_root
from chainmall.referral._batch.kernels import Limits, codes_in_place, row_chunks
from chainmall.referral.config import ReferralConfig
from chainmall.referral.records import KINDS, iter_records, leaf_hashes, record_dict

__all__ = ["Settlement", "balances_of"]


def balances_of(entries: pd.DataFrame, limits: Limits | None = None) -> pd.DataFrame:
    """Per-user accounts (fen) derived from the entries, sorted by ``user_id``.

    ``pending`` = commissions − reversals − settled; ``available`` = settled −
    netted − clawed back − withdrawn; ``receivable`` = what the user owes after
    claw-backs exceeded the available balance. Every user with an entry has a
    row, also those with zero-amount entries only.
    """
    limits = limits or Limits()
    cell = entries["user_id"].to_numpy(dtype=np.int64, copy=True)
    users = codes_in_place(cell, limits)
    cell *= len(KINDS)  # (user, kind) cells, in place
    cell += pd.Categorical(entries["kind"], categories=pd.Index(list(KINDS))).codes
    shape = (len(users), len(KINDS))
    amount = _sum_by(cell, entries["amount_fen"], shape, limits)
    recv = _sum_by(cell, entries["receivable_fen"], shape, limits)
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


def _sum_by(
    cell: np.ndarray, column: pd.Series, shape: tuple[int, int], limits: Limits
) -> np.ndarray:
    """Exact int64 sums of ``column`` (nulls count 0) per flat ``cell`` code, as a table.

    Read a chunk of rows at a time, so the temporaries stay small.
    """
    total = np.zeros(shape[0] * shape[1], dtype=np.int64)
    for rows in row_chunks(len(cell), limits):
        np.add.at(total, cell[rows], column.iloc[rows].to_numpy(np.int64, na_value=0))
    return total.reshape(shape)


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
        """Inviter and team edges as a ``networkx.DiGraph`` (child -> parent).

        Nodes are user ids with ``status``; edges carry ``kind`` ``"inviter"``
        (immutable referral), ``"team"`` (current 2+1 team parent) or both.
        """
        import networkx as nx

        graph = nx.DiGraph()
        users = self.users
        for row in users.itertuples(index=False):
            graph.add_node(row.user_id, status=row.status)
        for kind, col in (("inviter", "inviter_id"), ("team", "team_parent_id")):
            sub = users[users[col].notna()]
            for child, parent in zip(sub["user_id"].tolist(), sub[col].tolist(), strict=True):
                if graph.has_edge(child, parent):
                    graph.edges[child, parent]["kind"] = "inviter+team"
                else:
                    graph.add_edge(child, parent, kind=kind)
        return graph
