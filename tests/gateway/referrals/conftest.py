"""Three agencies with OAuth2 clients: A refers to B; C is a third party that must see nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from httpx import AsyncClient

from gateway.agencies import repository as agency_repository
from gateway.agencies import service as agency_service
from gateway.db.engine import make_sessionmaker
from tests.conftest import Database

ALL = "referrals:write referrals:read consent:write consent:read"


@dataclass
class Party:
    agency: str
    client_id: str
    secret: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_party(
    client: AsyncClient, database: Database, code: str, scopes: str = ALL, kind: str = "ngo"
) -> Party:
    sessionmaker = make_sessionmaker(database.engine)
    async with sessionmaker() as session:
        if await agency_repository.get_agency(session, code) is None:
            await agency_service.add_agency(session, code=code, name=f"Agence {code}", kind=kind)
        new = await agency_service.create_client(session, agency_code=code, scopes=scopes)
        await session.commit()
    assert new.client_secret is not None
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(new.client.client_id, new.client_secret),
    )
    assert response.status_code == 200, response.text
    return Party(code, new.client.client_id, new.client_secret, response.json()["access_token"])


@dataclass
class Parties:
    a: Party
    b: Party
    c: Party


@pytest.fixture
async def parties(client: AsyncClient, database: Database) -> Parties:
    from tests.gateway.consent.factories import seed_consent

    found = Parties(
        await make_party(client, database, "AGENCE-A", kind="un"),
        await make_party(client, database, "AGENCE-B", kind="provider"),
        await make_party(client, database, "AGENCE-C", kind="ngo"),
    )
    # Under the MoU, B reads of A's referrals only what the subject consented to share with B.
    await seed_consent(database, collecting_agency="AGENCE-A", recipients=["AGENCE-B"])
    return found
