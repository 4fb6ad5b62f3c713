"""The service-provider directory (HSDS-aligned services of the agencies).

Revision ID: 0003_directory
Revises: 0002_referrals_audit_outbox
"""

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UTCDateTime

revision = "0003_directory"
down_revision = "0002_referrals_audit_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_services",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("agency_code", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("accepting_referrals", sa.Boolean(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_directory_services_agency_code_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_services")),
    )
    op.create_index("ix_directory_services_agency_code", "directory_services", ["agency_code"])
    op.create_index(
        "ix_directory_services_category_status", "directory_services", ["category", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_directory_services_category_status", table_name="directory_services")
    op.drop_index("ix_directory_services_agency_code", table_name="directory_services")
    op.drop_table("directory_services")
