from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from gateway.app import create_app
from gateway.db.all_models import metadata
from gateway.db.migrate import current_revision, head_revision
from gateway.errors import ServiceUnavailable
from gateway.settings import Settings
from tests.conftest import Database


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": False})
    return list(compare_metadata(context, metadata))


async def test_database_is_at_head(database: Database) -> None:
    assert await current_revision(database.engine) == head_revision()


async def test_migrations_match_the_models(database: Database) -> None:
    async with database.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_app_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    app = create_app(settings)
    with pytest.raises(ServiceUnavailable) as err:
        async with app.router.lifespan_context(app):
            pass
    assert "mno db upgrade" in err.value.message_en
