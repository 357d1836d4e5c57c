"""fold = batch: the equality check every referral test stream goes through.

The batch path switches algorithm at size thresholds (:class:`Limits`) and on
the shape of the ids (contiguous or not, integers or text); the check runs it
under thresholds lowered both ways, with threads, and on the same stream with
sparse and with text ids, so every switch is taken on small streams too. It also
checks the fold's running accounts against the balances derived from the ledger.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from chainmall.ledger import Ledger
from chainmall.referral import (
    ReferralConfig,
    Settlement,
    events_from_frame,
    events_to_frame,
    settle,
)
from chainmall.referral._batch.kernels import Limits
from chainmall.referral._batch.settle import settle_frame
from chainmall.referral.frame import read_frame
from chainmall.referral.records import iter_records, ledger_root
from chainmall.referral.rules import ReferralState, run_fold
from chainmall.referral.rules.stream import event_ids, settlement_of
from chainmall.referral.versions import version_registry
from tests.referral.referral_streams import sparse_ids, text, with_entry_ids

SORTING = Limits(chunk_rows=2, dense_slots=0, dense_extra=0, sparse_extra=-(10**9))
"""Thresholds that send every size switch of the batch path to its large-log side."""
COUNTING = Limits(chunk_rows=5, dense_extra=10**9, sparse_extra=10**9)
"""Thresholds that send every size switch to its counting-table side."""


def check_fold_equals_batch(
    events: list[Any], config: ReferralConfig, versions: dict[str, ReferralConfig] | None = None
) -> Settlement:
    """fold = batch under every threshold setting and with threads, on plain and sparse ids."""
    for ids in (events, sparse_ids(events), sparse_ids(events, text)):
        stream = with_entry_ids(ids, config, versions)
        frame = events_to_frame(stream)
        registry = version_registry(config, versions)
        typed = events_from_frame(frame)
        state, records = run_fold(typed, config, versions)
        slow = settlement_of(state, records, registry, given=event_ids(typed))
        fast = settle(frame, config, versions)
        assert_same(slow, fast)
        assert_accounts(state, fast)
        for limits in (SORTING, COUNTING):
            assert_same(fast, settle_frame(read_frame(frame), registry, limits=limits))
        assert_same(fast, settle(frame, config, versions, threads=2))
        check_ledger_bytes(fast, records)
    return settle(events_to_frame(with_entry_ids(events, config, versions)), config, versions)


def assert_same(slow: Settlement, fast: Settlement) -> None:
    pd.testing.assert_frame_equal(slow.entries, fast.entries, check_categorical=False)
    pd.testing.assert_frame_equal(slow.relation_changes, fast.relation_changes)
    pd.testing.assert_frame_equal(slow.users, fast.users)
    pd.testing.assert_frame_equal(slow.rejected, fast.rejected)
    pd.testing.assert_frame_equal(slow.balances, fast.balances)
    assert slow.energy is not None and fast.energy is not None
    pd.testing.assert_frame_equal(slow.energy, fast.energy)


def assert_accounts(state: ReferralState, result: Settlement) -> None:
    """The fold's running accounts equal the balances derived from the ledger."""
    balances = result.balances.set_index("user_id")
    accounts = {
        "pending_fen": state.pending,
        "available_fen": state.available,
        "reserved_fen": state.reserved,
        "receivable_fen": state.receivable,
        "withdrawn_fen": state.withdrawn,
        "awaiting_approval_fen": state.awaiting,
    }
    for column, running in accounts.items():
        users = set(balances.index) | {u for u, v in running.items() if v}
        for user in users:
            derived = int(balances[column].get(user, 0))
            assert running.get(user, 0) == derived, (column, user)


def check_ledger_bytes(fast: Settlement, records: list[dict[str, Any]]) -> None:
    root = fast.merkle_root()
    assert ledger_root(fast.entries, chunk_rows=4) == root  # chunk roots combine
    assert [e for e, _ in fast.iter_ledger()] == [
        e for e, _ in iter_records(fast.entries, chunk_rows=3)
    ]  # references across chunk boundaries
    assert [r["entry_id"] for r in records] == fast.entry_ids()
    assert Ledger.from_records(records).root() == root
