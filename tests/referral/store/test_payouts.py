"""The payout loop of "Run a programme": approved requests to a payment provider, safe to rerun."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from chainmall.exceptions import DataValidationError
from chainmall.referral import (
    ReferralConfig,
    ReferralStore,
    WithdrawalApproved,
    WithdrawalFailed,
    WithdrawalPaid,
    WithdrawalRequested,
)
from tests.referral.store.conftest import OpenStore
from tests.referral.store.story import golden


class Provider:
    """A payment provider that pays each idempotency key once (as real ones do)."""

    def __init__(self, refuse: frozenset[Any] = frozenset()) -> None:
        self.paid: dict[str, int] = {}
        self.calls = 0
        self.refuse = refuse

    def transfer(self, key: str, user: Any, fen: int) -> bool:
        self.calls += 1
        if user in self.refuse:
            return False
        self.paid.setdefault(key, fen)
        return True


def pay_out(store: ReferralStore, provider: Provider, now: datetime) -> None:
    """Pay every approved request; each outcome is stored under the request's event id."""
    for w in store.withdrawals(status="APPROVED").itertuples():
        key = f"payout:{w.request_id}"
        ok = provider.transfer(key, w.user_id, w.amount_fen - w.fee_fen)
        event = (WithdrawalPaid if ok else WithdrawalFailed)(0, now, w.request_id)
        store.ingest([(key, event)])


def funded(open_store: OpenStore) -> tuple[ReferralStore, Any, datetime]:
    """X has 2,000 fen available (B's 10,000 order settled); two approved requests of X's."""
    config = ReferralConfig(refund_window_days=3, refund_processing_days=1)
    shop = golden(text=True)
    received = shop.receive(shop.pay("B", 10_000))
    store = open_store(config)
    store.ingest(shop.pairs)
    now = received + timedelta(days=4)
    store.tick(now)
    x = shop.users["X"]
    for request, fen in (("WR-1", 1_200), ("WR-2", 500)):
        store.ingest([(f"request:{request}", WithdrawalRequested(0, now, x, request, fen))])
        store.ingest([(f"approve:{request}", WithdrawalApproved(0, now, request))])
    return store, x, now


def test_the_payout_loop_pays_each_request_once(open_store: OpenStore) -> None:
    store, x, now = funded(open_store)
    assert store.withdrawals("APPROVED")["request_id"].tolist() == ["WR-1", "WR-2"]
    provider = Provider()
    pay_out(store, provider, now)
    pay_out(store, provider, now)  # a second run finds nothing approved
    assert provider.calls == 2 and provider.paid == {"payout:WR-1": 1_200, "payout:WR-2": 500}
    assert store.withdrawals("PAID")["request_id"].tolist() == ["WR-1", "WR-2"]
    e = store.entries()
    assert e[e["kind"] == "WITHDRAW_PAID"]["amount_fen"].tolist() == [-1_200, -500]
    balance = store.balances().set_index("user_id").loc[x]
    assert (balance["available_fen"], balance["reserved_fen"]) == (300, 0)
    assert balance["withdrawn_fen"] == 1_700
    assert store.audit().clean


def test_a_crash_between_provider_and_store_is_paid_once(open_store: OpenStore) -> None:
    store, x, now = funded(open_store)
    provider = Provider()
    first = store.withdrawals("APPROVED").iloc[0]
    provider.transfer(f"payout:{first.request_id}", x, int(first.amount_fen))  # then a crash
    pay_out(store, provider, now)  # the rerun pays it again under the same key
    assert provider.paid == {"payout:WR-1": 1_200, "payout:WR-2": 500}
    assert len(store.withdrawals("PAID")) == 2 and store.withdrawals("APPROVED").empty


def test_a_refused_transfer_returns_the_funds(open_store: OpenStore) -> None:
    store, x, now = funded(open_store)
    pay_out(store, Provider(refuse=frozenset({x})), now)
    assert store.withdrawals("FAILED")["request_id"].tolist() == ["WR-1", "WR-2"]
    balance = store.balances().set_index("user_id").loc[x]
    assert (balance["available_fen"], balance["reserved_fen"], balance["withdrawn_fen"]) == (
        2_000,
        0,
        0,
    )
    with pytest.raises(DataValidationError, match="status must be one of"):
        store.withdrawals("SENT")
