"""Programmatic Alembic: upgrade to head, and the start-up check for an unmigrated schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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


def known_revisions() -> set[str]:
    """Every revision this code ships."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}


def _pending(conn: Connection) -> list[str]:
    current = set(_current(conn))
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    unknown = current - known_revisions()
    if unknown:
        raise ServiceUnavailable(*_newer_messages(tuple(sorted(unknown))), code="database_newer")
    applied: set[str] = set()
    for rev in current:
        applied.update(r.revision for r in script.iterate_revisions(rev, "base"))
    pending = [r.revision for r in script.walk_revisions() if r.revision not in applied]
    return list(reversed(pending))


def pending_revisions(url: str) -> list[str]:
    """Migrations not yet applied, oldest first (``mno db upgrade --check``); synchronous.
    Raises ``ServiceUnavailable`` when the database carries a revision this code does not know."""
    return asyncio.run(_pending_async(url))


async def _pending_async(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_pending)
    finally:
        await engine.dispose()


def _newer_messages(unknown: tuple[str, ...]) -> tuple[str, str]:
    return (
        f"Le schéma de la base ({', '.join(unknown)}) est plus récent que ce code : installez la "
        "version de la passerelle qui l'a créé, ou restaurez une sauvegarde.",
        f"The database schema ({', '.join(unknown)}) is newer than this code: install the "
        "gateway release that created it, or restore a backup.",
    )


def _current(conn: Connection) -> tuple[str, ...]:
    return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))


async def current_revision(engine: AsyncEngine) -> tuple[str, ...]:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def ensure_migrated(engine: AsyncEngine) -> None:
    """Refuse to start on a database that is not at the head revision."""
    current = await current_revision(engine)
    head = head_revision()
    unknown = tuple(sorted(set(current) - known_revisions()))
    if unknown:
        raise ServiceUnavailable(*_newer_messages(unknown), code="database_newer")
    if current != head:
        raise ServiceUnavailable(
            f"Base de données non migrée (révision {', '.join(current) or 'aucune'}, attendue "
            f"{', '.join(head)}) : lancez « mno db upgrade ».",
            f"Database not migrated (revision {', '.join(current) or 'none'}, expected "
            f"{', '.join(head)}): run 'mno db upgrade'.",
            code="database_not_migrated",
        )
