"""Validation answers speak the client's language: French by default, English on request."""

from __future__ import annotations

import uuid

from httpx import AsyncClient

from tests.gateway.referrals.conftest import Parties
from tests.gateway.referrals.test_endpoints import body_for


async def _post(  # type: ignore[no-untyped-def]
    client: AsyncClient,
    parties: Parties,
    lang: str | None,
    *,
    json: object = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
):
    sent = {**parties.a.auth, "Idempotency-Key": f"key-{uuid.uuid4().hex}", **(headers or {})}
    if lang:
        sent["Accept-Language"] = lang
    return await client.post("/v1/referrals", headers=sent, json=json, content=content)


async def test_missing_field_in_french_by_default_and_in_english_on_request(
    client: AsyncClient, parties: Parties
) -> None:
    body = body_for(parties.b.agency)
    body.pop("subject")
    for lang, text in (
        (None, "Champ obligatoire"),
        ("fr", "Champ obligatoire"),
        ("en", "Field required"),
    ):
        response = await _post(client, parties, lang, json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        errors = response.json()["errors"]
        assert {"field": "body.subject", "type": "missing", "message": text} in errors


async def test_unreadable_json_names_the_body_not_a_character_offset(
    client: AsyncClient, parties: Parties
) -> None:
    response = await _post(
        client, parties, "fr", content=b'{"to": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "body"
    assert error["type"] == "json_invalid"
    assert error["message"].startswith("JSON illisible")
