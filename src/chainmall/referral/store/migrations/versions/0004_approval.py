"""Commission approval: what each member has awaiting approval, each commission's approval
state, and the queue of commissions a later tick approves.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.add_column(
        "referral_members", sa.Column("awaiting_approval_fen", sa.BigInteger(), nullable=True)
    )
    op.add_column("referral_commissions", sa.Column("awaiting", sa.SmallInteger(), nullable=True))
    op.add_column("referral_commissions", sa.Column("declined", sa.SmallInteger(), nullable=True))
    op.create_table(
        "referral_approval_queue",
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("due_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "entry_id"),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("referral_approval_queue")
    op.drop_column("referral_commissions", "declined")
    op.drop_column("referral_commissions", "awaiting")
    op.drop_column("referral_members", "awaiting_approval_fen")
