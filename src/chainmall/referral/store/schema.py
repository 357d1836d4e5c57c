"""The store's tables (SQLAlchemy Core): the event log, the ledger and the fold's state.

Every table is named ``referral_*`` and keyed by ``programme_id`` first, so one
database holds several programmes beside the shop's own tables. Money is BIGINT
fen; seqs and instants (UTC nanoseconds) are BIGINT. The caller's ids are stored
as text (at most :data:`ID_LENGTH` characters); ``referral_programmes.id_kinds``
says which kinds of id are integers, so they are read back as integers.

State tables mirror the fold's containers (:mod:`chainmall.referral.store.mapping`
says which container lives in which column); a NULL column is a key the
container does not hold. This module is the current schema; the Alembic
revisions in ``migrations/versions`` build it (a test compares the two).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from chainmall.referral.records import INT_FIELDS

__all__ = ["ACCEPTED", "ID_LENGTH", "METADATA", "RULE_LENGTH", "TABLES", "VERSION_TABLE"]

ID_LENGTH = 128
"""Longest id (members, orders, lines, refunds, event ids) the store keeps, in characters."""
RULE_LENGTH = ID_LENGTH + 16
"""Longest rate-override label (``product_id=`` and an id), in characters."""

VERSION_TABLE = "referral_alembic_version"
"""Alembic's revision table for the store (apart from a shop's own migrations)."""
ACCEPTED = "ACCEPTED"
"""The outcome of an event the rules accepted (the others hold the reject reason)."""

METADATA = MetaData()

TABLE_OPTIONS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
"""MySQL/MariaDB: any Unicode text, ids compared byte for byte (openids are case-sensitive)."""


def _programme() -> Column[str]:
    return Column("programme_id", String(64), nullable=False)


def _id(name: str, nullable: bool = True) -> Column[str]:
    return Column(name, String(ID_LENGTH), nullable=nullable)


def _int(name: str, nullable: bool = True) -> Column[int]:
    return Column(name, BigInteger, nullable=nullable)


programmes = Table(
    "referral_programmes",
    METADATA,
    Column("programme_id", String(64), primary_key=True),
    Column("config", Text, nullable=False),  # JSON of the initial ReferralConfig
    Column("versions", Text, nullable=False),  # JSON: label -> config, other versions
    Column("id_kinds", Text, nullable=False),  # JSON: kind -> "int" | "text"
    Column("created_at", DateTime(timezone=True), nullable=False),
    **TABLE_OPTIONS,
)

heads = Table(
    "referral_heads",
    METADATA,
    Column("programme_id", String(64), primary_key=True),
    _int("last_seq"),
    _int("last_tick_ns"),
    _int("n_entries", nullable=False),
    _int("n_relations", nullable=False),
    _int("n_points", nullable=False),
    _int("n_activations", nullable=False),
    Column("frontier", Text, nullable=False),  # JSON: [[size, hex], ...] of the Merkle tree
    Column("root", String(64), nullable=False),  # hex Merkle root of the ledger
    Column("token", String(32), nullable=False),  # changes at every write (stale-cache check)
    **TABLE_OPTIONS,
)

events = Table(
    "referral_events",
    METADATA,
    _programme(),
    _int("seq", nullable=False),
    _id("event_id", nullable=False),
    Column("type", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON of the event, seq excluded
    Column("digest", String(64), nullable=False),  # SHA-256 of the payload
    Column("outcome", String(32), nullable=False),  # ACCEPTED or a Reason name
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("programme_id", "seq"),
    UniqueConstraint("programme_id", "event_id", name="uq_referral_events_event_id"),
    **TABLE_OPTIONS,
)

entries = Table(
    "referral_entries",
    METADATA,
    _programme(),
    _int("position", nullable=False),  # 0-based ledger position (Merkle leaf index)
    Column("entry_id", String(64), nullable=False),
    Column("leaf_hash", String(64), nullable=False),
    _int("seq", nullable=False),
    Column("kind", String(16), nullable=False),
    _id("user_id", nullable=False),
    _id("buyer_id"),
    _id("order_id"),
    _id("line_id"),
    _id("refund_id"),
    Column("reward_type", String(8)),
    Column("month", String(7)),
    Column("ref", String(64)),
    Column("config_version", String(64), nullable=False),
    *(_int(name) for name in INT_FIELDS if name != "seq" and not name.endswith("_id")),
    Column("rate_override", String(RULE_LENGTH)),  # the RateOverride label (revision 0003)
    PrimaryKeyConstraint("programme_id", "position"),
    UniqueConstraint("programme_id", "entry_id", name="uq_referral_entries_entry_id"),
    Index("ix_referral_entries_user", "programme_id", "user_id"),
    **TABLE_OPTIONS,
)

members = Table(
    "referral_members",
    METADATA,
    _programme(),
    _id("user_id", nullable=False),
    _int("registered_seq"),
    _int("banned_seq"),
    _id("inviter_id"),
    _int("bound_seq"),
    Column("shortcut", Text),  # JSON [node, steps]: the inviter forest's root shortcut
    _int("member_seq"),
    _int("boss_seq"),
    Column("team_parent", Text),  # JSON id, or null for the platform
    _int("invitee_count"),
    _int("invitee_rank"),
    Column("provisional", Text),  # JSON list of invitees waiting to slide
    _int("first_order_seq"),
    _int("pending_fen"),
    _int("available_fen"),
    _int("receivable_fen"),
    _int("withdrawn_fen"),
    Column("held", SmallInteger),
    _int("points"),
    _int("reserved_fen"),  # held for withdrawal requests (revision 0002)
    _int("withheld_fen"),  # tax withheld at payouts (revision 0003)
    _int("awaiting_approval_fen"),  # settled commissions awaiting approval (revision 0004)
    PrimaryKeyConstraint("programme_id", "user_id"),
    **TABLE_OPTIONS,
)

orders = Table(
    "referral_orders",
    METADATA,
    _programme(),
    _id("order_id", nullable=False),
    Column("line_ids", Text),  # JSON list
    Column("received", SmallInteger),
    _id("buyer_id"),
    Column("points_awarded", SmallInteger),
    PrimaryKeyConstraint("programme_id", "order_id"),
    **TABLE_OPTIONS,
)

lines = Table(
    "referral_lines",
    METADATA,
    _programme(),
    _id("line_id", nullable=False),
    _id("order_id"),
    _int("paid_fen"),
    _int("refunded_fen"),
    Column("commission_ids", Text),  # JSON list of entry ids
    Column("commented", SmallInteger),
    PrimaryKeyConstraint("programme_id", "line_id"),
    **TABLE_OPTIONS,
)

refunds = Table(
    "referral_refunds",
    METADATA,
    _programme(),
    _id("refund_id", nullable=False),
    Column("applied", SmallInteger),
    PrimaryKeyConstraint("programme_id", "refund_id"),
    **TABLE_OPTIONS,
)

commissions = Table(
    "referral_commissions",
    METADATA,
    _programme(),
    Column("entry_id", String(64), nullable=False),
    _int("position"),
    _id("user_id"),
    _id("order_id"),
    _id("line_id"),
    Column("reward_type", String(8)),
    Column("month", String(7)),
    _int("credited_fen"),
    Column("config_version", String(64)),
    _int("reversed_fen"),
    Column("settled", SmallInteger),
    Column("awaiting", SmallInteger),  # settled, awaiting approval (revision 0004)
    Column("declined", SmallInteger),  # declined by an operator (revision 0004)
    PrimaryKeyConstraint("programme_id", "entry_id"),
    **TABLE_OPTIONS,
)

monthly_totals = Table(
    "referral_monthly_totals",
    METADATA,
    _programme(),
    _id("user_id", nullable=False),
    Column("month", String(7), nullable=False),
    _int("credited_fen"),  # counted against the monthly cap (R4.6)
    PrimaryKeyConstraint("programme_id", "user_id", "month"),
    **TABLE_OPTIONS,
)

shares = Table(
    "referral_shares",
    METADATA,
    _programme(),
    _id("user_id", nullable=False),
    Column("day", Integer, nullable=False),  # local YYYYMMDD
    Column("shares", Integer),
    PrimaryKeyConstraint("programme_id", "user_id", "day"),
    **TABLE_OPTIONS,
)

withdrawal_requests = Table(
    "referral_withdrawal_requests",
    METADATA,
    _programme(),
    _id("request_id", nullable=False),
    _id("user_id"),
    _int("amount_fen"),
    _int("fee_fen"),
    Column("status", String(16)),  # REQUESTED, APPROVED, REJECTED, PAID or FAILED
    Column("hold_entry_id", String(64)),  # the request's WITHDRAW_HOLD entry
    PrimaryKeyConstraint("programme_id", "request_id"),
    **TABLE_OPTIONS,
)

withdrawal_days = Table(
    "referral_withdrawal_days",
    METADATA,
    _programme(),
    _id("user_id", nullable=False),
    Column("day", Integer, nullable=False),  # local YYYYMMDD
    Column("requests", Integer),  # accepted withdrawal requests that day
    PrimaryKeyConstraint("programme_id", "user_id", "day"),
    **TABLE_OPTIONS,
)

tax_years = Table(
    "referral_tax_years",
    METADATA,
    _programme(),
    _id("user_id", nullable=False),
    Column("year", Integer, nullable=False),  # the tax year (local calendar)
    _int("gross_fen"),  # cumulative gross paid out in the year (revision 0003)
    Column("first_month", SmallInteger),  # month number of the year's first payout
    _int("withheld_fen"),  # withheld in the year so far
    PrimaryKeyConstraint("programme_id", "user_id", "year"),
    **TABLE_OPTIONS,
)

closed_months = Table(
    "referral_closed_months",
    METADATA,
    _programme(),
    Column("month", String(7), nullable=False),
    Column("closed", SmallInteger),
    PrimaryKeyConstraint("programme_id", "month"),
    **TABLE_OPTIONS,
)

settle_queue = Table(
    "referral_settle_queue",
    METADATA,
    _programme(),
    _int("settle_at_ns", nullable=False),
    _int("position", nullable=False),
    Column("entry_id", String(64), nullable=False),
    PrimaryKeyConstraint("programme_id", "entry_id"),
    **TABLE_OPTIONS,
)

approval_queue = Table(  # revision 0004: commissions auto-approved at a later tick
    "referral_approval_queue",
    METADATA,
    _programme(),
    _int("due_at_ns", nullable=False),
    _int("position", nullable=False),
    Column("entry_id", String(64), nullable=False),
    PrimaryKeyConstraint("programme_id", "entry_id"),
    **TABLE_OPTIONS,
)

points_queue = Table(
    "referral_points_queue",
    METADATA,
    _programme(),
    _int("settle_at_ns", nullable=False),
    _int("seq", nullable=False),
    _id("order_id", nullable=False),
    PrimaryKeyConstraint("programme_id", "order_id"),
    **TABLE_OPTIONS,
)

relation_log = Table(
    "referral_relation_log",
    METADATA,
    _programme(),
    _int("position", nullable=False),
    _int("seq", nullable=False),
    _id("user_id", nullable=False),
    _id("from_parent"),  # NULL: the platform
    _id("to_parent"),
    Column("reason", String(16), nullable=False),
    PrimaryKeyConstraint("programme_id", "position"),
    **TABLE_OPTIONS,
)

point_log = Table(
    "referral_point_log",
    METADATA,
    _programme(),
    _int("position", nullable=False),
    _int("seq", nullable=False),
    _id("user_id", nullable=False),
    _int("points", nullable=False),
    Column("source", String(16), nullable=False),
    _id("ref"),  # the line (comments) or order (orders, claw-backs); NULL for shares
    PrimaryKeyConstraint("programme_id", "position"),
    **TABLE_OPTIONS,
)

activations = Table(
    "referral_activations",
    METADATA,
    _programme(),
    _int("position", nullable=False),
    _int("effective_at_ns", nullable=False),
    _int("seq", nullable=False),
    Column("label", String(64), nullable=False),
    PrimaryKeyConstraint("programme_id", "position"),
    **TABLE_OPTIONS,
)

TABLES = tuple(METADATA.sorted_tables)
"""Every table of the store."""
