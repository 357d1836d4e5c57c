"""Tax withheld at payout and the applied rate override: a member's withheld total, the
cumulative tax base per member and tax year, the override label on each entry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-21
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.add_column("referral_members", sa.Column("withheld_fen", sa.BigInteger(), nullable=True))
    op.add_column(
        "referral_entries", sa.Column("rate_override", sa.String(length=144), nullable=True)
    )
    op.create_table(
        "referral_tax_years",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("gross_fen", sa.BigInteger(), nullable=True),
        sa.Column("first_month", sa.SmallInteger(), nullable=True),
        sa.Column("withheld_fen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "user_id", "year"),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("referral_tax_years")
    op.drop_column("referral_entries", "rate_override")
    op.drop_column("referral_members", "withheld_fen")
