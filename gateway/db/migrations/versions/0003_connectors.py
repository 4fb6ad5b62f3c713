"""Connector heartbeats (one row per successful poll of an agency-side connector).

Revision ID: 0003_connectors
Revises: 0002_referrals_audit_outbox
"""

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UTCDateTime

revision = "0003_connectors"
down_revision = "0002_referrals_audit_outbox"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "connector_heartbeats",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("connector_id", sa.String(64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_sent", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("lag_seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency"], ["agencies.code"], name=op.f("fk_connector_heartbeats_agency_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_heartbeats")),
    )
    op.create_index(
        "ix_connector_heartbeats_agency_received",
        "connector_heartbeats",
        ["agency", "received_at"],
    )
    op.create_index(
        "ix_connector_heartbeats_connector_received",
        "connector_heartbeats",
        ["connector_id", "received_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_connector_heartbeats_connector_received", "connector_heartbeats")
    op.drop_index("ix_connector_heartbeats_agency_received", "connector_heartbeats")
    op.drop_table("connector_heartbeats")
