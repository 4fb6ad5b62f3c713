"""Alembic environment: runs migrations over the async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from gateway.db.all_models import metadata
from gateway.db.engine import make_engine
from gateway.settings import Settings

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    # Set by gateway.db.migrate; with plain `alembic upgrade head` (alembic.ini) the gateway's
    # own settings name the database.
    url = config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


def run() -> None:
    existing = context.config.attributes.get("connection")
    if existing is not None:
        _run(existing)
        return
    asyncio.run(_main())


run()
