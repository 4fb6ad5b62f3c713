"""Referrals and their history, the audit chain, the outbox, consumer idempotency.

Revision ID: 0002_referrals_audit_outbox
Revises: 0001_agencies_auth
"""

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UTCDateTime

revision = "0002_referrals_audit_outbox"
down_revision = "0001_agencies_auth"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("referring_agency", sa.String(32), sa.ForeignKey("agencies.code"), nullable=False),
        sa.Column("referring_client", sa.String(64), nullable=False),
        sa.Column("receiving_agency", sa.String(32), sa.ForeignKey("agencies.code"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("protected", sa.Text()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledge_by", UTCDateTime(), nullable=False),
        sa.Column("respond_by", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime()),
        sa.Column("responded_at", UTCDateTime()),
        sa.Column("decline_reason", sa.String(64)),
        sa.Column("outcome", sa.String(64)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint(
            "referring_agency", "idempotency_key", name="uq_referrals_idempotency"
        ),
    )
    op.create_index("ix_referrals_sent", "referrals", ["referring_agency", "updated_at", "id"])
    op.create_index(
        "ix_referrals_received", "referrals", ["receiving_agency", "updated_at", "id"]
    )
    op.create_index("ix_referrals_subject_key", "referrals", ["subject_key"])

    op.create_table(
        "referral_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "referral_id",
            sa.String(36),
            sa.ForeignKey("referrals.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_agency", sa.String(32), nullable=False),
        sa.Column("actor_client", sa.String(64), nullable=False),
        sa.Column("reason_code", sa.String(64)),
        sa.Column("outcome", sa.String(64)),
        sa.UniqueConstraint("referral_id", "seq", name="uq_referral_history_seq"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("client_id", sa.String(64)),
        sa.Column("agency", sa.String(32)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(64)),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(128)),
        sa.Column("policy_version", sa.String(64)),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_lane_seq", "audit_log", ["lane", "seq"], unique=True)
    op.create_index("ix_audit_log_object_id", "audit_log", ["object_id"])
    op.create_table(
        "audit_heads",
        sa.Column("lane", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )

    op.create_table(
        "outbox",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", UTCDateTime()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(200)),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "id"])

    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "processed_events",
        "outbox",
        "audit_heads",
        "audit_log",
        "referral_history",
        "referrals",
    ):
        op.drop_table(table)
