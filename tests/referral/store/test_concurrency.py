"""Two writers ingesting one stream at once still apply each event exactly once.

Each writer has its own store object, engine and connections (as two processes
would): SQLite serialises them by its write lock, PostgreSQL and MariaDB by the
row lock on the programme's head. They take the stream's batches from one queue,
as two consumers of an order system's feed do, and each batch repeats the end of
the one before (a re-delivery), so their calls overlap, interleave and race for
the same event ids.
"""

from __future__ import annotations

import itertools
import queue
import threading

import numpy as np
import pandas as pd

from chainmall.datasets.synthetic import make_shop
from chainmall.referral import ReferralConfig, events_from_shop, settle
from chainmall.referral.store import ReferralStore

_programmes = itertools.count()
BATCH, REPEATED = 20, 5  # events per call; events of the previous call delivered again


def _batches() -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """A small shop's events with ids ``e<seq>``, and its overlapping calls (no ``seq``)."""
    shop = make_shop(seed=3, n_members=120, months=2, orders_per_member=3.0, refund_rate=0.1)
    frame = events_from_shop(shop)
    frame.insert(0, "event_id", "e" + frame["seq"].astype(str))
    seqs = frame["seq"].drop_duplicates().to_numpy()
    calls = [
        frame[frame["seq"].isin(seqs[max(0, first - REPEATED) : first + BATCH])]
        for first in range(0, len(seqs), BATCH)
    ]
    return frame, [c.drop(columns="seq") for c in calls]


def _writer(
    url: str, programme: str, feed: queue.Queue[pd.DataFrame], start: threading.Barrier
) -> list[pd.DataFrame]:
    """Open the programme and ingest calls from ``feed`` until it is empty."""
    store = ReferralStore.open(url, ReferralConfig(), programme=programme)
    outcomes = []
    start.wait()
    while True:
        try:
            call = feed.get_nowait()
        except queue.Empty:
            break
        outcomes.append(store.ingest(call).outcomes)
    store.close()
    return outcomes


def test_two_concurrent_writers_apply_every_event_once(database_url: str) -> None:
    frame, calls = _batches()
    programme = f"concurrent{next(_programmes)}"
    ReferralStore.open(database_url, ReferralConfig(), programme=programme).close()
    feed: queue.Queue[pd.DataFrame] = queue.Queue()
    for call in calls:
        feed.put(call)
    start = threading.Barrier(2)
    results: dict[int, list[pd.DataFrame]] = {}
    errors: list[BaseException] = []

    def run(writer: int) -> None:
        try:
            results[writer] = _writer(database_url, programme, feed, start)
        except BaseException as error:  # re-raised below, in the test's thread
            errors.append(error)
            start.abort()

    threads = [threading.Thread(target=run, args=(writer,)) for writer in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors
    assert all(not thread.is_alive() for thread in threads)

    outcomes = pd.concat([o for mine in results.values() for o in mine], ignore_index=True)
    n_events = frame["event_id"].nunique()
    new = outcomes[outcomes["delivery"] == "new"]
    assert len(new) == n_events and new["event_id"].is_unique  # each applied by one call
    assert set(outcomes["delivery"]) <= {"new", "duplicate"}
    assert outcomes.groupby("event_id")[["seq", "outcome"]].nunique().eq(1).all().all()
    applied = [sum(int((o["delivery"] == "new").sum()) for o in results[w]) for w in (0, 1)]
    assert min(applied) > 0, applied  # the writers interleaved (else this tests nothing)

    store = ReferralStore.open(database_url, ReferralConfig(), programme=programme)
    log = store.event_log()
    assert sorted(log["event_id"]) == sorted(frame["event_id"].unique())
    np.testing.assert_array_equal(log["seq"], np.arange(1, n_events + 1))
    assert store.audit().clean  # the ledger is the stored log's, in the order it was applied
    assert store.head().root == settle(store.events(), ReferralConfig()).merkle_root().hex()
    store.close()
