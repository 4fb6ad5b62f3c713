"""The referral parties (A refers to B; C sees nothing) and FHIR request helpers."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient, Response

from schemas import examples
from schemas.fhir import REFERRAL_ID, referral_to_service_request
from tests.gateway.referrals.conftest import Party, parties

__all__ = ["parties"]

FHIR_JSON = "application/fhir+json"


def service_request_for(to: str, **changes: Any) -> dict[str, Any]:
    """A ServiceRequest as a partner posts it: the example referral without server fields."""
    resource = referral_to_service_request(examples.referral(to=to))
    for server_owned in ("id", "meta", "requester", "supportingInfo"):
        resource.pop(server_owned)
    resource["identifier"] = [i for i in resource["identifier"] if i["system"] != REFERRAL_ID]
    resource.update(changes)
    return resource


async def create(
    client: AsyncClient,
    who: Party,
    resource: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> Response:
    """POST /fhir/ServiceRequest; a fresh Idempotency-Key unless ``headers`` are given."""
    sent = headers if headers is not None else {"Idempotency-Key": f"fhir-{uuid.uuid4().hex}"}
    return await client.post(
        "/fhir/ServiceRequest",
        json=resource,
        headers={**who.auth, "Content-Type": FHIR_JSON, **sent},
    )


async def created_id(client: AsyncClient, referrer: Party, to: str) -> str:
    response = await create(client, referrer, service_request_for(to))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
