"""The result of a settlement run, the same from the fold and the batch path.

:class:`Settlement` holds frames only; ledger records, entry ids and the Merkle
root are computed on request (hashing tens of millions of entries takes longer
than settling them, so it is a separate, measured step). :func:`balances_of`
derives every account from the entries alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from chainmall.ledger import Ledger, merkle_root
from chainmall.referral._batch.kernels import Limits, row_chunks
from chainmall.referral.config import ReferralConfig
from chainmall.referral.records import KINDS, iter_records, leaf_hashes, record_dict

__all__ = ["Settlement", "balances_of"]


_SUMMED = (
    ("amount_fen", "COMMISSION"),
    ("amount_fen", "REVERSAL"),
    ("amount_fen", "SETTLE"),
    ("amount_fen", "CLAWBACK"),
    ("amount_fen", "WITHDRAWAL"),
    ("amount_fen", "WITHDRAW_HOLD"),
    ("amount_fen", "WITHDRAW_RELEASE"),
    ("amount_fen", "WITHDRAW_PAID"),
    ("amount_fen", "WITHDRAW_FEE"),
    ("amount_fen", "ADJUSTMENT"),
    ("amount_fen", "WITHHOLDING"),
    ("amount_fen", "AWAIT_APPROVAL"),
    ("amount_fen", "APPROVE"),
    ("amount_fen", "DECLINE"),
    ("amount_fen", "AWAIT_REVERSAL"),
    ("receivable_fen", "SETTLE"),
    ("receivable_fen", "CLAWBACK"),
    ("receivable_fen", "WITHDRAW_RELEASE"),
    ("receivable_fen", "ADJUSTMENT"),
    ("receivable_fen", "APPROVE"),
)
"""The per-user sums the accounts are made of: (column, entry kind)."""


def balances_of(entries: pd.DataFrame, limits: Limits | None = None) -> pd.DataFrame:
    """Per-user accounts (fen) derived from the entries, sorted by ``user_id``.

    ``pending`` = commissions − reversals − settled (or settled into awaiting approval);
    ``awaiting_approval`` = settled commissions an operator has not yet approved
    (``ReferralConfig.approval``), less declines and refunds; ``available`` = settled −
    netted − clawed back − withdrawn − reserved + released ± adjusted;
    ``reserved`` = held for withdrawal requests not yet paid, rejected or failed;
    ``receivable`` = what the user owes after claw-backs or debits exceeded the
    available balance; ``withdrawn`` = paid out (one-step withdrawals, and the
    requested amount of paid requests, fee and tax included); ``withheld`` = the
    tax withheld at those payouts (``ReferralConfig.tax``); ``credited`` =
    commissions net of reversals and claw-backs, plus adjustments. Money is
    conserved: ``credited − withdrawn = pending + awaiting_approval + available + reserved −
    receivable``,
    where ``withdrawn`` = net payouts + fees + ``withheld``.
    Every user with an entry has a row, also those with zero-amount entries
    only. The entries are read a chunk of rows at a time; the sums are exact (int64).
    """
    limits = limits or Limits()
    users, code_of = _user_codes(entries["user_id"], limits)
    kinds = pd.Categorical(entries["kind"], categories=pd.Index(list(KINDS))).codes
    total = np.zeros((len(users), len(_SUMMED)), dtype=np.int64)
    for column in ("amount_fen", "receivable_fen"):
        slot = np.full(len(KINDS), -1, dtype=np.int64)  # kind code -> its sum, -1 none
        for i, (name, kind) in enumerate(_SUMMED):
            if name == column:
                slot[KINDS.index(kind)] = i
        for rows in row_chunks(len(entries), limits):
            s = slot[kinds[rows]]
            keep = s >= 0
            code = code_of(_ids(entries["user_id"], rows)[keep])
            values = entries[column].iloc[rows].to_numpy(np.int64, na_value=0)[keep]
            np.add.at(total, (code, s[keep]), values)
    a = {kind: total[:, i] for i, (name, kind) in enumerate(_SUMMED) if name == "amount_fen"}
    r = {kind: total[:, i] for i, (name, kind) in enumerate(_SUMMED) if name != "amount_fen"}
    receivable = (
        r["SETTLE"] + r["CLAWBACK"] + r["WITHDRAW_RELEASE"] + r["ADJUSTMENT"] + r["APPROVE"]
    )
    declined = a["DECLINE"] + a["AWAIT_REVERSAL"]
    direct = _direct_withholding(entries, kinds, code_of, len(users))
    return pd.DataFrame(
        {
            "user_id": users,
            "pending_fen": a["COMMISSION"] + a["REVERSAL"] - a["SETTLE"] - a["AWAIT_APPROVAL"],
            "awaiting_approval_fen": a["AWAIT_APPROVAL"] - a["APPROVE"] + declined,
            "available_fen": a["SETTLE"]
            + a["APPROVE"]
            + a["CLAWBACK"]
            + a["WITHDRAWAL"]
            + a["WITHDRAW_HOLD"]
            + a["WITHDRAW_RELEASE"]
            + a["ADJUSTMENT"]
            + direct
            + receivable,
            "reserved_fen": -a["WITHDRAW_HOLD"]
            - a["WITHDRAW_RELEASE"]
            + a["WITHDRAW_PAID"]
            + a["WITHDRAW_FEE"]
            + a["WITHHOLDING"]
            - direct,
            "receivable_fen": receivable,
            "withdrawn_fen": -a["WITHDRAWAL"]
            - a["WITHDRAW_PAID"]
            - a["WITHDRAW_FEE"]
            - a["WITHHOLDING"],
            "withheld_fen": -a["WITHHOLDING"],
            "credited_fen": a["COMMISSION"]
            + a["REVERSAL"]
            + a["CLAWBACK"]
            + a["ADJUSTMENT"]
            + declined,
        }
    )


def _direct_withholding(
    entries: pd.DataFrame, kinds: np.ndarray, code_of: Callable[[np.ndarray], np.ndarray], n: int
) -> np.ndarray:
    """Per user: the ``WITHHOLDING`` amounts of one-step ``WITHDRAWAL`` payouts (they leave
    ``available``; a paid request's withholding leaves ``reserved``)."""
    out = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero(kinds == KINDS.index("WITHHOLDING"))
    if not len(rows):
        return out
    ref = entries["ref_pos"].iloc[rows].to_numpy(np.int64, na_value=-1)
    direct = rows[(ref >= 0) & (kinds[ref] == KINDS.index("WITHDRAWAL"))]
    users = code_of(entries["user_id"].iloc[direct].to_numpy(np.int64))
    np.add.at(out, users, entries["amount_fen"].iloc[direct].to_numpy(np.int64))
    return out


def _ids(user_id: pd.Series, rows: slice) -> np.ndarray:
    """User ids of entries ``rows`` as int64."""
    return user_id.iloc[rows].to_numpy(np.int64)


def _user_codes(
    user_id: pd.Series, limits: Limits
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """The sorted distinct user ids, and a function coding ids by their position there.

    Dense ids (the usual case) are coded through a table over their range, read a
    chunk at a time; others through a sort of a full copy.
    """
    chunks = row_chunks(len(user_id), limits)
    span = None
    if chunks:  # the range, a chunk at a time (a reduction of the column would copy it)
        ends = [(int(c.min()), int(c.max())) for c in (_ids(user_id, rows) for rows in chunks)]
        lo, hi = min(e[0] for e in ends), max(e[1] for e in ends)
        cheap = hi - lo + 1 <= limits.dense_slots * len(user_id) + limits.dense_extra
        span = (lo, hi - lo + 1) if cheap else None
    if span is None:
        users = np.unique(user_id.to_numpy(np.int64))
        return users, lambda ids: np.searchsorted(users, ids)
    lo, size = span
    present = np.zeros(size, dtype=bool)
    for rows in chunks:
        present[_ids(user_id, rows) - lo] = True
    code = np.cumsum(present) - 1
    return np.flatnonzero(present) + lo, lambda ids: code[ids - lo]


@dataclass(frozen=True)
class Settlement:
    """Ledger entries, relation log, users, balances and rejected events of one run.

    Attributes:
        entries: one row per ledger entry, in ledger order; money in fen;
            ``ref_pos`` is the row of the entry a reversal/settlement refers to (-1 none).
        relation_changes: the append-only team-tree log (JOIN / SLIDE / BREAKAWAY).
        users: per user: status, inviter, current team parent, invitee rank, seqs.
        balances: per beneficiary: pending, available, reserved, receivable, withdrawn,
            withheld (tax), credited.
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
