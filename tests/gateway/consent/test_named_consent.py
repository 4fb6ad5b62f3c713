"""A consent means what it says: a referral that names a consent must name one that exists,
is the same person's, is in force and covers the referral; an expired consent is refused at
the door. On both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import func, select

from gateway.consent.models import ConsentRow
from gateway.referrals.models import ReferralRow
from tests.conftest import Database
from tests.gateway.consent.conftest import Agencies
from tests.gateway.consent.factories import consent_body, new_subject
from tests.gateway.consent.helpers import post_consent
from tests.gateway.referrals.conftest import Party
from tests.gateway.referrals.test_endpoints import body_for


async def _refer_naming(
    client: AsyncClient, referrer: Party, to: str, consent_id: str, subject: str
) -> Response:
    body = body_for(to, consent_id=consent_id)
    body.pop("receiving_service", None)
    body["subject"]["pseudonym"] = subject
    return await client.post(
        "/v1/referrals",
        json=body,
        headers={**referrer.auth, "Idempotency-Key": uuid.uuid4().hex},
    )


async def _consent(client: AsyncClient, party: Party, **kw: Any) -> dict[str, Any]:
    recipients = kw.pop("recipients", ["AGENCE-B"])
    response = await post_consent(client, party, consent_body("AGENCE-A", recipients, **kw))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _refused(response: Response, code: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    assert problem["errors"][0]["field"] == "body.consent_id"


async def _referrals(database: Database) -> int:
    async with database.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(ReferralRow))).scalar_one())


async def test_a_referral_naming_a_consent_in_force_is_accepted(
    client: AsyncClient, agencies: Agencies
) -> None:
    subject = new_subject()
    consent = await _consent(client, agencies.a, subject_pseudonym=subject)

    response = await _refer_naming(client, agencies.a, "AGENCE-B", consent["id"], subject)

    assert response.status_code == 201, response.text
    assert response.json()["consent_id"] == consent["id"]


async def test_a_consent_covering_the_receivers_kind_is_enough(
    client: AsyncClient, agencies: Agencies
) -> None:
    subject = new_subject()
    consent = await _consent(client, agencies.a, subject_pseudonym=subject, recipients=["provider"])

    response = await _refer_naming(client, agencies.a, "AGENCE-B", consent["id"], subject)

    assert response.status_code == 201, response.text


async def test_an_unknown_consent_is_refused_and_nothing_is_written(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    response = await _refer_naming(client, agencies.a, "AGENCE-B", str(uuid.uuid4()), new_subject())

    _refused(response, "consent_unknown")
    assert "POST /v1/consents" in response.json()["detail"]
    assert await _referrals(database) == 0


async def test_another_persons_consent_is_refused(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    consent = await _consent(client, agencies.a, subject_pseudonym=new_subject())

    response = await _refer_naming(client, agencies.a, "AGENCE-B", consent["id"], new_subject())

    _refused(response, "consent_other_subject")
    assert await _referrals(database) == 0


async def test_a_withdrawn_consent_is_not_in_force(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    subject = new_subject()
    consent = await _consent(client, agencies.a, subject_pseudonym=subject)
    withdrawn = await client.post(
        f"/v1/consents/{consent['id']}/withdraw",
        json={"reason": "requested_by_person"},
        headers=agencies.a.auth,
    )
    assert withdrawn.status_code == 200, withdrawn.text

    response = await _refer_naming(client, agencies.a, "AGENCE-B", consent["id"], subject)

    _refused(response, "consent_not_in_force")
    assert await _referrals(database) == 0


async def test_a_consent_that_starts_later_is_not_in_force(
    client: AsyncClient, agencies: Agencies
) -> None:
    subject = new_subject()
    body = consent_body("AGENCE-A", ["AGENCE-B"], subject_pseudonym=subject)
    body["valid_from"] = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    recorded = await post_consent(client, agencies.a, body)
    assert recorded.status_code == 201, recorded.text

    response = await _refer_naming(client, agencies.a, "AGENCE-B", recorded.json()["id"], subject)

    _refused(response, "consent_not_in_force")


async def test_a_consent_for_another_recipient_or_purpose_does_not_cover(
    client: AsyncClient, agencies: Agencies
) -> None:
    subject = new_subject()
    to_c = await _consent(client, agencies.a, subject_pseudonym=subject, recipients=["AGENCE-C"])
    research = await _consent(client, agencies.a, subject_pseudonym=subject, purposes=["research"])

    other_recipient = await _refer_naming(client, agencies.a, "AGENCE-B", to_c["id"], subject)
    other_purpose = await _refer_naming(client, agencies.a, "AGENCE-B", research["id"], subject)

    _refused(other_recipient, "consent_not_covering")
    _refused(other_purpose, "consent_not_covering")
    assert "AGENCE-B" in other_recipient.json()["detail"]


async def test_an_already_expired_consent_cannot_be_recorded(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    body = consent_body("AGENCE-A", ["AGENCE-B"], subject_pseudonym=new_subject())
    body["valid_from"] = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    body["valid_until"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()

    response = await post_consent(client, agencies.a, body)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "consent_already_expired"
    assert problem["errors"][0]["field"] == "body.valid_until"
    async with database.engine.connect() as conn:
        stored = (await conn.execute(select(func.count()).select_from(ConsentRow))).scalar_one()
    assert stored == 0
