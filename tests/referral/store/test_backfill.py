"""Bulk backfill = ingesting the same events one by one, table for table (hypothesis).

The oracle is the fold: a programme backfilled through the batch path and one fed
the same stream through ``ingest`` (in batches, with repeats) must hold the same
rows in every table of the store, and the same head. The inviter forest's
``shortcut`` column is a path-compression cache, so it is compared by what it
means: the root each member's shortcuts lead to and the inviter steps to it.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from chainmall.exceptions import DataValidationError, StoreError
from chainmall.referral import (
    ApprovalConfig,
    Bound,
    CommissionApproved,
    Hold,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    RefundSucceeded,
    Registered,
    SettlementTick,
)
from chainmall.referral.store import ReferralStore, schema
from chainmall.referral.store.database import connect
from tests.referral.equality import assert_same
from tests.referral.referral_streams import (
    APPROVALS,
    START,
    approval_streams,
    configs,
    sparse_ids,
    streams,
    text,
    versions_of,
    with_entry_ids,
)
from tests.referral.store.deliveries import as_frame, deliver, event_id, examples, expected

_programmes = itertools.count()
STATE_TABLES = [t for t in schema.TABLES if t not in (schema.programmes, schema.heads)]
HEAD_COLUMNS = (
    "last_seq",
    "last_tick_ns",
    "n_entries",
    "n_relations",
    "n_points",
    "n_activations",
    "frontier",
    "root",
)


def tables(url: str, programme: str) -> dict[str, pd.DataFrame]:
    """Every table's rows of ``programme``, sorted (``ingested_at`` left out, shortcuts
    replaced by the root and steps they lead to), the head's columns and the id kinds."""
    engine = connect(url)
    out = {}
    try:
        with engine.connect() as conn:
            for table in [*STATE_TABLES, schema.heads, schema.programmes]:
                columns = [c for c in table.c if c.name not in ("programme_id", "ingested_at")]
                rows = conn.execute(select(*columns).where(table.c.programme_id == programme))
                frame = pd.DataFrame(rows.all(), columns=[c.name for c in columns])
                if table is schema.members:
                    frame["shortcut"] = resolved_shortcuts(frame)
                if table is schema.heads:
                    frame = frame[list(HEAD_COLUMNS)]
                if table is schema.programmes:  # the kinds, in whatever order first seen
                    frame = frame[["id_kinds"]].map(lambda t: sorted(json.loads(t).items()))
                frame = frame.astype(object).where(frame.notna(), None)
                key = list(frame.columns)
                frame = frame.sort_values(key, key=lambda c: c.map(repr)).reset_index(drop=True)
                out[table.name] = frame
    finally:
        engine.dispose()
    return out


def resolved_shortcuts(members: pd.DataFrame) -> list[Any]:
    """Per member: ``(root, steps)`` reached by following its shortcuts (None: no inviter)."""
    shortcut = {
        u: None if pd.isna(s) else json.loads(s)
        for u, s in zip(members["user_id"], members["shortcut"], strict=True)
    }
    out = []
    for user in members["user_id"]:
        node, steps, link = user, 0, shortcut[user]
        while link is not None:
            node, steps = str(link[0]), steps + link[1]
            link = shortcut.get(node)
        out.append(None if node == user else (node, steps))
    return out


def assert_same_tables(url: str, a: str, b: str) -> None:
    left, right = tables(url, a), tables(url, b)
    for name, frame in left.items():
        pd.testing.assert_frame_equal(frame, right[name], obj=name)


def open_pair(url: str, config: ReferralConfig, versions: dict[str, ReferralConfig] | None) -> Any:
    names = [f"bf{next(_programmes)}" for _ in range(2)]
    return [ReferralStore.open(url, config, versions, programme=p) for p in names]


def drawn(events: list[Any], config: ReferralConfig, data: Any) -> list[Any]:
    if data.draw(st.booleans(), label="text ids"):
        events = sparse_ids(events, text)
    return with_entry_ids(events, config)


def ingest_in_batches(store: ReferralStore, events: list[Any], start: int, data: Any) -> None:
    """Deliver events ``start..`` in random batches, with repeats of any earlier event."""
    batch: list[int] = []
    for i in range(start, len(events)):
        batch.append(i)
        if data.draw(st.integers(0, 4)) == 0:
            batch.append(data.draw(st.integers(0, i)))
        if i == len(events) - 1 or data.draw(st.integers(0, 3)) == 0:
            deliver(store, events, batch, typed=data.draw(st.booleans()))
            batch = []


def check_oracle(url: str, events: list[Any], config: ReferralConfig, data: Any, **kw: Any) -> None:
    """Backfill = ingest, table for table."""
    bulk, folded = open_pair(url, config, kw.get("versions"))
    ids = [event_id(i) for i in range(len(events))]
    if data.draw(st.booleans(), label="typed"):
        bulk.backfill(list(zip(ids, events, strict=True)))
    else:
        bulk.backfill(as_frame(events, ids))
    ingest_in_batches(folded, events, 0, data)
    assert_same_tables(url, bulk.programme, folded.programme)
    bulk.close()
    folded.close()


@examples(15)
@given(streams(), configs(), st.data())
def test_backfill_equals_ingest(
    database_url: str, events: list[Any], config: ReferralConfig, data: Any
) -> None:
    check_oracle(database_url, drawn(events, config, data), config, data)


@examples(8)
@given(approval_streams(), configs(), st.data())
def test_backfill_equals_ingest_with_approval(
    database_url: str, events: list[Any], config: ReferralConfig, data: Any
) -> None:
    """Commissions settled, declined, approved by hand or by a later tick, refunded meanwhile."""
    config = config.replace(approval=data.draw(st.sampled_from(APPROVALS[1:])))
    check_oracle(database_url, with_entry_ids(events, config), config, data)


@examples(8)
@given(streams(), configs().flatmap(lambda c: st.tuples(st.just(c), versions_of(c))), st.data())
def test_backfill_equals_ingest_with_versions(
    database_url: str, events: list[Any], drawn_configs: Any, data: Any
) -> None:
    config, versions = drawn_configs
    events = with_entry_ids(events, config, versions)
    check_oracle(database_url, events, config, data, versions=versions)


@pytest.mark.slow
@examples(150)
@given(streams(max_events=120), configs(), st.data())
def test_backfill_equals_ingest_slow(
    database_url: str, events: list[Any], config: ReferralConfig, data: Any
) -> None:
    check_oracle(database_url, drawn(events, config, data), config, data)


@examples(10)
@given(streams(), configs(), st.data())
def test_backfill_then_ingest_equals_settle(
    database_url: str, events: list[Any], config: ReferralConfig, data: Any
) -> None:
    """A backfilled prefix, then the rest with re-deliveries of backfilled ids: = settle."""
    events = drawn(events, config, data)
    k = data.draw(st.integers(0, len(events)), label="backfilled")
    store = ReferralStore.open(database_url, config, programme=f"bf{next(_programmes)}")
    ids = [event_id(i) for i in range(k)]
    store.backfill(as_frame(events[:k], ids) if k else [])
    ingest_in_batches(store, events, k, data)
    want = expected(events, config)
    assert_same(store.settlement(), want)
    assert store.head().root == want.merkle_root().hex()
    report = store.audit()
    assert report.clean, report.problems
    store.close()


def test_duplicates_inside_the_backfill(open_store: Any) -> None:
    """A repeated row is delivered once (reported duplicate); another payload is a conflict."""
    store = open_store()
    events = [
        Registered(0, START, 1),
        OrderPaid(0, START, 10, 1, (OrderLine(100, 5_000),)),
    ]
    frame = as_frame(events, ["r1", "o1"])
    frame = pd.concat([frame, frame.iloc[[1]], frame.iloc[[0]].assign(user_id=2)])
    report = store.backfill(frame)
    got = report.outcomes.set_index(["event_id", "delivery"])["seq"].to_dict()
    assert got == {
        ("r1", "new"): 1,
        ("o1", "new"): 2,
        ("o1", "duplicate"): 2,
        ("r1", "conflict"): 1,
    }
    assert report.rejected.empty
    assert store.event_log()["event_id"].tolist() == ["r1", "o1"]
    again = store.ingest(frame.iloc[:2])
    assert again.outcomes["delivery"].tolist() == ["duplicate", "duplicate"]


def test_backfill_refuses_a_programme_with_events(open_store: Any) -> None:
    store = open_store()
    store.ingest([("r1", Registered(0, START, 1))])
    with pytest.raises(StoreError, match="already has 1 events"):
        store.backfill([("r2", Registered(0, START, 2))])
    assert store.event_log()["event_id"].tolist() == ["r1"]


def test_backfill_refuses_bad_input_and_stores_nothing(open_store: Any) -> None:
    store = open_store()
    events = [Registered(0, START, 1), OrderPaid(0, START, 10, 1, (OrderLine(100, 5_000),))]
    frame = as_frame(events, ["r1", "o1"])
    frame["amount_fen"] = frame["amount_fen"].astype(float) + 0.37  # yuan-like floats
    with pytest.raises(DataValidationError, match="amount_fen"):
        store.backfill(frame)
    assert store.event_log().empty
    assert store.head().size == 0
    store.backfill(as_frame(events, ["r1", "o1"]))  # still empty: the corrected history goes in
    assert store.event_log()["event_id"].tolist() == ["r1", "o1"]


def test_backfilled_store_continues_after_reopening(database_url: str) -> None:
    """A new process reads the loaded rows back (nothing is replayed) and goes on."""
    programme = f"bf{next(_programmes)}"
    store = ReferralStore.open(database_url, ReferralConfig(), programme=programme)
    events = [
        Registered(0, START, 1),
        Registered(0, START, 2),
        dataclasses.replace(OrderPaid(0, START, 10, 1, (OrderLine(100, 5_000),))),
    ]
    store.backfill(as_frame(events, ["a", "b", "c"]))
    store.close()
    again = ReferralStore.open(database_url, programme=programme)
    report = again.ingest(
        [("c", events[2]), ("d", OrderPaid(0, START, 11, 2, (OrderLine(101, 10),)))]
    )
    assert report.outcomes["delivery"].tolist() == ["duplicate", "new"]
    assert again.audit().clean
    again.close()


def assert_backfill_equals_ingest(
    database_url: str, events: list[Any], config: ReferralConfig
) -> tuple[ReferralStore, ReferralStore]:
    """Backfill one programme with ``events``, ingest them one call each into another."""
    bulk, folded = open_pair(database_url, config, None)
    pairs = [(event_id(i), e) for i, e in enumerate(events)]
    bulk.backfill(pairs)
    for pair in pairs:
        folded.ingest([pair])
    assert_same_tables(database_url, bulk.programme, folded.programme)
    return bulk, folded


def paid_and_received(day: int = 0) -> list[Any]:
    """Member 1 invites 2; 2's order (line 100, 10,000 fen) is received on ``day``."""
    at = START + timedelta(days=day)
    return [
        Registered(0, START, 1),
        Registered(0, START, 2),
        Bound(0, START, 2, 1),
        OrderPaid(0, START, 10, 1, (OrderLine(90, 1_000),)),
        OrderPaid(0, at, 11, 2, (OrderLine(100, 10_000),)),
        OrderReceived(0, at, 11),
    ]


def test_held_commissions_stay_queued(database_url: str) -> None:
    """A hold at the due tick keeps the commission in the settlement queue (R11)."""
    config = ReferralConfig(refund_window_days=3, refund_processing_days=1)
    later = START + timedelta(days=10)
    events = [*paid_and_received(), Hold(0, later, 1), SettlementTick(0, later)]
    bulk, _ = assert_backfill_equals_ingest(database_url, events, config)
    assert len(tables(database_url, bulk.programme)["referral_settle_queue"]) == 1


@pytest.mark.parametrize("auto", [False, True])
def test_approval_of_a_fully_refunded_commission(database_url: str, auto: bool) -> None:
    """Awaiting, refunded in full, then approved (by hand or by a later tick): nothing
    moves, but the approval writes the member's accounts (0 fen) and ends the wait."""
    approval = ApprovalConfig(auto_after_days=1) if auto else ApprovalConfig(mode="manual")
    config = ReferralConfig(refund_window_days=3, refund_processing_days=1, approval=approval)
    later = START + timedelta(days=10)
    events = [
        *paid_and_received(),
        SettlementTick(0, later),
        RefundSucceeded(0, later + timedelta(hours=1), 500, 100, 10_000),
    ]
    commission = expected(events, config).entry_ids()[0]
    decide = SettlementTick(0, later + timedelta(days=2))
    if not auto:
        decide = CommissionApproved(0, later + timedelta(hours=2), (commission,), "ops-1")
    bulk, _ = assert_backfill_equals_ingest(database_url, [*events, decide], config)
    members = tables(database_url, bulk.programme)["referral_members"].set_index("user_id")
    assert members.loc["1", "available_fen"] == 0
