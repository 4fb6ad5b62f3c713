"""Linkage off the request path: referrals waiting for the linkage worker.

Revision ID: 0005_linkage_pending
Revises: 0004_merge_heads
"""

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UTCDateTime

revision = "0005_linkage_pending"
down_revision = "0004_merge_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_pending",
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("probe", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_linkage_pending")),
    )
    op.create_index(
        op.f("ix_linkage_pending_created_at"), "linkage_pending", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_linkage_pending_created_at"), table_name="linkage_pending")
    op.drop_table("linkage_pending")
