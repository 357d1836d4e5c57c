"""The store benchmark's anchor: a mall's own brokerage tables, one transaction per event.

Open-source mall back ends (CRMEB's brokerage flow on ``store_order``/``user_brokerage``,
yudao's ``trade_brokerage_record``) keep referral commissions the plain way. This is
that way, written with SQLAlchemy Core on the same database (and the same connection
settings) as the store: every event is its own transaction, and every row is read,
inserted or updated on its own, by primary key or an indexed column.

- REGISTERED: INSERT the member (no inviter yet) and its account row.
- BOUND: SELECT the member; UPDATE its inviter when it has none.
- ORDER_PAID: SELECT the buyer, its inviter (level 1) and that one's inviter (level 2);
  INSERT the order; per line INSERT the line and, per upline member, a frozen
  brokerage record (level 1 at the config's first direct rate, level 2 at its team
  rate, on the line's net paid amount: paid minus paid from balance), and UPDATE that
  member's account (frozen += amount).
- ORDER_RECEIVED: SELECT the order; UPDATE its status and its records' thaw instant
  (receipt + refund window + processing days).
- REFUND: SELECT the line; UPDATE its refunded amount; per record of the line UPDATE
  its amount to the rate on what stays paid, and its member's account by the change.
- SETTLEMENT_TICK: SELECT the frozen records due; per record UPDATE it to settled and
  UPDATE its member's account (frozen -> available).

Left out, so the anchor does less work per event than the store: invitee-rank
tiers, team placement (slides, breakaway), payout and monthly caps, idempotency
keys, the hash-chained ledger, energy points. Event rows are turned into tuples
before the clock starts (the store is timed from its input frame).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)

from chainmall.referral import ReferralConfig

__all__ = ["MallEvent", "create_tables", "drop_tables", "mall_events", "run_mall"]

METADATA = MetaData()
members = Table(
    "bench_mall_members",
    METADATA,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("spread_uid", BigInteger, nullable=True),  # the inviter
    Column("add_time", BigInteger, nullable=False),  # unix seconds
)
accounts = Table(
    "bench_mall_accounts",
    METADATA,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("frozen_fen", BigInteger, nullable=False),
    Column("brokerage_fen", BigInteger, nullable=False),  # available
)
orders = Table(
    "bench_mall_orders",
    METADATA,
    Column("order_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("pay_time", BigInteger, nullable=False),
    Column("receive_time", BigInteger, nullable=True),
)
lines = Table(
    "bench_mall_order_lines",
    METADATA,
    Column("line_id", BigInteger, primary_key=True, autoincrement=False),
    Column("order_id", BigInteger, nullable=False),
    Column("base_fen", BigInteger, nullable=False),  # commission base
    Column("paid_fen", BigInteger, nullable=False),
    Column("refunded_fen", BigInteger, nullable=False),
    Index("bench_mall_lines_order", "order_id"),
)
records = Table(
    "bench_mall_brokerage_records",
    METADATA,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("order_id", BigInteger, nullable=False),
    Column("line_id", BigInteger, nullable=False),
    Column("level", Integer, nullable=False),
    Column("rate_bp", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # frozen | settled
    Column("thaw_time", BigInteger, nullable=True),  # unix seconds
    Column("add_time", BigInteger, nullable=False),
    Index("bench_mall_records_order", "order_id"),
    Index("bench_mall_records_line", "line_id"),
    Index("bench_mall_records_due", "status", "thaw_time"),
)


@dataclass(frozen=True, slots=True)
class MallEvent:
    """One event as the mall gets it: type, unix seconds, the ids and the order's lines."""

    type: str
    ts: int
    user_id: int | None = None
    inviter_id: int | None = None
    order_id: int | None = None
    line_id: int | None = None
    amount_fen: int | None = None
    lines: tuple[tuple[int, int, int], ...] = ()  # (line_id, paid_fen, balance_paid_fen)


def create_tables(engine: Engine) -> None:
    """Create the mall's tables (dropping any left by an earlier run)."""
    METADATA.drop_all(engine)
    METADATA.create_all(engine)


def drop_tables(engine: Engine) -> None:
    """Drop the mall's tables."""
    METADATA.drop_all(engine)


def mall_events(frame: pd.DataFrame) -> list[MallEvent]:
    """The events of an events frame (rows sharing ``seq`` are one order), in order."""
    ts = (frame["ts"].dt.as_unit("s").astype("int64")).to_numpy()
    missing = pd.Series(-1, index=frame.index, dtype="int64")
    cols = {
        c: frame.get(c, missing).to_numpy(dtype=np.int64, na_value=-1)
        for c in ("seq", "user_id", "inviter_id", "order_id", "line_id", "amount_fen")
    }
    balance = frame.get("balance_paid_fen", missing).to_numpy(dtype=np.int64, na_value=0)
    balance[balance < 0] = 0
    types = frame["type"].astype(str).to_numpy()
    starts = np.flatnonzero(np.r_[True, cols["seq"][1:] != cols["seq"][:-1]])
    ends = np.r_[starts[1:], len(frame)]
    out = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        kind = str(types[a])
        ids = {c: _id(cols[c][a]) for c in ("user_id", "inviter_id", "order_id", "line_id")}
        order_lines: tuple[tuple[int, int, int], ...] = ()
        if kind == "ORDER_PAID":
            order_lines = tuple(
                (int(cols["line_id"][i]), int(cols["amount_fen"][i]), int(balance[i]))
                for i in range(a, b)
            )
        amount = int(cols["amount_fen"][a]) if kind == "REFUND" else None
        out.append(MallEvent(kind, int(ts[a]), amount_fen=amount, lines=order_lines, **ids))
    return out


def _id(value: np.int64) -> int | None:
    """An id read with ``na_value=-1``: None where it was missing."""
    return int(value) if value >= 0 else None


class _Mall:
    """The mall's handlers: one method per event type, each one transaction's work."""

    def __init__(self, config: ReferralConfig) -> None:
        self.level_rates = (config.direct_rate_tiers[0].rate_bp, config.team_rate_bp)
        self.hold_s = (config.refund_window_days + config.refund_processing_days) * 86_400

    def registered(self, conn: Connection, e: MallEvent) -> None:
        conn.execute(insert(members).values(user_id=e.user_id, spread_uid=None, add_time=e.ts))
        conn.execute(insert(accounts).values(user_id=e.user_id, frozen_fen=0, brokerage_fen=0))

    def bound(self, conn: Connection, e: MallEvent) -> None:
        row = conn.execute(select(members.c.spread_uid).where(members.c.user_id == e.user_id))
        member = row.first()
        if member is not None and member.spread_uid is None and e.inviter_id != e.user_id:
            conn.execute(
                update(members)
                .where(members.c.user_id == e.user_id)
                .values(spread_uid=e.inviter_id)
            )

    def _upline(self, conn: Connection, user_id: int | None) -> list[int]:
        """The buyer's inviter and that one's inviter (each read on its own)."""
        chain: list[int] = []
        for _ in range(1 + len(self.level_rates)):
            if user_id is None:
                break
            query = select(members.c.user_id, members.c.spread_uid).where(
                members.c.user_id == user_id
            )
            row = conn.execute(query).first()
            if row is None:
                break
            chain.append(row.user_id)
            user_id = row.spread_uid
        return chain[1:]

    def order_paid(self, conn: Connection, e: MallEvent) -> None:
        upline = self._upline(conn, e.user_id)
        conn.execute(
            insert(orders).values(
                order_id=e.order_id, user_id=e.user_id, status="paid", pay_time=e.ts
            )
        )
        for line_id, paid, from_balance in e.lines:
            base = paid - from_balance
            conn.execute(
                insert(lines).values(
                    line_id=line_id,
                    order_id=e.order_id,
                    base_fen=base,
                    paid_fen=paid,
                    refunded_fen=0,
                )
            )
            for level, (user, rate) in enumerate(zip(upline, self.level_rates, strict=False), 1):
                amount = base * rate // 10_000
                conn.execute(
                    insert(records).values(
                        user_id=user,
                        order_id=e.order_id,
                        line_id=line_id,
                        level=level,
                        rate_bp=rate,
                        amount_fen=amount,
                        status="frozen",
                        thaw_time=None,
                        add_time=e.ts,
                    )
                )
                conn.execute(
                    update(accounts)
                    .where(accounts.c.user_id == user)
                    .values(frozen_fen=accounts.c.frozen_fen + amount)
                )

    def order_received(self, conn: Connection, e: MallEvent) -> None:
        row = conn.execute(select(orders.c.status).where(orders.c.order_id == e.order_id)).first()
        if row is None or row.status != "paid":
            return
        conn.execute(
            update(orders)
            .where(orders.c.order_id == e.order_id)
            .values(status="received", receive_time=e.ts)
        )
        conn.execute(
            update(records)
            .where(records.c.order_id == e.order_id)
            .values(thaw_time=e.ts + self.hold_s)
        )

    def refund(self, conn: Connection, e: MallEvent) -> None:
        query = select(lines.c.base_fen, lines.c.paid_fen, lines.c.refunded_fen)
        line = conn.execute(query.where(lines.c.line_id == e.line_id)).first()
        if line is None or e.amount_fen is None:
            return
        refunded = min(line.paid_fen, line.refunded_fen + e.amount_fen)
        conn.execute(
            update(lines).where(lines.c.line_id == e.line_id).values(refunded_fen=refunded)
        )
        base = line.base_fen * (line.paid_fen - refunded) // max(line.paid_fen, 1)
        query = select(records.c.id, records.c.user_id, records.c.rate_bp, records.c.amount_fen)
        for rec in conn.execute(query.where(records.c.line_id == e.line_id)).all():
            delta = base * rec.rate_bp // 10_000 - rec.amount_fen
            conn.execute(
                update(records)
                .where(records.c.id == rec.id)
                .values(amount_fen=rec.amount_fen + delta)
            )
            conn.execute(
                update(accounts)
                .where(accounts.c.user_id == rec.user_id)
                .values(frozen_fen=accounts.c.frozen_fen + delta)
            )

    def settlement_tick(self, conn: Connection, e: MallEvent) -> None:
        due = select(records.c.id, records.c.user_id, records.c.amount_fen).where(
            records.c.status == "frozen", records.c.thaw_time <= e.ts
        )
        for rec in conn.execute(due).all():
            conn.execute(update(records).where(records.c.id == rec.id).values(status="settled"))
            conn.execute(
                update(accounts)
                .where(accounts.c.user_id == rec.user_id)
                .values(
                    frozen_fen=accounts.c.frozen_fen - rec.amount_fen,
                    brokerage_fen=accounts.c.brokerage_fen + rec.amount_fen,
                )
            )


def run_mall(engine: Engine, events: list[MallEvent], config: ReferralConfig) -> int:
    """Apply ``events`` one transaction each; return the events handled (others are skipped)."""
    mall = _Mall(config)
    handlers: dict[str, Callable[[Connection, MallEvent], None]] = {
        "REGISTERED": mall.registered,
        "BOUND": mall.bound,
        "ORDER_PAID": mall.order_paid,
        "ORDER_RECEIVED": mall.order_received,
        "REFUND": mall.refund,
        "SETTLEMENT_TICK": mall.settlement_tick,
    }
    handled = 0
    for event in events:
        handler = handlers.get(event.type)
        if handler is None:
            continue
        with engine.connect() as conn, conn.begin():
            handler(conn, event)
        handled += 1
    return handled
