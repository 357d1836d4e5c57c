"""Store = settle = fold on random streams delivered in batches with repeats (hypothesis)."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chainmall.referral import ApprovalConfig, ReferralConfig
from chainmall.referral.store import ReferralStore
from tests.referral.equality import assert_same
from tests.referral.referral_streams import (
    approval_streams,
    configs,
    sparse_ids,
    streams,
    text,
    with_entry_ids,
)
from tests.referral.store.deliveries import deliver, examples, expected

_programmes = itertools.count()


@examples(40)
@given(streams(), configs(), st.data())
def test_store_equals_settle(
    database_url: str, events: list[Any], config: ReferralConfig, data: Any
) -> None:
    """Batches with in-call repeats and re-deliveries of earlier events, reopened at random."""
    if data.draw(st.booleans(), label="text ids"):
        events = sparse_ids(events, text)
    check_store(database_url, with_entry_ids(events, config), config, data)


@examples(15)
@given(approval_streams(), configs(), st.data())
def test_store_equals_settle_with_approval(
    database_url: str, events: list[Any], config: ReferralConfig, data: Any
) -> None:
    """Streams whose decisions mostly name settled commissions, under manual approval."""
    config = config.replace(approval=ApprovalConfig(mode="manual"))
    check_store(database_url, with_entry_ids(events, config), config, data)


def check_store(database_url: str, events: list[Any], config: ReferralConfig, data: Any) -> None:
    """Deliver ``events`` in random batches with repeats and reopenings; store = settle."""
    programme = f"prop{next(_programmes)}"
    store = ReferralStore.open(database_url, config, programme=programme)
    batch: list[int] = []
    for i in range(len(events)):
        batch.append(i)
        if data.draw(st.integers(0, 4)) == 0:  # deliver an earlier event (or this one) again
            batch.append(data.draw(st.integers(0, i)))
        if i == len(events) - 1 or data.draw(st.integers(0, 3)) == 0:
            if data.draw(st.integers(0, 5)) == 0:  # a new process picks up the programme
                store.close()
                store = ReferralStore.open(database_url, programme=programme)
            deliver(store, events, batch, typed=data.draw(st.booleans()))
            batch = []
    want = expected(events, config)
    assert_same(store.settlement(), want)
    assert store.head().root == want.merkle_root().hex()
    accounts = store.balances().set_index("user_id")
    for column in (
        "pending_fen",
        "awaiting_approval_fen",
        "available_fen",
        "receivable_fen",
        "withdrawn_fen",
    ):
        got = accounts[column].reindex(want.balances["user_id"], fill_value=0)
        assert got.tolist() == want.balances[column].astype("int64").tolist()
    report = store.audit()
    assert report.clean, report.problems
    store.close()
