"""The demo directory loaded into the parametrised database, and directory writers."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.db.engine import make_sessionmaker
from gateway.directory import hsds
from gateway.directory import service as directory_service
from tests.conftest import Database

DEMO_FILE = Path(__file__).resolve().parents[3] / "deploy" / "directory" / "demo-directory.json"


async def load_demo(database: Database) -> None:
    organizations, entries = hsds.from_hsds(hsds.read_document(DEMO_FILE))
    async with make_sessionmaker(database.engine)() as session:
        await directory_service.import_directory(session, organizations, entries)
        await session.commit()


@pytest.fixture
async def demo_directory(database: Database) -> Database:
    """The parametrised database with the demo agencies and their services."""
    await load_demo(database)
    return database
