"""The consent registry (consents, per-subject change counter, purge receipts) and break-glass.

Revision ID: 0003_consent
Revises: 0002_referrals_audit_outbox
"""

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UTCDateTime

revision = "0003_consent"
down_revision = "0002_referrals_audit_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("collecting_agency", sa.String(32), nullable=False),
        sa.Column("recorded_by_client", sa.String(64), nullable=False),
        sa.Column("purposes", sa.String(200), nullable=False),
        sa.Column("data_categories", sa.String(200), nullable=False),
        sa.Column("recipients", sa.String(2200), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("evidence_reference", sa.String(64), nullable=True),
        sa.Column("subject_is_minor", sa.Boolean(), nullable=False),
        sa.Column("guardian_consent", sa.Boolean(), nullable=True),
        sa.Column("child_assent", sa.Boolean(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.Column("withdrawal_reason", sa.String(32), nullable=True),
        sa.Column("withdrawn_by_agency", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["collecting_agency"],
            ["agencies.code"],
            name=op.f("fk_consents_collecting_agency_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index("ix_consents_subject_key", "consents", ["subject_key"])

    op.create_table(
        "consent_subjects",
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject_key", name=op.f("pk_consent_subjects")),
    )

    op.create_table(
        "consent_purge_receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("consent_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("confirmed_by_client", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["consents.id"],
            name=op.f("fk_consent_purge_receipts_consent_id_consents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency"],
            ["agencies.code"],
            name=op.f("fk_consent_purge_receipts_agency_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_purge_receipts")),
        sa.UniqueConstraint("consent_id", "agency", name="uq_consent_purge_receipts_agency"),
    )
    op.create_index(
        "ix_consent_purge_receipts_pending",
        "consent_purge_receipts",
        ["confirmed_at", "agency"],
    )

    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("justification", sa.String(200), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency"],
            ["agencies.code"],
            name=op.f("fk_break_glass_grants_agency_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grants")),
    )
    op.create_index(
        "ix_break_glass_grants_subject", "break_glass_grants", ["subject_key", "valid_until"]
    )


def downgrade() -> None:
    op.drop_index("ix_break_glass_grants_subject", table_name="break_glass_grants")
    op.drop_table("break_glass_grants")
    op.drop_index("ix_consent_purge_receipts_pending", table_name="consent_purge_receipts")
    op.drop_table("consent_purge_receipts")
    op.drop_table("consent_subjects")
    op.drop_index("ix_consents_subject_key", table_name="consents")
    op.drop_table("consents")
