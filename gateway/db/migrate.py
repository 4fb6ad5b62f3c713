"""Programmatic Alembic: upgrade to head, and the start-up check for an unmigrated schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.errors import ServiceUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> tuple[str, ...]:
    """The head revisions. Concepts add migrations on their own branches from a common base,
    so there may be several heads; the database must be at all of them."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))


def upgrade(url: str) -> None:
    """Apply every migration (``mno db upgrade``); synchronous, run outside the event loop."""
    command.upgrade(alembic_config(url), "heads")


def _current(conn: Connection) -> tuple[str, ...]:
    return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))


async def current_revision(engine: AsyncEngine) -> tuple[str, ...]:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def ensure_migrated(engine: AsyncEngine) -> None:
    """Refuse to start on a database that is not at the head revision."""
    current = await current_revision(engine)
    head = head_revision()
    if current != head:
        raise ServiceUnavailable(
            f"Base de données non migrée (révision {', '.join(current) or 'aucune'}, attendue "
            f"{', '.join(head)}) : lancez « mno db upgrade ».",
            f"Database not migrated (revision {', '.join(current) or 'none'}, expected "
            f"{', '.join(head)}): run 'mno db upgrade'.",
            code="database_not_migrated",
        )
