"""Spec §4.5 worked examples, to the fen, on both the fold and the batch path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from chainmall.referral import (
    Bound,
    OrderLine,
    OrderPaid,
    OrderReceived,
    ReferralConfig,
    RefundSucceeded,
    Registered,
    Settlement,
    SettlementTick,
)
from tests.referral.equality import check_fold_equals_batch

T0 = datetime(2025, 3, 3, tzinfo=UTC)


class Shop:
    """Builds an event stream by name: users are letters, money in fen."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.ids: dict[str, int] = {}
        self.seq = 0
        self.order = 100
        self.line = 1_000
        self.refund = 9_000
        self.now = T0

    def _next(self) -> int:
        self.seq += 1
        self.now += timedelta(minutes=1)
        return self.seq

    def user(self, name: str, inviter: str | None = None) -> None:
        self.ids[name] = len(self.ids) + 1
        self.events.append(Registered(self._next(), self.now, self.ids[name]))
        if inviter is not None:
            self.events.append(Bound(self._next(), self.now, self.ids[name], self.ids[inviter]))

    def pay(self, name: str, *amounts: int, at: datetime | None = None) -> list[int]:
        self.order += 1
        lines = []
        for amount in amounts:
            self.line += 1
            lines.append(OrderLine(self.line, amount))
        when = at or self.now
        self.events.append(OrderPaid(self._next(), when, self.order, self.ids[name], tuple(lines)))
        return [x.line_id for x in lines]

    def join(self, *names: str) -> None:
        """Each named user buys a 1-fen line (becomes a MEMBER; pays 0 commission)."""
        for name in names:
            self.pay(name, 1)

    def refund_line(self, line_id: int, amount: int) -> None:
        self.refund += 1
        self.events.append(RefundSucceeded(self._next(), self.now, self.refund, line_id, amount))

    def settle_all(self) -> Settlement:
        """The batch settlement, checked equal to the fold (every batch switch taken)."""
        return check_fold_equals_batch(self.events, CONFIG)


CONFIG = ReferralConfig()


def rows(result: Settlement, kind: str = "COMMISSION") -> list[tuple[int, str, int]]:
    e = result.entries
    e = e[e["kind"] == kind]
    return list(zip(e["user_id"], e["reward_type"].astype(str), e["amount_fen"], strict=True))


def spec_tree() -> Shop:
    """Spec §4.5: A a BOSS (P1, P2 joined it); X joined A; X's invitees B, C, D in order."""
    shop = Shop()
    shop.user("A")
    for name in ("P1", "P2"):
        shop.user(name, "A")
    shop.user("X", "A")
    for name in ("B", "C", "D"):
        shop.user(name, "X")
    shop.join("A", "P1", "P2", "X")
    return shop


@pytest.fixture
def setup() -> Shop:
    """A is a BOSS without team parent; X under A; B, C, D are X's invitees 1..3."""
    shop = spec_tree()
    shop.join("B", "C", "D")
    return shop


def test_setup_tree(setup: Shop) -> None:
    result = setup.settle_all()
    users = result.users.set_index("user_id")
    ids = setup.ids
    assert users.loc[ids["A"], "status"] == "BOSS"
    assert users.loc[ids["X"], "status"] == "BOSS"
    assert pd.isna(users.loc[ids["X"], "team_parent_id"])  # broke away at C
    assert users.loc[ids["B"], "team_parent_id"] == ids["A"]
    assert users.loc[ids["C"], "team_parent_id"] == ids["A"]
    assert users.loc[ids["D"], "team_parent_id"] == ids["X"]
    log = result.relation_changes
    x_rows = log[log["user_id"] == ids["X"]]["reason"].astype(str).tolist()
    assert x_rows == ["JOIN", "BREAKAWAY"]


def test_example_1_direct_and_team(setup: Shop) -> None:
    setup.pay("B", 10_000)
    result = setup.settle_all()
    ids = setup.ids
    assert rows(result)[-2:] == [(ids["X"], "DIRECT", 2_000), (ids["A"], "TEAM", 500)]


def test_example_2_boss_is_inviter(setup: Shop) -> None:
    setup.pay("D", 10_000)
    result = setup.settle_all()
    last = result.entries[result.entries["buyer_id"] == setup.ids["D"]].iloc[-1:]
    assert last["kind"].tolist() == ["COMMISSION"]
    assert last["amount_fen"].tolist() == [2_000] and last["rank"].tolist() == [3]


def test_example_3_blocked_depth(setup: Shop) -> None:
    setup.user("B1", "B")
    setup.user("B2", "B")
    setup.join("B1", "B2")
    setup.pay("B1", 10_000)
    result = setup.settle_all()
    ids = setup.ids
    e = result.entries
    mine = e[(e["buyer_id"] == ids["B1"]) & (e["base_fen"] == 10_000)]
    assert mine["kind"].astype(str).tolist() == ["COMMISSION", "BLOCKED_DEPTH"]
    assert mine["user_id"].tolist() == [ids["B"], ids["A"]]
    assert mine["amount_fen"].tolist() == [2_000, 0]
    assert mine["gen_dist"].iloc[1] == 3
    assert result.users.set_index("user_id").loc[ids["B"], "status"] == "BOSS"


def test_example_4_rounding(setup: Shop) -> None:
    setup.pay("D", 3_333)
    assert rows(setup.settle_all())[-1][2] == 666


def test_example_5_partial_refunds(setup: Shop) -> None:
    (line,) = setup.pay("D", 10_000)
    setup.refund_line(line, 2_500)
    setup.refund_line(line, 7_500)
    result = setup.settle_all()
    assert result.entries[result.entries["kind"] == "REVERSAL"]["amount_fen"].tolist() == [
        -500,
        -1_500,
    ]
    on_line = result.entries[result.entries["line_id"] == line]
    assert on_line["amount_fen"].sum() == 0


def test_example_6_monthly_cap() -> None:
    shop = Shop()
    shop.user("M")
    shop.user("I", "M")
    shop.join("M")
    # 4,999,000 fen of commission in March: rank-1 invitee at 20% buys 24,995,000 fen
    big = shop.pay("I", 12_500_000, 12_495_000)
    shop.pay("I", 10_000)  # 2,000 fen commission, 1,000 over the cap
    shop.refund_line(big[0], 50_000)  # reverses 10,000 of a March entry
    shop.pay("I", 25_000)  # 5,000 fen: fits again in full
    result = shop.settle_all()
    e = result.entries
    comm = e[e["kind"] == "COMMISSION"]["amount_fen"].tolist()
    assert sum(comm[:2]) == 4_999_000
    assert comm[2:] == [1_000, 5_000]
    capped = e[e["kind"] == "CAPPED"]
    assert capped["cap_cut_fen"].tolist() == [1_000]
    assert e[e["kind"] == "REVERSAL"]["amount_fen"].tolist() == [-10_000]
    assert result.balances.set_index("user_id").loc[shop.ids["M"], "credited_fen"] == 4_995_000


def test_example_7_month_boundary() -> None:
    shop = Shop()
    shop.user("M")
    shop.user("I", "M")
    shop.join("M")
    shop.pay("I", 10_000, at=datetime(2025, 3, 31, 15, 59, 59, tzinfo=UTC))
    shop.pay("I", 10_000, at=datetime(2025, 3, 31, 16, 0, 0, tzinfo=UTC))
    result = shop.settle_all()
    months = result.entries[result.entries["kind"] == "COMMISSION"]["month"].astype(str)
    assert months.tolist() == ["2025-03", "2025-04"]


def test_settlement_after_window_and_clawback(setup: Shop) -> None:
    (line,) = setup.pay("D", 10_000)
    setup.events.append(OrderReceived(setup._next(), setup.now, setup.order))
    received = setup.now
    setup.events.append(SettlementTick(setup._next(), received + timedelta(days=13)))
    setup.events.append(SettlementTick(setup._next(), received + timedelta(days=14)))
    setup.refund_line(line, 10_000)
    result = setup.settle_all()
    e = result.entries
    settled = e[e["kind"] == "SETTLE"]
    assert settled["amount_fen"].tolist() == [2_000]
    assert settled["seq"].tolist() == [setup.seq - 1]  # the day-14 tick, not day 13
    assert e[e["kind"] == "CLAWBACK"]["amount_fen"].tolist() == [-2_000]
    balance = result.balances.set_index("user_id").loc[setup.ids["X"]]
    assert (balance["pending_fen"], balance["available_fen"]) == (0, 0)
