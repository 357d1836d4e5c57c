"""Withdrawal workflow: reserved funds per member, requests, requests per local day.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-14
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.add_column("referral_members", sa.Column("reserved_fen", sa.BigInteger(), nullable=True))
    op.create_table(
        "referral_withdrawal_requests",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("fee_fen", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("hold_entry_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "request_id"),
        **MYSQL,
    )
    op.create_table(
        "referral_withdrawal_days",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "user_id", "day"),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("referral_withdrawal_days")
    op.drop_table("referral_withdrawal_requests")
    op.drop_column("referral_members", "reserved_fen")
