"""``mno db upgrade --check`` and the refusal to start on a schema newer than the code."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.cli.main import app as cli
from gateway.db.migrate import head_revision, pending_revisions
from gateway.errors import ServiceUnavailable
from tests.conftest import Database


def test_check_lists_pending_migrations_then_none_after_upgrade(tmp_path: Path) -> None:
    env = {
        "MNO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}",
        "MNO_DATA_DIR": str(tmp_path),
    }
    runner = CliRunner()
    before = runner.invoke(cli, ["db", "upgrade", "--check"], env=env)
    assert before.exit_code == 1, before.output
    assert "0001_agencies_auth" in before.stdout
    for head in head_revision():
        assert head in before.stdout
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    after = runner.invoke(cli, ["db", "upgrade", "--check"], env=env)
    assert after.exit_code == 0, after.output
    assert "Aucune migration en attente" in after.stdout


async def test_no_pending_migration_on_a_migrated_database(database: Database) -> None:
    assert await asyncio.to_thread(pending_revisions, database.url) == []


async def test_gateway_refuses_a_newer_unknown_schema(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999_future')"))
    try:
        with pytest.raises(ServiceUnavailable) as check:
            await asyncio.to_thread(pending_revisions, database.url)
        assert check.value.code == "database_newer"
        app = create_app(database.settings())
        with pytest.raises(ServiceUnavailable) as err:
            async with app.router.lifespan_context(app):
                pass
        assert err.value.code == "database_newer"
        assert "plus récent que ce code" in err.value.message_fr
        assert "9999_future" in err.value.message_en
    finally:
        async with database.engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM alembic_version WHERE version_num = '9999_future'")
            )


def test_one_head_and_plain_alembic_upgrade_head(tmp_path: Path) -> None:
    """The merge revision joins the concept branches: `alembic upgrade head` (alembic.ini at the
    repository root, database from MNO_DATABASE_URL) reaches the same schema as `mno db upgrade`."""
    assert head_revision() == ("0005_linkage_pending",)
    repo = Path(__file__).resolve().parents[3]
    alembic = Path(sys.executable).with_name("alembic")
    env = {
        **os.environ,
        "MNO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}",
        "MNO_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [str(alembic), "upgrade", "head"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert pending_revisions(env["MNO_DATABASE_URL"]) == []
