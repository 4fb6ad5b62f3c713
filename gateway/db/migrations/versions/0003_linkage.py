"""Linkage: layer keys, pseudonymous subjects, re-keyed records, tokens, blocks, the ledger.

Revision ID: 0003_linkage
Revises: 0002_referrals_audit_outbox
"""

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UTCDateTime

revision = "0003_linkage"
down_revision = "0002_referrals_audit_outbox"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "linkage_key_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("wrapped_secret", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_linkage_key_versions")),
    )
    op.create_table(
        "linkage_subjects",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_subjects")),
    )
    op.create_table(
        "linkage_records",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("bloom", sa.Text(), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(16), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["linkage_subjects.id"],
            name=op.f("fk_linkage_records_subject_id_linkage_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_records")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_linkage_records_referral_id")),
    )
    op.create_index("ix_linkage_records_subject_id", "linkage_records", ["subject_id"])
    op.create_table(
        "linkage_tokens",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("record_id", BIGID, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["linkage_records.id"],
            name=op.f("fk_linkage_tokens_record_id_linkage_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_tokens")),
    )
    op.create_index("ix_linkage_tokens_token", "linkage_tokens", ["token"])
    op.create_index("ix_linkage_tokens_record_id", "linkage_tokens", ["record_id"])
    op.create_table(
        "linkage_blocks",
        sa.Column("block", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("record_id", BIGID, nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["linkage_records.id"],
            name=op.f("fk_linkage_blocks_record_id_linkage_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("block", "record_id", name=op.f("pk_linkage_blocks")),
    )
    op.create_index("ix_linkage_blocks_record_id", "linkage_blocks", ["record_id"])
    op.create_table(
        "linkage_assistance",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("service_category", sa.String(32), nullable=False),
        sa.Column("referring_agency", sa.String(32), nullable=False),
        sa.Column("receiving_agency", sa.String(32), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["linkage_subjects.id"],
            name=op.f("fk_linkage_assistance_subject_id_linkage_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_assistance")),
    )
    op.create_index(
        "ix_linkage_assistance_subject",
        "linkage_assistance",
        ["subject_id", "service_category", "requested_at"],
    )
    op.create_index("ix_linkage_assistance_referral_id", "linkage_assistance", ["referral_id"])


def downgrade() -> None:
    op.drop_table("linkage_assistance")
    op.drop_table("linkage_blocks")
    op.drop_table("linkage_tokens")
    op.drop_table("linkage_records")
    op.drop_table("linkage_subjects")
    op.drop_table("linkage_key_versions")
