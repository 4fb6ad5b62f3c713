"""An agency allowed to manage subscriptions, another one, and a real local receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from tests.conftest import Database
from tests.gateway.referrals.conftest import Party, make_party
from tests.gateway.subscriptions.receiver import Receiver

SUBSCRIBER_SCOPES = "subscriptions:write referrals:read"


@pytest.fixture
async def subscriber(client: AsyncClient, database: Database) -> Party:
    return await make_party(client, database, "ABONNE-A", SUBSCRIBER_SCOPES, kind="provider")


@pytest.fixture
async def other_agency(client: AsyncClient, database: Database) -> Party:
    return await make_party(client, database, "ABONNE-B", SUBSCRIBER_SCOPES, kind="ngo")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running
