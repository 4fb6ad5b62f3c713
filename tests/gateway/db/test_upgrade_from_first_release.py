"""Upgrade test: a database at the first release's schema (Alembic 0001 + 0002, the first
revisions on main), filled with data, upgraded to head; the data and the audit chain survive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit.service import AuditRecord, append, release_lane, verify
from gateway.db.engine import make_engine
from gateway.db.migrate import alembic_config, head_revision, pending_revisions, upgrade
from gateway.settings import Settings

FIRST_RELEASE = "0002_referrals_audit_outbox"


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a new SQLite file, or a PostgreSQL database of its own next to the
    shared test database (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    base = make_url(Settings().test_database_url)
    name = f"{base.database}_upgrade"
    admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_upgrade_from_the_first_release_keeps_data_and_audit_chain(fresh_url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(fresh_url), FIRST_RELEASE)
    assert FIRST_RELEASE not in await asyncio.to_thread(pending_revisions, fresh_url)
    assert await asyncio.to_thread(pending_revisions, fresh_url) != []

    engine = make_engine(fresh_url)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    try:
        async with sessions() as session:
            await session.execute(
                text(
                    "INSERT INTO agencies (code, name, kind, area, public_jwk, active, created_at)"
                    " VALUES ('AGA', 'Agence A', 'ngo', NULL, NULL, :t, CURRENT_TIMESTAMP)"
                ),
                {"t": True},
            )
            for n in range(5):
                await append(
                    session,
                    AuditRecord(action="agency.create", object_type="agency", object_id=f"A{n}"),
                )
                release_lane(session)
            await session.commit()

        await asyncio.to_thread(upgrade, fresh_url)
        assert await asyncio.to_thread(pending_revisions, fresh_url) == []

        async with sessions() as session:
            codes = (await session.execute(text("SELECT code FROM agencies"))).scalars().all()
            assert codes == ["AGA"]
            result = await verify(session)
            assert result.ok, result.problem_en
            assert result.entries == 5
            version = (
                (await session.execute(text("SELECT version_num FROM alembic_version")))
                .scalars()
                .all()
            )
            assert tuple(sorted(version)) == head_revision()
    finally:
        await engine.dispose()
