"""Merge the per-concept branches into one head, so that plain ``alembic upgrade head`` works.

New migrations revise this single head (``down_revision = "0004_merge_heads"`` or its
successor); ``mno db upgrade`` stays the documented way to migrate.

Revision ID: 0004_merge_heads
Revises: 0003_connectors, 0003_consent, 0003_directory, 0003_linkage, 0003_meal,
    0003_notifications
"""

revision = "0004_merge_heads"
down_revision = (
    "0003_connectors",
    "0003_consent",
    "0003_directory",
    "0003_linkage",
    "0003_meal",
    "0003_notifications",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the merge only joins the branches."""


def downgrade() -> None:
    """Nothing to undo."""
