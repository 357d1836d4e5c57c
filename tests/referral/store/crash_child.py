"""The crash test's child: deliver a seeded stream to a store, call by call, until killed.

    python crash_child.py URL SEED EVENTS

The child imports the library once, builds the stream (:func:`stream`) and its
delivery plan (:func:`calls`) from ``SEED``, prints ``ready``, and then serves runs,
one per line on stdin, ``PROGRAMME PROGRESS PASSES``: it forks a *writer* and prints
the writer's pid; the writer opens ``PROGRAMME`` in the database at ``URL`` and
delivers the whole plan from the start ``PASSES`` times (the parent uses 2 passes
once, to time new and re-delivered calls), one ``ingest`` per call, then exits.
The parent may SIGKILL the writer; either way it then sends a line (any text), and
the child reaps the writer and prints its exit code (``-9`` when killed). Until that
line the writer is not reaped, so its pid cannot be reused by another process
before the parent's kill. The child ends at the end of stdin.

Forking saves each run an interpreter start and the imports (a second of CPU);
the writer is a process of its own, with its own database connections (made after
the fork), so a kill is a crash as the database sees one.

``PROGRESS`` is a file the writer appends a line to at each step: ``STEP INDEX
SECONDS`` (seconds since the fork): ``open``, ``opened``, ``call I`` when call
``I`` (counted over the passes) starts, its events built, ``done I`` once ``ingest``
returned, and ``finished``; between ``done`` and the next ``call`` the writer
builds the next call's events, as an order system would. Lines are written unbuffered, so they survive a SIGKILL; the parent
reads them to tell where the kill landed.

The parent imports :func:`stream`, :func:`calls` and :data:`CONFIG` to know what
the store must hold.
"""

from __future__ import annotations

import os
import random
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from chainmall.referral import (
    Bound,
    Engagement,
    Hold,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    RefundSucceeded,
    Registered,
    Release,
    SettlementTick,
    UserBanned,
    Withdrawal,
)
from chainmall.referral.store import ReferralStore
from tests.referral.store.deliveries import as_frame, event_id

CONFIG = ReferralConfig(monthly_cap_fen=150_000)
"""The programme's rules: the default 2+1 with a monthly cap that binds (1,500 yuan)."""

START = datetime(2025, 3, 20, 8, tzinfo=UTC)
AMOUNTS = (0, 99, 3_333, 10_000, 25_000, 128_800, 400_000)
"""Line amounts in fen (0 is rejected)."""
WITHDRAWALS = (100, 1_000, 5_000, 20_000, 10**7)
"""Withdrawal amounts in fen (the last one exceeds every balance)."""


@dataclass
class _Shop:
    """What the stream has created so far (ids to draw the next events from)."""

    rng: random.Random
    now: datetime = START
    users: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    lines: list[tuple[int, int]] = field(default_factory=list)  # (line id, paid fen)
    refunds: int = 0

    def user_id(self) -> str:
        """A new member's text id (some not ASCII; text order is not creation order)."""
        i = len(self.users)
        return f"会员-{i}" if i % 7 == 3 else f"wx-{(i * 7_919) % 100_003:05x}-{i}"


def stream(seed: int, n_events: int) -> list[Any]:
    """``n_events`` typed events of one shop, ``seq`` 0 (the store numbers them).

    Members (text ids) register and bind, buy orders (text ids) of 1-3 lines
    (integer ids), receive them, get refunds (integer ids), withdraw, engage;
    settlement ticks move the clock. About a fifth are rejected by the rules
    (events repeated with new ids, over-refunds, withdrawals above the balance,
    binds that break the tree, ...).
    """
    shop = _Shop(random.Random(seed))
    events: list[Any] = []
    while len(events) < n_events:
        shop.now += timedelta(minutes=shop.rng.randrange(1, 240))
        events.extend(_next_events(shop, events))
    return events[:n_events]


def _next_events(shop: _Shop, events: list[Any]) -> list[Any]:
    """One step of the shop: a registration (and bind), an order, a refund, ..."""
    rng, now = shop.rng, shop.now
    users, orders, lines = shop.users, shop.orders, shop.lines
    r = rng.random()
    if r < 0.12 or len(users) < 5:
        user = shop.user_id()
        users.append(user)
        if len(users) == 1 or rng.random() < 0.15:
            return [Registered(0, now, user)]
        return [Registered(0, now, user), Bound(0, now, user, rng.choice(users[-30:-1]))]
    if r < 0.14:
        return [Bound(0, now, rng.choice(users), rng.choice(users))]
    if r < 0.48 or not orders:
        return [_order(shop)]
    if r < 0.64:
        return [OrderReceived(0, now, rng.choice(orders[-40:]))]
    if r < 0.74:
        line_id, paid = rng.choice(lines[-200:])
        portion = rng.choice((paid, paid // 2, paid // 3 + 1, paid + 1))
        shop.refunds += 1
        refund_id = shop.refunds if rng.random() > 0.05 else shop.refunds - 1
        return [RefundSucceeded(0, now, refund_id, line_id, portion)]
    if r < 0.82:
        return [Withdrawal(0, now, rng.choice(users), rng.choice(WITHDRAWALS))]
    if r < 0.90:
        shop.now += timedelta(days=rng.randrange(0, 6))
        return [SettlementTick(0, shop.now)]
    return [_rare(shop, events)]


def _order(shop: _Shop) -> OrderPaid:
    """A new order of 1-3 lines (one in fifty reuses an order id: rejected)."""
    rng, orders, lines = shop.rng, shop.orders, shop.lines
    order_id = f"SO-{len(orders):06d}" if rng.random() > 0.02 else rng.choice(orders)
    orders.append(order_id)
    order_lines = []
    for _ in range(rng.randint(1, 3)):
        paid = rng.choice(AMOUNTS)
        line_id = len(lines) + 1
        order_lines.append(OrderLine(line_id, paid, paid // 5 if rng.random() < 0.1 else 0))
        lines.append((line_id, paid))
    return OrderPaid(0, shop.now, order_id, rng.choice(shop.users), tuple(order_lines))


def _rare(shop: _Shop, events: list[Any]) -> Any:
    """A share, a comment, a hold or release, a ban, or a recent event sent again."""
    rng, now, users = shop.rng, shop.now, shop.users
    r = rng.random()
    if r < 0.35:
        return Engagement(0, now, rng.choice(users), "SHARE", rng.choice(("WECHAT", "APP")))
    if r < 0.6:
        line_id = rng.choice(shop.lines)[0]
        return Engagement(0, now, rng.choice(users), "COMMENT", None, line_id)
    if r < 0.7:
        return Hold(0, now, rng.choice(users))
    if r < 0.8:
        return Release(0, now, rng.choice(users))
    if r < 0.83:
        return UserBanned(0, now, rng.choice(users))
    return rng.choice(events[-50:])


def calls(seed: int, n_events: int) -> list[tuple[list[int], bool]]:
    """How the order system delivers the stream: ``(positions, typed)`` per ``ingest`` call.

    Calls take the next 1-50 events in order; about one event in twelve is followed
    by a repeat of itself or of one of the 100 before it (a duplicate inside the
    call, or a re-delivery of an earlier call's event). ``typed``: the call gives
    ``(event_id, event)`` pairs, else an events frame.
    """
    rng = random.Random(seed + 1)
    plan = []
    start = 0
    while start < n_events:
        end = min(n_events, start + rng.randint(1, 50))
        batch = []
        for position in range(start, end):
            batch.append(position)
            if rng.random() < 0.08:
                batch.append(rng.randint(max(0, position - 100), position))
        plan.append((batch, rng.random() < 0.5))
        start = end
    return plan


def main(argv: list[str]) -> None:
    """Serve runs as the module docs say."""
    url, seed, n_events = argv[0], int(argv[1]), int(argv[2])
    events = stream(seed, n_events)
    plan = calls(seed, n_events)
    _answer("ready")
    while line := sys.stdin.readline():
        programme, progress, passes = line.split()
        writer = os.fork()
        if writer == 0:
            _write(url, programme, events, plan, progress, int(passes))
        _answer(str(writer))
        sys.stdin.readline()  # the parent has killed the writer, or lets it finish
        _, status = os.waitpid(writer, 0)
        _answer(str(os.waitstatus_to_exitcode(status)))


def _delivery(events: list[Any], batch: list[int], typed: bool) -> Any:
    """What one call gives ``ingest``: the events at ``batch`` as id pairs or as a frame."""
    chosen = [events[i] for i in batch]
    ids = [event_id(i) for i in batch]
    return list(zip(ids, chosen, strict=True)) if typed else as_frame(chosen, ids)


def _answer(line: str) -> None:
    """A line to the parent (on stdout, at once)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _write(
    url: str,
    programme: str,
    events: list[Any],
    plan: list[tuple[list[int], bool]],
    progress_path: str,
    passes: int,
) -> NoReturn:
    """The writer (a forked process): deliver the plan ``passes`` times, noting each step."""
    started = time.monotonic()
    progress = os.open(progress_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def note(step: str, index: int = -1) -> None:
        os.write(progress, f"{step} {index} {time.monotonic() - started:.6f}\n".encode())

    try:
        note("open")
        store = ReferralStore.open(url, CONFIG, programme=programme)
        note("opened")
        for index in range(passes * len(plan)):
            given = _delivery(events, *plan[index % len(plan)])
            note("call", index)
            store.ingest(given)
            note("done", index)
        store.close()
        note("finished")
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
