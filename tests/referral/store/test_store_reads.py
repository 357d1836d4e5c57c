"""What a store answers: the change feed, a member's entries, proofs, and its own audit."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pandas as pd
import pytest
from sqlalchemy import Connection, delete, update

from chainmall.exceptions import DataValidationError
from chainmall.referral.store import ReferralStore, schema
from chainmall.referral.store import database as store_database
from tests.referral.store.conftest import OpenStore
from tests.referral.store.story import STORY_LEDGER, Shop, story


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The rows as dicts, every missing value None (whatever the column's dtype)."""
    plain = frame.astype(object)
    return plain.where(plain.notna(), None).to_dict("records")


def test_the_change_feed_pages_without_gap_or_repeat(open_store: OpenStore) -> None:
    """Pages of 3 entries while other calls append entries between the pages."""
    shop = story()
    store = open_store()
    pending = [shop.pairs[i : i + 2] for i in range(0, len(shop.pairs), 2)]
    pages: list[pd.DataFrame] = []
    since = 0
    while pending or not pages or not pages[-1].empty:
        if pending:
            store.ingest(pending.pop(0))
        page = store.entries(since=since, limit=3)
        assert len(page) <= 3
        pages.append(page)
        if not page.empty:
            since = int(page["position"].iloc[-1]) + 1

    feed = pd.concat([p for p in pages if not p.empty], ignore_index=True)
    whole = store.entries()
    assert feed["position"].tolist() == list(range(len(STORY_LEDGER)))
    assert whole["entry_id"].is_unique
    assert _records(feed) == _records(whole)  # dtypes: the next test
    assert store.entries(since=len(STORY_LEDGER)).empty


def test_every_page_of_the_feed_has_the_same_dtypes(open_store: OpenStore) -> None:
    """A page's column dtypes do not depend on what it holds (all-None refs, no rows)."""
    store = open_store()
    store.ingest(story(text=True).pairs)
    whole = store.entries().dtypes.to_dict()
    for since in range(len(STORY_LEDGER) + 1):
        assert store.entries(since=since, limit=1).dtypes.to_dict() == whole, since


@pytest.mark.parametrize("text", [False, True], ids=["int-ids", "text-ids"])
def test_member_entries_by_the_shops_own_id(open_store: OpenStore, text: bool) -> None:
    shop = story(text=text)
    store = open_store()
    store.ingest(shop.pairs)
    whole = store.entries()
    for name in ("X", "A"):
        user = shop.users[name]
        mine = store.member_entries(user)
        expected = whole[whole["user_id"] == user].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, expected)
        amounts = [amount for _, who, amount in STORY_LEDGER if who == name]
        assert mine["amount_fen"].tolist() == amounts
    assert store.member_entries(shop.users["B"]).empty  # a buyer earns nothing


def test_every_entry_has_a_proof_and_a_tampered_record_fails_it(open_store: OpenStore) -> None:
    shop = story()
    store = open_store()
    store.ingest(shop.pairs[:-3])
    early = store.proof(store.entries()["entry_id"].iloc[0])
    store.ingest(shop.pairs[-3:])
    head = store.head()

    for entry_id in store.entries()["entry_id"]:
        proof = store.proof(entry_id)
        assert proof.head == head
        assert proof.record["entry_id"] == entry_id
        assert proof.verify()
        forged = {**proof.record, "amount_fen": proof.record["amount_fen"] + 1}
        assert not dataclasses.replace(proof, record=forged).verify()
    assert early.head.size < head.size and early.verify()  # still proves against its own head


def test_a_proof_of_an_unknown_entry_is_refused(open_store: OpenStore) -> None:
    store = open_store()
    store.ingest(story().pairs)
    with pytest.raises(DataValidationError, match="no ledger entry 'f00d'"):
        store.proof("f00d")


# -- audit ----------------------------------------------------------------------------

Tamper = Callable[[Connection, str, Shop], None]


def _edit_an_entry(conn: Connection, programme: str, shop: Shop) -> None:
    e = schema.entries
    conn.execute(
        update(e).where(e.c.programme_id == programme, e.c.position == 0).values(amount_fen=2_100)
    )


def _edit_a_balance(conn: Connection, programme: str, shop: Shop) -> None:
    m = schema.members
    conn.execute(
        update(m)
        .where(m.c.programme_id == programme, m.c.user_id == str(shop.users["X"]))
        .values(available_fen=m.c.available_fen + 100)
    )


def _delete_an_event(conn: Connection, programme: str, shop: Shop) -> None:
    e = schema.events
    paid_by_d = f"pay:{shop.orders['D'][-1]}"
    conn.execute(delete(e).where(e.c.programme_id == programme, e.c.event_id == paid_by_d))


def _position_0(store: ReferralStore, shop: Shop) -> str:
    return re.escape("entries at positions [0] do not match their leaf hash")


def _user_x(store: ReferralStore, shop: Shop) -> str:
    return re.escape(f"accounts of users [{shop.users['X']!r}] differ")


def _d_payment(store: ReferralStore, shop: Shop) -> str:
    """The deleted event, by its seq (a gap in the log) or its event id."""
    event_id = f"pay:{shop.orders['D'][-1]}"
    log = store.event_log()
    seq = int(log.loc[log["event_id"] == event_id, "seq"].iloc[0])
    return rf"\bseq {seq}\b|{re.escape(event_id)}"


@pytest.mark.parametrize(
    ("tamper", "naming"),
    [
        (_edit_an_entry, _position_0),
        (_edit_a_balance, _user_x),
        (_delete_an_event, _d_payment),
    ],
    ids=["entry-amount", "balance", "deleted-event"],
)
def test_audit_reports_a_tampered_row(
    database_url: str,
    open_store: OpenStore,
    tamper: Tamper,
    naming: Callable[[ReferralStore, Shop], str],
) -> None:
    shop = story()
    store = open_store()
    store.ingest(shop.pairs)
    clean = store.audit()
    assert clean.clean and clean.problems == ()
    assert clean.entries == len(STORY_LEDGER) and clean.root == store.head().root
    wanted = naming(store, shop)

    engine = store_database.connect(database_url)
    try:
        with engine.begin() as conn:
            tamper(conn, store.programme, shop)
    finally:
        engine.dispose()
    report = store.audit()  # raises nothing

    assert report.clean is False
    assert any(re.search(wanted, line) for line in report.problems), report.problems
    reopened = ReferralStore.open(database_url, programme=store.programme)
    assert reopened.audit().problems == report.problems
