"""Small HTTP helpers shared by the consent tests."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient, Response

from tests.gateway.referrals.conftest import Party
from tests.gateway.referrals.test_endpoints import body_for


async def post_consent(client: AsyncClient, party: Party, body: dict[str, Any]) -> Response:
    return await client.post("/v1/consents", json=body, headers=party.auth)


async def refer(
    client: AsyncClient, referrer: Party, to: str, subject_pseudonym: str | None = None
) -> dict[str, Any]:
    body = body_for(to)
    body.pop("receiving_service", None)  # the directory is not what these tests are about
    if subject_pseudonym is not None:
        body["subject"]["pseudonym"] = subject_pseudonym
    response = await client.post(
        "/v1/referrals",
        json=body,
        headers={**referrer.auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def check(
    client: AsyncClient,
    party: Party,
    subject: str,
    recipient: str,
    categories: list[str],
    **kw: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/v1/consents/check",
        json={
            "subject": subject,
            "recipient": recipient,
            "purpose": kw.pop("purpose", "referral"),
            "data_categories": categories,
            **kw,
        },
        headers=party.auth,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())
