"""The store's promises on small hand-built programmes: exactly once, atomic, durable.

Every programme here is spec §4.5's tree (A a BOSS; X joined A; X's invitees B,
C, D joined in that order, so B and C slid to A and X broke away), so a reader
sees the money: B pays 10,000 fen, X earns the direct 2,000 (rank 1, 2000 bp)
and A the team 500 (500 bp, two inviter steps up).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest

from chainmall.exceptions import ComplianceConfigError, ConfigError, DataValidationError
from chainmall.referral import (
    Bound,
    MonthClose,
    OrderLine,
    ReferralConfig,
    Registered,
)
from chainmall.referral.rules import apply_event
from chainmall.referral.store import ReferralStore
from tests.referral.equality import assert_same
from tests.referral.store.conftest import OpenStore
from tests.referral.store.deliveries import as_frame
from tests.referral.store.story import (
    SETTLE_DELAY,
    STORY_ACCOUNTS,
    STORY_LEDGER,
    accounts,
    assert_equals_reference,
    golden,
    ledger,
    new_programme,
    snapshot,
    story,
)


@pytest.mark.parametrize("text", [False, True], ids=["int-ids", "text-ids"])
def test_story_money_to_the_fen(open_store: OpenStore, text: bool) -> None:
    shop = story(text=text)
    store = open_store()
    report = store.ingest(shop.pairs)
    assert report.rejected.empty and report.conflicts.empty
    assert ledger(store, shop) == STORY_LEDGER
    assert accounts(store, shop) == STORY_ACCOUNTS
    assert_equals_reference(store, shop, ReferralConfig())


def test_order_lines_repeated_in_one_frame_are_paid_once(open_store: OpenStore) -> None:
    shop = golden()
    store = open_store()
    store.ingest(shop.pairs)
    order = shop.pay("B", 10_000, 5_000)
    event_id, event = shop.pairs[-1]
    frame = as_frame([event], [event_id])
    report = store.ingest(pd.concat([frame, frame], ignore_index=True))  # l1 l2 l1 l2

    mine = report.outcomes[report.outcomes["event_id"] == f"pay:{order}"]
    assert mine["delivery"].tolist() == ["new", "duplicate", "duplicate"]
    assert mine["outcome"].unique().tolist() == ["ACCEPTED"]
    assert mine["seq"].nunique() == 1
    assert report.entries == 4  # X 2,000 + 1,000 direct; A 500 + 250 team
    assert accounts(store, shop) == {"X": (3_000, 0, 0, 0), "A": (750, 0, 0, 0)}
    stored = store.events()
    assert stored["line_id"].dropna().tolist()[-2:] == shop.lines[order]
    assert_equals_reference(store, shop, ReferralConfig())


@pytest.mark.parametrize("typed", [True, False], ids=["pairs", "frame"])
def test_redelivery_in_a_later_call_is_a_no_op(open_store: OpenStore, typed: bool) -> None:
    shop = golden()
    shop.pay("B", 10_000)
    shop.bind("C", "C")  # rejected: BIND_SELF
    store = open_store()
    first = store.ingest(shop.pairs)
    before = snapshot(store)

    again = shop.pairs[-3:]
    ids = [event_id for event_id, _ in again]
    report = store.ingest(again if typed else as_frame([e for _, e in again], ids))

    assert report.outcomes["delivery"].tolist() == ["duplicate"] * 3
    stored = first.outcomes.set_index("event_id").loc[ids]
    assert report.outcomes["seq"].tolist() == stored["seq"].tolist()
    assert report.outcomes["outcome"].tolist() == stored["outcome"].tolist()
    assert report.outcomes["outcome"].iloc[-1] == "BIND_SELF"
    assert report.entries == 0 and report.rejected.empty
    assert report.head == first.head
    assert snapshot(store) == before


def test_an_event_first_stored_from_a_frame_is_a_duplicate_as_a_typed_event(
    open_store: OpenStore,
) -> None:
    shop = golden()
    shop.pay("B", 10_000, 5_000)
    shop.bind("C", "C")  # rejected: BIND_SELF
    local = timezone(timedelta(hours=8))  # the same instants in another zone
    again = [(i, dataclasses.replace(e, ts=e.ts.astimezone(local))) for i, e in shop.pairs]
    store = open_store()
    first = store.ingest(as_frame([e for _, e in shop.pairs], [i for i, _ in shop.pairs]))
    before = snapshot(store)

    report = store.ingest(again)

    assert report.outcomes["delivery"].tolist() == ["duplicate"] * len(again)
    assert report.outcomes["seq"].tolist() == first.outcomes["seq"].tolist()
    assert report.entries == 0 and report.head == first.head
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("event", "names"),
    [
        (Registered(0, datetime(2025, 3, 9, tzinfo=UTC), 99), []),
        (MonthClose(0, datetime(2025, 3, 9, tzinfo=UTC), 202503), ["month=202503", "text"]),
        (Bound(0, datetime(2025, 3, 9, tzinfo=UTC), 99, "X"), ["inviter_id", "one type"]),
        (Registered(0, datetime(9999, 1, 1, tzinfo=UTC), 99), ["ts=", "2262-04-11"]),
    ],
    ids=["good", "label-not-text", "mixed-id-types", "ts-out-of-range"],
)
def test_typed_events_get_the_checks_of_a_frame(
    open_store: OpenStore, event: Any, names: list[str]
) -> None:
    shop = golden()
    store = open_store()
    store.ingest(shop.pairs)
    before = snapshot(store)
    if not names:
        assert store.ingest([("late", event)]).outcomes["outcome"].tolist() == ["ACCEPTED"]
        return
    with pytest.raises(DataValidationError) as caught:
        store.ingest([("late", event)])
    for name in names:
        assert name in str(caught.value)
    assert snapshot(store) == before


def test_redelivery_with_another_payload_is_a_conflict(open_store: OpenStore) -> None:
    shop = golden()
    order = shop.pay("B", 10_000)
    store = open_store()
    store.ingest(shop.pairs)
    before = snapshot(store)
    event_id, event = shop.pairs[-1]
    changed = dataclasses.replace(event, lines=(OrderLine(shop.lines[order][0], 99_900),))

    report = store.ingest([(event_id, changed)])

    assert report.conflicts["event_id"].tolist() == [event_id]
    assert report.conflicts["outcome"].tolist() == ["ACCEPTED"]  # the stored event's
    assert report.entries == 0
    assert snapshot(store) == before
    assert accounts(store, shop) == {"X": (2_000, 0, 0, 0), "A": (500, 0, 0, 0)}
    paid = store.events().query("type == 'ORDER_PAID'")
    assert paid["amount_fen"].iloc[-1] == 10_000  # the stored payload stands


def test_conflicting_events_in_one_call_keep_the_first(open_store: OpenStore) -> None:
    shop = golden()
    store = open_store()
    store.ingest(shop.pairs)
    first = Registered(0, shop.now, 77)
    other = Registered(0, shop.now, 78)
    report = store.ingest([("reg:new", first), ("reg:new", other)])

    assert report.outcomes["delivery"].tolist() == ["new", "conflict"]
    assert report.outcomes["seq"].nunique() == 1
    assert store.events()["user_id"].iloc[-1] == 77


def test_withdrawal_delivered_twice_is_paid_once(open_store: OpenStore) -> None:
    shop = golden()
    order = shop.pay("B", 10_000)
    shop.receive(order)
    shop.tick(shop.now + SETTLE_DELAY)
    shop.now += SETTLE_DELAY
    store = open_store()
    store.ingest(shop.pairs)
    assert accounts(store, shop)["X"] == (0, 2_000, 0, 0)

    shop.withdraw("X", 500)
    withdrawal = shop.pairs[-1]
    shop.user("E", "X")
    registered, bound = shop.pairs[-2:]
    first = store.ingest([withdrawal, registered, withdrawal])  # in-call repeat, other position
    later = store.ingest([bound, withdrawal])  # a later call, another position again

    assert first.outcomes["delivery"].tolist() == ["new", "new", "duplicate"]
    assert later.outcomes["delivery"].tolist() == ["new", "duplicate"]
    assert accounts(store, shop)["X"] == (0, 1_500, 0, 500)
    kinds = store.member_entries(shop.users["X"])["kind"].tolist()
    assert kinds.count("WITHDRAWAL") == 1
    assert_equals_reference(store, shop, ReferralConfig())


# -- atomicity ------------------------------------------------------------------------


def _float_money(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(amount_fen=frame["amount_fen"].astype("float64"))


def _naive_ts(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(ts=frame["ts"].dt.tz_localize(None))


def _empty_event_id(frame: pd.DataFrame) -> pd.DataFrame:
    ids = frame["event_id"].tolist()
    ids[1] = ""
    return frame.assign(event_id=ids)


@pytest.mark.parametrize(
    ("spoil", "names"),
    [
        (_float_money, ["amount_fen=10000.0", "integer fen", "pay:"]),
        (_naive_ts, ["ts=", "timezone-aware", "reg:E"]),
        (_empty_event_id, ["event_id", "rows [1]", "''"]),
    ],
    ids=["float-money", "naive-ts", "empty-event-id"],
)
def test_a_call_failing_the_boundary_checks_stores_nothing(
    open_store: OpenStore, spoil: Callable[[pd.DataFrame], pd.DataFrame], names: list[str]
) -> None:
    shop = golden()
    store = open_store()
    store.ingest(shop.pairs)
    before = snapshot(store)
    start = len(shop.pairs)
    shop.user("E", "X")
    shop.pay("B", 10_000)
    batch = shop.pairs[start:]
    frame = as_frame([e for _, e in batch], [i for i, _ in batch])

    with pytest.raises(DataValidationError) as caught:
        store.ingest(spoil(frame))

    for name in names:
        assert name in str(caught.value)
    assert snapshot(store) == before
    store.ingest(frame)  # the good frame still applies in full
    assert accounts(store, shop) == {"X": (2_000, 0, 0, 0), "A": (500, 0, 0, 0)}


class RuleFailure(RuntimeError):
    """An exception injected into the rules."""


def _fail_on(monkeypatch: pytest.MonkeyPatch, k: int) -> None:
    """Make the k-th event (1-based) the store applies raise inside the rules."""
    calls = itertools.count(1)

    def failing(*args: Any, **kwargs: Any) -> Any:
        if next(calls) == k:
            raise RuleFailure(f"injected failure at event {k}")
        return apply_event(*args, **kwargs)

    monkeypatch.setattr("chainmall.referral.store.store.apply_event", failing)


@pytest.mark.parametrize("k", [1, 7, 10])
def test_a_rule_exception_rolls_the_whole_call_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch, k: int
) -> None:
    """Events before the failing one changed the cached state; none of it survives."""
    shop = story()
    head, rest = shop.pairs[:14], shop.pairs[14:]
    assert k <= len(rest)
    config = ReferralConfig()
    failed = ReferralStore.open(database_url, config, programme=new_programme())
    failed.ingest(head)
    before = snapshot(failed)

    _fail_on(monkeypatch, k)
    with pytest.raises(RuleFailure):
        failed.ingest(rest)
    monkeypatch.undo()

    assert snapshot(failed) == before
    retry = failed.ingest(rest)
    assert retry.outcomes["delivery"].eq("new").all()
    untouched = ReferralStore.open(database_url, config, programme=new_programme())
    untouched.ingest(head)
    untouched.ingest(rest)
    assert snapshot(failed) == snapshot(untouched)
    assert accounts(failed, shop) == STORY_ACCOUNTS
    assert_same(failed.settlement(), untouched.settlement())
    assert_equals_reference(failed, shop, config)


def test_a_failed_first_call_leaves_no_id_kind_behind(
    open_store: OpenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rolled-back call with text ids does not make the programme a text-id one."""
    store = open_store()
    _fail_on(monkeypatch, 2)
    with pytest.raises(RuleFailure):
        store.ingest(golden(text=True).pairs)
    monkeypatch.undo()

    shop = golden()
    shop.pay("B", 10_000)
    report = store.ingest(shop.pairs)
    assert report.outcomes["seq"].min() == 1
    assert accounts(store, shop) == {"X": (2_000, 0, 0, 0), "A": (500, 0, 0, 0)}


# -- the shop's own ids -----------------------------------------------------------------


def test_text_ids_end_to_end(open_store: OpenStore) -> None:
    shop = story(text=True)
    store = open_store()
    store.ingest(shop.pairs)

    assert accounts(store, shop) == STORY_ACCOUNTS
    x = shop.users["X"]
    mine = store.member_entries(x)
    assert mine["user_id"].eq(x).all()
    assert set(mine["kind"]) == {"COMMISSION", "REVERSAL", "SETTLE", "WITHDRAWAL"}
    commissions = mine[mine["kind"] == "COMMISSION"]
    assert commissions["order_id"].tolist() == [shop.orders["B"][-1], shop.orders["D"][-1]]
    assert commissions["amount_fen"].tolist() == [2_000, 2_000]
    reversal = mine[mine["kind"] == "REVERSAL"]
    assert reversal["refund_id"].tolist() == ["RF000001"]
    assert reversal["amount_fen"].tolist() == [-500]
    assert_equals_reference(store, shop, ReferralConfig())


@pytest.mark.parametrize(("first_text", "got"), [(False, "text"), (True, "int")])
def test_a_programme_keeps_the_type_of_its_ids(
    open_store: OpenStore, first_text: bool, got: str
) -> None:
    shop = golden(text=first_text)
    store = open_store()
    store.ingest(shop.pairs)
    before = snapshot(store)
    user: Any = 99 if first_text else "oUpF8uMuAJO_M2pxb1Q9zNjW0099"

    with pytest.raises(DataValidationError) as caught:
        store.ingest([("reg:Z", Registered(0, shop.now, user))])

    message = str(caught.value)
    had = "text" if first_text else "int"
    assert f"events.user_id gives {got} user ids, but programme" in message
    assert f"has {had} ones" in message
    assert snapshot(store) == before


# -- reopening --------------------------------------------------------------------------


def test_reopening_continues_where_it_stopped(database_url: str) -> None:
    shop = story()
    config = ReferralConfig()
    half = len(shop.pairs) // 2
    programme = new_programme()
    store = ReferralStore.open(database_url, config, programme=programme)
    store.ingest(shop.pairs[:half])
    store.close()
    store = ReferralStore.open(database_url, programme=programme)  # no config: the stored one
    assert store.config == config
    store.ingest(shop.pairs[half:])

    whole = ReferralStore.open(database_url, config, programme=new_programme())
    whole.ingest(shop.pairs)
    assert store.head() == whole.head()
    pd.testing.assert_frame_equal(store.balances(), whole.balances())
    assert_same(store.settlement(), whole.settlement())
    assert_equals_reference(store, shop, config)


def test_reopening_with_another_config_is_refused(open_store: OpenStore) -> None:
    open_store(ReferralConfig()).close()
    open_store(ReferralConfig()).close()  # the same config is fine
    with pytest.raises(ConfigError, match="created with another config"):
        open_store(ReferralConfig(team_rate_bp=400))


@pytest.mark.parametrize(
    "update",
    [
        {"max_depth_genealogical": 3},
        {"max_payout_ratio_bp": 12_000},
        {"cap_refill_on_refund": True},
    ],
    ids=["depth", "payout-ratio", "cap-refill"],
)
def test_a_config_past_a_legal_limit_is_refused_at_open(
    database_url: str, update: dict[str, Any]
) -> None:
    programme = new_programme()
    unchecked = ReferralConfig().model_copy(update=update)
    with pytest.raises(ComplianceConfigError, match=next(iter(update))):
        ReferralStore.open(database_url, unchecked, programme=programme)
    with pytest.raises(ConfigError, match="does not exist"):  # nothing was created
        ReferralStore.open(database_url, programme=programme)


def test_opening_a_missing_programme_without_config_is_refused(database_url: str) -> None:
    programme = new_programme()
    with pytest.raises(ConfigError, match=f"programme '{programme}' does not exist yet"):
        ReferralStore.open(database_url, programme=programme)


def test_programmes_in_one_database_are_isolated(database_url: str) -> None:
    """The same event ids in two programmes; B pays 10,000 in one and 30,000 in the other."""
    config = ReferralConfig()
    shops, stores = [], []
    for amount in (10_000, 30_000):
        shop = golden()
        shop.pay("B", amount)
        store = ReferralStore.open(database_url, config, programme=new_programme())
        report = store.ingest(shop.pairs)
        assert report.outcomes["delivery"].eq("new").all()
        shops.append(shop)
        stores.append(store)

    assert shops[0].pairs[-1][0] == shops[1].pairs[-1][0]
    assert accounts(stores[0], shops[0]) == {"X": (2_000, 0, 0, 0), "A": (500, 0, 0, 0)}
    assert accounts(stores[1], shops[1]) == {"X": (6_000, 0, 0, 0), "A": (1_500, 0, 0, 0)}
    for store, shop in zip(stores, shops, strict=True):
        assert_equals_reference(store, shop, config)


# -- tick -------------------------------------------------------------------------------


def test_tick_settles_what_is_due_once(open_store: OpenStore) -> None:
    config = ReferralConfig(refund_window_days=3, refund_processing_days=1)
    shop = golden()
    order = shop.pay("B", 10_000)
    received = shop.receive(order)
    store = open_store(config)
    store.ingest(shop.pairs)
    due = received + timedelta(days=4)

    early = store.tick(due - timedelta(seconds=1))
    assert early.entries == 0
    assert accounts(store, shop) == {"X": (2_000, 0, 0, 0), "A": (500, 0, 0, 0)}

    on_time = store.tick(due)
    assert on_time.entries == 2  # one SETTLE entry per commission
    assert accounts(store, shop) == {"X": (0, 2_000, 0, 0), "A": (0, 500, 0, 0)}
    before = snapshot(store)
    same_instant = due.astimezone(timezone(timedelta(hours=8)))
    for again in (due, same_instant):
        report = store.tick(again)
        assert report.outcomes["delivery"].tolist() == ["duplicate"]
        assert report.entries == 0
    assert snapshot(store) == before
    log = store.event_log()
    assert log["event_id"].str.startswith("tick:").sum() == 2


def test_a_missed_tick_catches_up_as_daily_ticks_do(open_store: OpenStore) -> None:
    """A scheduler that skipped days settles the same commissions, with the same accounts."""
    config = ReferralConfig(refund_window_days=3, refund_processing_days=1)
    shop = golden()
    for buyer, day in (("B", 0), ("D", 1), ("B", 2)):
        shop.now += timedelta(days=day)
        shop.receive(shop.pay(buyer, 10_000))
    start, days = shop.now, 8
    daily, late = open_store(config), open_store(config, programme=new_programme())
    for store in (daily, late):
        store.ingest(shop.pairs)
    for day in range(1, days + 1):
        daily.tick(start + timedelta(days=day))
    late.tick(start + timedelta(days=days))

    def settled(store: ReferralStore) -> list[tuple[object, ...]]:
        e = store.entries()
        rows = e[e["kind"] == "SETTLE"][["user_id", "line_id", "amount_fen"]]
        return sorted(map(tuple, rows.astype(object).to_numpy().tolist()))

    assert settled(daily) == settled(late) and len(settled(late)) == 5
    assert accounts(daily, shop) == accounts(late, shop)


def test_tick_refuses_a_naive_datetime(open_store: OpenStore) -> None:
    store = open_store()
    store.ingest(golden().pairs)
    before = snapshot(store)
    with pytest.raises(DataValidationError, match="timezone-aware"):
        store.tick(datetime(2025, 4, 1))
    assert snapshot(store) == before


def test_a_frame_mixing_id_types_or_repeating_a_column_is_refused(
    open_store: OpenStore,
) -> None:
    store = open_store()
    before = snapshot(store)
    frame = as_frame(golden(text=True).events[:2], ["reg:a", "reg:b"])
    mixed = frame.assign(user_id=pd.array([7, "oText"], dtype=object))
    with pytest.raises(DataValidationError, match=r"events\.user_id mixes text and integer ids"):
        store.ingest(mixed)
    with pytest.raises(DataValidationError, match=r"repeated column\(s\) \['ts'\]"):
        store.ingest(pd.concat([frame, frame[["ts"]]], axis=1))
    assert snapshot(store) == before
