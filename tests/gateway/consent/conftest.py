"""Agencies for consent tests: A (UN, refers), B (provider), C (NGO, third party),
SANTE-DEMO (a health provider under the Guinea MoU, allowed to break the glass)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from httpx import AsyncClient

from tests.conftest import Database
from tests.gateway.referrals.conftest import ALL, Party, make_party


@dataclass
class Agencies:
    a: Party
    b: Party
    c: Party
    health: Party


@pytest.fixture
async def agencies(client: AsyncClient, database: Database) -> Agencies:
    return Agencies(
        await make_party(client, database, "AGENCE-A", kind="un"),
        await make_party(client, database, "AGENCE-B", kind="provider"),
        await make_party(client, database, "AGENCE-C", kind="ngo"),
        await make_party(client, database, "SANTE-DEMO", ALL + " break_glass", kind="provider"),
    )
