"""MEAL facts (statistical only), the aggregator's state, and the dashboard's staff users.

Revision ID: 0003_meal
Revises: 0002_referrals_audit_outbox
"""

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UTCDateTime

revision = "0003_meal"
down_revision = "0002_referrals_audit_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meal_referral_facts",
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("referring_agency", sa.String(32), nullable=False),
        sa.Column("receiving_agency", sa.String(32), nullable=False),
        sa.Column("service_key", sa.String(100), nullable=False),
        sa.Column("services", sa.String(400), nullable=False),
        sa.Column("sex", sa.String(16), nullable=False),
        sa.Column("age_band", sa.String(8), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("case_category", sa.String(48), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_month", sa.String(7), nullable=False),
        sa.Column("acknowledge_by", UTCDateTime(), nullable=False),
        sa.Column("respond_by", UTCDateTime(), nullable=False),
        sa.Column("first_response_at", UTCDateTime(), nullable=True),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.Column("declined_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("ack_seconds", sa.Float(), nullable=True),
        sa.Column("accept_seconds", sa.Float(), nullable=True),
        sa.Column("complete_seconds", sa.Float(), nullable=True),
        sa.Column("decline_reason", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_meal_referral_facts")),
    )
    op.create_index("ix_meal_referral_facts_submitted", "meal_referral_facts", ["submitted_at"])
    op.create_index("ix_meal_referral_facts_month", "meal_referral_facts", ["submitted_month"])
    op.create_index("ix_meal_referral_facts_open", "meal_referral_facts", ["status", "respond_by"])

    op.create_table(
        "meal_duplicate_facts",
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.Column("match_method", sa.String(32), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_meal_duplicate_facts")),
    )
    op.create_index(
        op.f("ix_meal_duplicate_facts_detected_at"), "meal_duplicate_facts", ["detected_at"]
    )

    op.create_table(
        "meal_consent_withdrawals",
        sa.Column("consent_id", sa.String(36), nullable=False),
        sa.Column("collecting_agency", sa.String(32), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(48), nullable=False),
        sa.Column("subject_is_minor", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("consent_id", name=op.f("pk_meal_consent_withdrawals")),
    )
    op.create_index(
        op.f("ix_meal_consent_withdrawals_withdrawn_at"),
        "meal_consent_withdrawals",
        ["withdrawn_at"],
    )

    op.create_table(
        "meal_agency_activity",
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("agency", "day", "source", name=op.f("pk_meal_agency_activity")),
    )

    op.create_table(
        "meal_state",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meal_state")),
    )

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("role IN ('viewer', 'admin')", name=op.f("ck_staff_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )


def downgrade() -> None:
    for table in (
        "staff_users",
        "meal_state",
        "meal_agency_activity",
        "meal_consent_withdrawals",
        "meal_duplicate_facts",
        "meal_referral_facts",
    ):
        op.drop_table(table)
