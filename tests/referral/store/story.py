"""A hand-built programme whose money can be read off (spec §4.5's tree), for store tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from chainmall.referral import (
    Bound,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    RefundSucceeded,
    Registered,
    SettlementTick,
    Withdrawal,
)
from chainmall.referral.store import ReferralStore
from tests.referral.equality import assert_same
from tests.referral.store.deliveries import expected

T0 = datetime(2025, 3, 3, tzinfo=UTC)
SETTLE_DELAY = timedelta(days=14)  # the default refund window + processing days


class Shop:
    """A programme's events by name, as ``(event_id, event)`` pairs; money in fen.

    Users are letters. With ``text=True`` every id (user, order, line, refund) is
    text: WeChat-openid-like member ids and order numbers; else integers. The
    events' ``seq`` is 0: the store numbers them.
    """

    def __init__(self, *, text: bool = False) -> None:
        self.text = text
        self.pairs: list[tuple[str, Any]] = []
        self.users: dict[str, Any] = {}
        self.lines: dict[Any, list[Any]] = {}  # order -> its line ids
        self.orders: dict[str, list[Any]] = {}  # buyer name -> its orders
        self.now = T0
        self._counts = dict.fromkeys(("order", "line", "refund"), 0)

    @property
    def events(self) -> list[Any]:
        """The typed events, in delivery order."""
        return [event for _, event in self.pairs]

    def _new_id(self, kind: str) -> Any:
        if kind == "user":
            n = len(self.users) + 1
            return f"oUpF8uMuAJO_M2pxb1Q9zNjW{n:04d}" if self.text else n
        self._counts[kind] += 1
        n = self._counts[kind]
        if self.text:
            return {"order": f"SO2025{n:06d}", "line": f"SO2025-L{n:06d}", "refund": f"RF{n:06d}"}[
                kind
            ]
        return {"order": 100, "line": 1_000, "refund": 9_000}[kind] + n

    def _add(self, event_id: str, event: Any) -> None:
        self.pairs.append((event_id, event))
        self.now += timedelta(minutes=1)

    def user(self, name: str, inviter: str | None = None) -> None:
        self.users[name] = self._new_id("user")
        self._add(f"reg:{name}", Registered(0, self.now, self.users[name]))
        if inviter is not None:
            self.bind(name, inviter)

    def bind(self, name: str, inviter: str) -> None:
        bound = Bound(0, self.now, self.users[name], self.users[inviter])
        self._add(f"bind:{name}:{len(self.pairs)}", bound)

    def pay(self, name: str, *amounts: int) -> Any:
        """``name`` pays an order of lines of ``amounts`` fen; returns the order id."""
        order = self._new_id("order")
        lines = tuple(OrderLine(self._new_id("line"), amount) for amount in amounts)
        self.lines[order] = [line.line_id for line in lines]
        self.orders.setdefault(name, []).append(order)
        self._add(f"pay:{order}", OrderPaid(0, self.now, order, self.users[name], lines))
        return order

    def join(self, *names: str) -> None:
        """Each named user buys a 1-fen line: a MEMBER now; no commission (floor of 0.2 fen)."""
        for name in names:
            self.pay(name, 1)

    def receive(self, order: Any) -> datetime:
        """The buyer receives ``order`` now; returns the instant (the refund window starts)."""
        received = self.now
        self._add(f"recv:{order}", OrderReceived(0, received, order))
        return received

    def refund(self, line: Any, amount: int) -> None:
        refund = self._new_id("refund")
        self._add(f"refund:{refund}", RefundSucceeded(0, self.now, refund, line, amount))

    def tick(self, as_of: datetime) -> None:
        self._add(f"tick:{as_of.isoformat()}", SettlementTick(0, as_of))

    def withdraw(self, name: str, amount: int) -> None:
        event = Withdrawal(0, self.now, self.users[name], amount)
        self._add(f"withdraw:{name}:{len(self.pairs)}", event)


def golden(*, text: bool = False) -> Shop:
    """Spec §4.5's set-up: A a BOSS (P1, P2 joined it); X joined A; B, C, D joined X."""
    shop = Shop(text=text)
    shop.user("A")
    for name in ("P1", "P2", "X"):
        shop.user(name, "A")
    for name in ("B", "C", "D"):
        shop.user(name, "X")
    shop.join("A", "P1", "P2", "X", "B", "C", "D")
    return shop


def story(*, text: bool = False) -> Shop:
    """The golden tree, then orders, a refund, a settlement and a withdrawal.

    B pays 10,000: X 2,000 direct, A 500 team. D pays 10,000: X 2,000 (rank 3,
    no team reward: D's boss is X). B's line is refunded 2,500: X loses 500, A
    125. B's order is received and settles 14 days later; X withdraws 1,000.
    Ends with X pending 2,000, available 500, withdrawn 1,000; A available 375.
    """
    shop = golden(text=text)
    paid_b = shop.pay("B", 10_000)
    shop.pay("D", 10_000)
    shop.refund(shop.lines[paid_b][0], 2_500)
    shop.receive(paid_b)
    shop.tick(shop.now + SETTLE_DELAY)
    shop.now += SETTLE_DELAY
    shop.withdraw("X", 1_000)
    return shop


STORY_LEDGER = [
    ("COMMISSION", "X", 2_000),  # B's line, direct, rank 1
    ("COMMISSION", "A", 500),  # B's line, team
    ("COMMISSION", "X", 2_000),  # D's line, direct, rank 3
    ("REVERSAL", "X", -500),  # 2,500 of 10,000 refunded
    ("REVERSAL", "A", -125),
    ("SETTLE", "X", 1_500),
    ("SETTLE", "A", 375),
    ("WITHDRAWAL", "X", -1_000),
]
"""``story``'s ledger: (kind, earner, amount fen) in ledger order."""

STORY_ACCOUNTS = {
    "X": (2_000, 500, 0, 1_000),
    "A": (0, 375, 0, 0),
}
"""``story``'s end: (pending, available, receivable, withdrawn) fen of the earners."""


def ledger(store: ReferralStore, shop: Shop) -> list[tuple[str, str, int]]:
    """The store's entries as (kind, earner name, amount fen), in ledger order."""
    names = {uid: name for name, uid in shop.users.items()}
    e = store.entries()
    return [
        (kind, names[user], int(amount))
        for kind, user, amount in zip(e["kind"], e["user_id"], e["amount_fen"], strict=True)
    ]


def accounts(store: ReferralStore, shop: Shop) -> dict[str, tuple[int, ...]]:
    """Each earner's (pending, available, receivable, withdrawn) fen, by name."""
    names = {uid: name for name, uid in shop.users.items()}
    columns = ["user_id", "pending_fen", "available_fen", "receivable_fen", "withdrawn_fen"]
    return {
        names[user]: tuple(int(v) for v in fen)
        for user, *fen in store.balances()[columns].itertuples(index=False)
    }


def snapshot(store: ReferralStore) -> tuple[Any, ...]:
    """What a call that stores nothing must leave as it was: head, event log, balances."""
    log = store.event_log().drop(columns="ingested_at")
    return store.head(), log.to_dict("records"), store.balances().to_dict("records")


def assert_equals_reference(store: ReferralStore, shop: Shop, config: ReferralConfig) -> None:
    """The store holds ``settle`` of the shop's stream (root, settlement) and audits clean."""
    want = expected(shop.events, config)
    assert store.head().root == want.merkle_root().hex()
    assert_same(store.settlement(), want)
    report = store.audit()
    assert report.clean, report.problems


def new_programme() -> str:
    """A programme id no other test uses (several test modules share one database)."""
    return f"t-{uuid.uuid4().hex}"


# -- exactly once ---------------------------------------------------------------------
