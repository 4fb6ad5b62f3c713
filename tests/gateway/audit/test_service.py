from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from gateway.audit.models import AuditEntry
from gateway.audit.service import AuditRecord, append, verify
from gateway.cli.main import app
from gateway.db.engine import make_sessionmaker
from tests.conftest import Database


async def _write(database: Database, n: int) -> None:
    sessionmaker = make_sessionmaker(database.engine)
    for i in range(n):
        async with sessionmaker() as session:
            await append(
                session,
                AuditRecord(
                    action="referral.read",
                    object_type="referral",
                    object_id=f"obj-{i}",
                    client_id="client-1",
                    agency="AGENCE-A",
                ),
            )
            await session.commit()


async def _verify(database: Database):  # type: ignore[no-untyped-def]
    async with make_sessionmaker(database.engine)() as session:
        return await verify(session)


async def test_intact_chain_verifies(database: Database) -> None:
    await _write(database, 40)
    result = await _verify(database)
    assert result.ok
    assert result.entries == 40


async def test_edited_entry_is_named(database: Database) -> None:
    await _write(database, 20)
    async with database.engine.begin() as conn:
        victim = (
            await conn.execute(select(AuditEntry.id).order_by(AuditEntry.id).limit(1).offset(7))
        ).scalar_one()
        await conn.execute(
            update(AuditEntry).where(AuditEntry.id == victim).values(agency="AGENCE-Z")
        )
    result = await _verify(database)
    assert not result.ok
    assert f"entry {victim} " in (result.problem_en or "")


async def test_deleted_entry_is_reported_missing(database: Database) -> None:
    await _write(database, 30)
    async with database.engine.begin() as conn:
        row = (
            await conn.execute(select(AuditEntry.lane, AuditEntry.seq).where(AuditEntry.seq == 1))
        ).first()
        assert row is not None
        await conn.execute(
            delete(AuditEntry).where(AuditEntry.lane == row.lane, AuditEntry.seq == 1)
        )
    result = await _verify(database)
    assert not result.ok
    assert f"lane {row.lane}, #1" in (result.problem_en or "")


async def test_deleted_tail_is_detected(database: Database) -> None:
    await _write(database, 5)
    async with database.engine.begin() as conn:
        last = (
            await conn.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
        ).scalar_one()
        await conn.execute(delete(AuditEntry).where(AuditEntry.id == last))
    result = await _verify(database)
    assert not result.ok
    assert "Missing entry" in (result.problem_en or "")


@pytest.mark.usefixtures("database")
async def test_cli_exits_1_naming_the_altered_entry(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _write(database, 3)
    monkeypatch.setenv("MNO_DATABASE_URL", database.url)
    runner = CliRunner()
    ok = await _in_thread(runner, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    async with database.engine.begin() as conn:
        first = (
            await conn.execute(select(AuditEntry.id).order_by(AuditEntry.id).limit(1))
        ).scalar_one()
        await conn.execute(
            update(AuditEntry).where(AuditEntry.id == first).values(decision="permit")
        )
    bad = await _in_thread(runner, ["audit", "verify"])
    assert bad.exit_code == 1
    assert f"Altered entry: entry {first} " in bad.output


async def _in_thread(runner: CliRunner, args: list[str]):  # type: ignore[no-untyped-def]
    import asyncio

    # The command runs its own event loop: keep it off the test's loop.
    return await asyncio.to_thread(runner.invoke, app, args)
