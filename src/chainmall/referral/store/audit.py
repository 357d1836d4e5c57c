"""``ReferralStore.audit``: replay the event log through ``settle`` and compare.

The stored event log is the source of truth; the ledger, the relations and the
accounts are derived from it. An audit proves the derivation: it replays every
stored event (with its stored ``seq``) through the vectorised batch path and
compares, with what the store holds,

- every entry, in ledger order (ids, fields), and each stored leaf hash with the
  hash of its stored record (an edited row shows here);
- the Merkle root: of the stored leaves, in the head row, and of the replay;
- the members' materialised accounts with the replay's balances;
- the relation log, the users, the energy log and each event's outcome.

It raises nothing on a clean store; the report lists what differs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, select

from chainmall.ledger import merkle_root
from chainmall.referral._batch.settle import settle
from chainmall.referral.config import ReferralConfig
from chainmall.referral.store import reads, schema
from chainmall.referral.store.entries import leaf_of, record_of
from chainmall.referral.store.mapping import IdKinds

__all__ = ["AuditReport", "audit"]


@dataclass(frozen=True)
class AuditReport:
    """The result of an audit: ``clean`` when ``problems`` is empty; roots in hex."""

    clean: bool
    problems: tuple[str, ...]
    events: int
    entries: int
    root: str
    replay_root: str
    seconds: float


def audit(
    conn: Connection, programme: str, ids: IdKinds, registry: dict[str, ReferralConfig]
) -> AuditReport:
    """Compare the store with a replay of its event log (see the module docs)."""
    start = time.perf_counter()
    problems: list[str] = []
    frame = reads.events_frame(conn, programme)
    labels = list(registry)
    replay = settle(frame, registry[labels[0]], {k: registry[k] for k in labels[1:]})
    stored = reads.settlement(conn, programme, ids, registry)
    for name in ("entries", "relation_changes", "users", "rejected", "energy"):
        try:
            pd.testing.assert_frame_equal(
                getattr(stored, name), getattr(replay, name), check_categorical=False
            )
        except AssertionError as exc:
            problems.append(f"{name} differ from the replay: {str(exc).splitlines()[0]}")
    leaves = _checked_leaves(conn, programme, ids, problems)
    root = merkle_root(leaves).hex()
    head = reads.head(conn, programme)
    replay_root = replay.merkle_root().hex()
    if head.root != root or head.size != len(leaves):
        problems.append(f"head {head} does not match the stored leaves (root {root})")
    if root != replay_root:
        problems.append(f"stored Merkle root {root} differs from the replay's {replay_root}")
    _compare_accounts(reads.balances(conn, programme, ids), replay.balances, problems)
    _check_log(conn, programme, frame, problems)
    return AuditReport(
        clean=not problems,
        problems=tuple(problems),
        events=int(frame["seq"].nunique()) if len(frame) else 0,
        entries=len(leaves),
        root=root,
        replay_root=replay_root,
        seconds=time.perf_counter() - start,
    )


def _checked_leaves(
    conn: Connection, programme: str, ids: IdKinds, problems: list[str]
) -> list[bytes]:
    """The stored leaf hashes; each one checked against its stored record."""
    e = schema.entries
    leaves = []
    edited = []
    for row in conn.execute(select(e).where(e.c.programme_id == programme).order_by(e.c.position)):
        leaf = bytes.fromhex(row.leaf_hash)
        if leaf_of(record_of(row, ids)) != leaf:
            edited.append(row.position)
        leaves.append(leaf)
    if edited:
        problems.append(f"entries at positions {edited[:10]} do not match their leaf hash (edited)")
    return leaves


def _check_log(conn: Connection, programme: str, frame: pd.DataFrame, problems: list[str]) -> None:
    """The event log holds every ``seq`` from 1 to the head's last one (none removed)."""
    h = schema.heads
    last = conn.execute(select(h.c.last_seq).where(h.c.programme_id == programme)).scalar()
    stored = set(frame["seq"].astype("int64").tolist()) if len(frame) else set()
    missing = sorted(set(range(1, (last or 0) + 1)) - stored)
    if missing:
        shown = ", ".join(str(seq) for seq in missing[:10])
        problems.append(f"events missing from the log: seq {shown} ({len(missing)} in all)")


def _compare_accounts(accounts: pd.DataFrame, replay: pd.DataFrame, problems: list[str]) -> None:
    """Materialised accounts equal the replay's balances (users absent from one: all zero)."""
    columns = [
        "pending_fen",
        "available_fen",
        "reserved_fen",
        "receivable_fen",
        "withdrawn_fen",
        "withheld_fen",
    ]
    left = accounts.set_index("user_id")[columns]
    right = replay.set_index("user_id")[columns].astype("int64")
    users = left.index.union(right.index)
    store = left.reindex(users, fill_value=0).to_numpy(dtype="int64")
    differ = users[
        (store != right.reindex(users, fill_value=0).to_numpy(dtype="int64")).any(axis=1)
    ]
    if len(differ):
        problems.append(f"accounts of users {list(differ[:10])} differ from the replay's balances")
