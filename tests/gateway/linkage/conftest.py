"""Two agencies under one MoU key file, a provider, a third agency, and synthetic people."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response

from connectors.pseudonym.encoder import LinkageEncoding, Pseudonymiser
from connectors.pseudonym.keys import LinkageKey, load_key_file, write_key_file
from connectors.pseudonym.synthetic import AgencyRecord, Person, SyntheticPopulation
from gateway.agencies import service as agency_service
from gateway.auth.dependencies import Principal
from gateway.db.engine import make_sessionmaker
from gateway.linkage.rekey import linkage_secret
from gateway.linkage.service import DuplicateRule, link_pending
from gateway.referrals import service as referral_service
from gateway.settings import Settings
from schemas.codes import MINOR_AGE_BANDS, age_band_for_birth_year
from schemas.referral import ReferralCreate
from tests.conftest import Database
from tests.gateway.referrals.conftest import Party, make_party

SCOPES = "referrals:write referrals:read subjects:match"
# People aged 25 to 50, so that every referral is about an adult (no child-protection rules).
POPULATION = SyntheticPopulation(seed=6060, size=400)
ADULTS = [p for p in POPULATION.people if 25 <= POPULATION.reference_year - p.birth.year <= 50]


@dataclass
class Agencies:
    a: Party  # refers, pseudonymises with the MoU key
    b: Party  # refers, same key file, its own spellings
    provider: Party  # receives both agencies' referrals


@pytest.fixture
async def agencies(client: AsyncClient, database: Database) -> Agencies:
    return Agencies(
        await make_party(client, database, "AGENCE-A", SCOPES, kind="un"),
        await make_party(client, database, "AGENCE-B", SCOPES, kind="ngo"),
        await make_party(client, database, "PRESTA-P", SCOPES, kind="provider"),
    )


async def third_agency(client: AsyncClient, database: Database) -> Party:
    """An agency with no part in the referrals of a test."""
    return await make_party(client, database, "AGENCE-C", SCOPES, kind="ngo")


async def meal_reader(client: AsyncClient, database: Database) -> Party:
    """The steering committee's MEAL officer (statistics only)."""
    return await make_party(client, database, "MEAL-OBS", "meal:read", kind="government")


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """The MoU members' shared key file, as ``mno pseudonymise`` reads it."""
    path = tmp_path / "mou-linkage.key"
    # A fixed synthetic key, so that scores (hence the tests) do not vary from run to run.
    write_key_file(path, LinkageKey("mou-test-1", hashlib.sha256(b"mno synthetic key").digest()))
    return path


@pytest.fixture
def kit(key_file: Path) -> Pseudonymiser:
    return Pseudonymiser(load_key_file(key_file))


def encode(kit: Pseudonymiser, record: AgencyRecord) -> LinkageEncoding:
    encoding = kit.encode(
        given=record.given,
        family=record.family,
        full_name=record.full_name,
        birth_date=record.birth_date,
        sex=record.sex,
        phone=record.phone,
        birth_place=record.birth_place,
    )
    assert encoding is not None
    return encoding


def subject_of(encoding: LinkageEncoding) -> dict[str, Any]:
    """The ``subject`` of a referral, from what the kit produced (nothing else leaves)."""
    body: dict[str, Any] = {
        "pseudonym": encoding.pseudonym,
        "tokens": list(encoding.tokens),
        "bloom": encoding.bloom_text,
        "sex": encoding.sex or "unknown",
    }
    if encoding.birth_year is not None:
        band = age_band_for_birth_year(encoding.birth_year)
        body.update(birth_year=encoding.birth_year, is_minor=band in MINOR_AGE_BANDS)
    else:
        body.update(age_band="25-34", is_minor=False)
    return body


def match_body(encoding: LinkageEncoding, purpose: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "purpose": purpose,
        "pseudonym": encoding.pseudonym,
        "tokens": list(encoding.tokens),
        "bloom": encoding.bloom_text,
    }
    if encoding.birth_year is not None:
        body["birth_year"] = encoding.birth_year
    if encoding.sex:
        body["sex"] = encoding.sex
    return body


def register(agency: str, people: list[Person], seed: int) -> list[AgencyRecord]:
    return POPULATION.register(agency, people, seed=seed)


def referral_body(to: str, subject: dict[str, Any], services: list[str]) -> dict[str, Any]:
    return {
        "receiving_agency": to,
        "subject": subject,
        "case_category": "returning_migrant",
        "vulnerabilities": [],
        "services_requested": services,
        "urgency": "normal",
    }


async def refer(
    client: AsyncClient,
    sender: Party,
    to: Party,
    subject: dict[str, Any],
    services: list[str],
) -> Response:
    return await client.post(
        "/v1/referrals",
        json=referral_body(to.agency, subject, services),
        headers={**sender.auth, "Idempotency-Key": f"k-{uuid.uuid4().hex}"},
    )


async def link_waiting(database: Database, settings: Settings | None = None) -> int:
    """The linkage worker's catch-up, run in the test: links every referral still waiting."""
    settings = settings or database.settings()
    async with make_sessionmaker(database.engine)() as session:
        done = await link_pending(
            session,
            secret=linkage_secret(settings),
            rule=DuplicateRule.from_settings(settings),
            limit=10_000,
        )
        await session.commit()
    return done


# -- straight to the services, without HTTP or OAuth (faster, for rule tests) -----------------


class Ledger:
    """Agencies in the database and referrals submitted through the referral service."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.settings = database.settings()
        self.sessionmaker = make_sessionmaker(database.engine)

    @property
    def secret(self) -> bytes:
        return linkage_secret(self.settings)

    async def agencies(self, *codes: str) -> None:
        async with self.sessionmaker() as session:
            for code in codes:
                await agency_service.add_agency(
                    session, code=code, name=f"Agence {code}", kind="ngo"
                )
            await session.commit()

    async def refer(
        self, sender: str, to: str, subject: dict[str, Any], services: list[str]
    ) -> str:
        principal = Principal(
            client_id=f"client-{sender}", agency=sender, scopes=frozenset(), jti="t"
        )
        body = ReferralCreate.model_validate(referral_body(to, subject, services))
        async with self.sessionmaker() as session:
            done = await referral_service.submit_referral(
                session,
                principal,
                body,
                idempotency_key=f"k-{uuid.uuid4().hex}",
                linkage_secret=self.secret,
            )
            await session.commit()
        await self.link()  # what the linkage worker does on the ReferralSubmitted event
        return str(done.referral.id)

    async def link(self) -> int:
        """Link every referral waiting (the linkage worker's step, without Kafka)."""
        return await link_waiting(self.database, self.settings)


@pytest.fixture
def ledger(database: Database) -> Ledger:
    return Ledger(database)
