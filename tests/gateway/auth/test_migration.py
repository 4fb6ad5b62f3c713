"""Migration 0001 creates exactly the tables the models declare."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from gateway.db.all_models import metadata
from tests.conftest import Database

MINE = {"agencies", "oauth_clients", "signing_keys", "revoked_tokens"}


def _table_of(diff: Any) -> str | None:
    if isinstance(diff, list):  # column modifications come as a list of tuples
        return _table_of(diff[0])
    for item in diff[1:]:
        name = getattr(item, "name", None)
        table = getattr(item, "table", None)
        if table is not None:
            return str(table.name)
        if isinstance(item, str) and item in MINE:
            return item
        if name in MINE:
            return str(name)
    return None


async def test_schema_matches_the_models(database: Database) -> None:
    def compare(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with database.engine.connect() as conn:
        diffs = await conn.run_sync(compare)
    mine = [d for d in diffs if _table_of(d) in MINE]
    assert mine == []
    # And the tables are really there.
    async with database.engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
    assert names >= MINE
