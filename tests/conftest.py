"""Session-wide services and per-test databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import create_app
from gateway.db.all_models import metadata
from gateway.db.engine import make_engine
from gateway.db.migrate import upgrade
from gateway.settings import Settings

pytest_plugins = ["tests.kafka_fixtures"]

BACKENDS = ["sqlite", "postgres"]


@dataclass
class Database:
    backend: str
    url: str
    engine: AsyncEngine
    data_dir: Path

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": self.url,
            "data_dir": self.data_dir,
            "issuer": "http://testserver",
            "token_rate_limit_per_minute": 10_000,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "mno.db"
    # Alembic's env runs its own event loop: keep it off this one.
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
async def postgres_url() -> str:
    """The shared PostgreSQL test database, reset then migrated once per session."""
    url = Settings().test_database_url
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await asyncio.to_thread(upgrade, url)
    return url


async def _truncate_postgres(engine: AsyncEngine) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    if names:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_url: str
) -> AsyncIterator[Database]:
    """A migrated, empty database on each backend; every test starts from nothing."""
    if request.param == "sqlite":
        path = tmp_path / "mno.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = postgres_url
    engine = make_engine(url)
    try:
        yield Database(request.param, url, engine, tmp_path)
    finally:
        if request.param == "postgres":
            await _truncate_postgres(engine)
        await engine.dispose()


@pytest.fixture
async def client(database: Database) -> AsyncIterator[AsyncClient]:
    """An HTTP client on the app, lifespan started, over the parametrised database."""
    app = create_app(database.settings())
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http
