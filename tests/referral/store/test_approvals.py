"""The store's commission approval: ``approve`` / ``decline`` ingest the decision events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chainmall.exceptions import DataValidationError
from chainmall.referral import ApprovalConfig, ReferralConfig, ReferralStore
from tests.referral.store.conftest import OpenStore
from tests.referral.store.story import golden

MANUAL = ReferralConfig(
    refund_window_days=3, refund_processing_days=1, approval=ApprovalConfig(mode="manual")
)


def waiting(open_store: OpenStore) -> tuple[ReferralStore, list[str], object]:
    """X's 2,000 fen (B's 10,000 order) and A's team share await approval after the tick."""
    shop = golden(text=True)
    received = shop.receive(shop.pay("B", 10_000))
    store = open_store(MANUAL)
    store.ingest(shop.pairs)
    now = received + timedelta(days=4)
    store.tick(now)
    e = store.entries()
    ids = e.loc[e["kind"] == "COMMISSION", "entry_id"].tolist()
    return store, ids, now


def test_approve_then_reopen_and_decline(open_store: OpenStore) -> None:
    store, ids, now = waiting(open_store)
    accounts = store.balances().set_index("user_id")
    assert accounts["awaiting_approval_fen"].sum() == 2_500
    assert accounts["available_fen"].sum() == 0
    report = store.approve([ids[0]], "ops-1", event_id="approve-1", at=now)
    assert report.rejected.empty
    again = store.approve([ids[0]], "ops-1", event_id="approve-1", at=now)  # re-delivery
    assert again.outcomes["delivery"].tolist() == ["duplicate"]
    store.close()
    store = open_store(MANUAL)  # a new process: the approval state is read from the tables
    bulk = store.approve([ids[1], "nope"], "ops-1", event_id="approve-2", at=now)
    assert bulk.rejected["outcome"].tolist() == ["UNKNOWN_ENTRY"]
    store.decline([ids[1]], "ring", "ops-2", event_id="decline-1", at=now)
    kinds = store.entries()["kind"].tolist()
    assert kinds[-2:] == ["APPROVE", "DECLINE"]
    accounts = store.balances()
    assert accounts["awaiting_approval_fen"].sum() == 0
    assert accounts["available_fen"].sum() == 2_000
    assert store.audit().clean
    store.close()


def test_entry_ids_must_be_a_list_of_texts(open_store: OpenStore) -> None:
    store, ids, now = waiting(open_store)
    with pytest.raises(DataValidationError, match="entry_ids"):
        store.approve(ids[0], "ops-1", event_id="approve-1", at=now)
    store.close()
