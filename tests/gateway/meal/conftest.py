"""Facts fed straight through the aggregator's service layer, on both database backends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from consumers.meal.service import Applied, apply_events
from gateway.agencies import service as agency_service
from gateway.db.engine import make_sessionmaker
from gateway.meal.logframe import Logframe, load_logframe
from tests.conftest import Database
from tests.gateway.meal.factories import october_stream


async def feed(database: Database, events: Sequence[dict[str, Any]]) -> Applied:
    async with make_sessionmaker(database.engine)() as session:
        applied = await apply_events(session, events)
        await session.commit()
    return applied


async def add_agencies(database: Database, *codes: str) -> None:
    async with make_sessionmaker(database.engine)() as session:
        for code in codes:
            await agency_service.add_agency(session, code=code, name=f"Agence {code}", kind="ngo")
        await session.commit()


@pytest.fixture(scope="session")
def frame() -> Logframe:
    return load_logframe()


@pytest.fixture
async def october(database: Database) -> Database:
    """The October 2026 stream of factories.october_stories, materialised."""
    applied = await feed(database, october_stream())
    assert applied.poison == []
    return database
