"""The referral store: event log, ledger, tree heads and the fold's state tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "referral_activations",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("effective_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "position"),
        **MYSQL,
    )
    op.create_table(
        "referral_closed_months",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "month"),
        **MYSQL,
    )
    op.create_table(
        "referral_commissions",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("line_id", sa.String(length=128), nullable=True),
        sa.Column("reward_type", sa.String(length=8), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("credited_fen", sa.BigInteger(), nullable=True),
        sa.Column("config_version", sa.String(length=64), nullable=True),
        sa.Column("reversed_fen", sa.BigInteger(), nullable=True),
        sa.Column("settled", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "entry_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_entries",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("buyer_id", sa.String(length=128), nullable=True),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("line_id", sa.String(length=128), nullable=True),
        sa.Column("refund_id", sa.String(length=128), nullable=True),
        sa.Column("reward_type", sa.String(length=8), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("config_version", sa.String(length=64), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=True),
        sa.Column("rate_bp", sa.BigInteger(), nullable=True),
        sa.Column("uplift_bp", sa.BigInteger(), nullable=True),
        sa.Column("rank", sa.BigInteger(), nullable=True),
        sa.Column("gen_dist", sa.BigInteger(), nullable=True),
        sa.Column("gross_fen", sa.BigInteger(), nullable=True),
        sa.Column("ratio_cut_fen", sa.BigInteger(), nullable=True),
        sa.Column("cap_cut_fen", sa.BigInteger(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("receivable_fen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "position"),
        sa.UniqueConstraint("programme_id", "entry_id", name="uq_referral_entries_entry_id"),
        **MYSQL,
    )
    op.create_index(
        "ix_referral_entries_user", "referral_entries", ["programme_id", "user_id"], unique=False
    )
    op.create_table(
        "referral_events",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "seq"),
        sa.UniqueConstraint("programme_id", "event_id", name="uq_referral_events_event_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_heads",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("last_tick_ns", sa.BigInteger(), nullable=True),
        sa.Column("n_entries", sa.BigInteger(), nullable=False),
        sa.Column("n_relations", sa.BigInteger(), nullable=False),
        sa.Column("n_points", sa.BigInteger(), nullable=False),
        sa.Column("n_activations", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.Text(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("programme_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_lines",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("paid_fen", sa.BigInteger(), nullable=True),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=True),
        sa.Column("commission_ids", sa.Text(), nullable=True),
        sa.Column("commented", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "line_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_members",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("registered_seq", sa.BigInteger(), nullable=True),
        sa.Column("banned_seq", sa.BigInteger(), nullable=True),
        sa.Column("inviter_id", sa.String(length=128), nullable=True),
        sa.Column("bound_seq", sa.BigInteger(), nullable=True),
        sa.Column("shortcut", sa.Text(), nullable=True),
        sa.Column("member_seq", sa.BigInteger(), nullable=True),
        sa.Column("boss_seq", sa.BigInteger(), nullable=True),
        sa.Column("team_parent", sa.Text(), nullable=True),
        sa.Column("invitee_count", sa.BigInteger(), nullable=True),
        sa.Column("invitee_rank", sa.BigInteger(), nullable=True),
        sa.Column("provisional", sa.Text(), nullable=True),
        sa.Column("first_order_seq", sa.BigInteger(), nullable=True),
        sa.Column("pending_fen", sa.BigInteger(), nullable=True),
        sa.Column("available_fen", sa.BigInteger(), nullable=True),
        sa.Column("receivable_fen", sa.BigInteger(), nullable=True),
        sa.Column("withdrawn_fen", sa.BigInteger(), nullable=True),
        sa.Column("held", sa.SmallInteger(), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "user_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_monthly_totals",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("credited_fen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "user_id", "month"),
        **MYSQL,
    )
    op.create_table(
        "referral_orders",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("line_ids", sa.Text(), nullable=True),
        sa.Column("received", sa.SmallInteger(), nullable=True),
        sa.Column("buyer_id", sa.String(length=128), nullable=True),
        sa.Column("points_awarded", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "order_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_point_log",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "position"),
        **MYSQL,
    )
    op.create_table(
        "referral_points_queue",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("settle_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "order_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_programmes",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("versions", sa.Text(), nullable=False),
        sa.Column("id_kinds", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("programme_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_refunds",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("refund_id", sa.String(length=128), nullable=False),
        sa.Column("applied", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "refund_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_relation_log",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("from_parent", sa.String(length=128), nullable=True),
        sa.Column("to_parent", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "position"),
        **MYSQL,
    )
    op.create_table(
        "referral_settle_queue",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("settle_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "entry_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_shares",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "user_id", "day"),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("referral_shares")
    op.drop_table("referral_settle_queue")
    op.drop_table("referral_relation_log")
    op.drop_table("referral_refunds")
    op.drop_table("referral_programmes")
    op.drop_table("referral_points_queue")
    op.drop_table("referral_point_log")
    op.drop_table("referral_orders")
    op.drop_table("referral_monthly_totals")
    op.drop_table("referral_members")
    op.drop_table("referral_lines")
    op.drop_table("referral_heads")
    op.drop_table("referral_events")
    op.drop_index("ix_referral_entries_user", table_name="referral_entries")
    op.drop_table("referral_entries")
    op.drop_table("referral_commissions")
    op.drop_table("referral_closed_months")
    op.drop_table("referral_activations")
