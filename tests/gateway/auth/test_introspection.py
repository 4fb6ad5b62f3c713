"""POST /oauth/introspect (RFC 7662) and POST /oauth/revoke (RFC 7009)."""

from __future__ import annotations

from httpx import AsyncClient

from gateway.auth.revocation import TokenStatusCache
from gateway.auth.tokens import peek_claims
from tests.gateway.auth.factories import (
    bearer,
    create_client_credentials,
    fetch_token,
    runtime_of,
)


async def test_introspection_of_a_live_token_is_active(api: AsyncClient) -> None:
    creds = await create_client_credentials(
        runtime_of(api).sessionmaker, "OIM-GN", "referrals:read"
    )
    token = await fetch_token(api, creds)
    response = await api.post(
        "/oauth/introspect",
        data={"token": token},
        auth=(creds.client_id, creds.client_secret or ""),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == creds.client_id
    assert body["agency"] == "OIM-GN"
    assert body["scope"] == "referrals:read"
    assert body["iss"] == "http://testserver"
    assert body["exp"] > body["iat"]


async def test_introspection_of_garbage_is_inactive(api: AsyncClient) -> None:
    creds = await create_client_credentials(
        runtime_of(api).sessionmaker, "OIM-GN", "referrals:read"
    )
    response = await api.post(
        "/oauth/introspect",
        data={"token": "not.a.token"},
        auth=(creds.client_id, creds.client_secret or ""),
    )
    assert response.status_code == 200
    assert response.json() == {"active": False}


async def test_introspection_of_another_agency_token_is_inactive(api: AsyncClient) -> None:
    maker = runtime_of(api).sessionmaker
    owner = await create_client_credentials(maker, "OIM-GN", "referrals:read")
    other = await create_client_credentials(maker, "CDS-KANKAN", "referrals:read")
    token = await fetch_token(api, owner)
    response = await api.post(
        "/oauth/introspect",
        data={"token": token},
        auth=(other.client_id, other.client_secret or ""),
    )
    assert response.json() == {"active": False}


async def test_introspection_needs_client_authentication(api: AsyncClient) -> None:
    response = await api.post("/oauth/introspect", data={"token": "x.y.z"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_revoked_token_is_refused_everywhere(api: AsyncClient) -> None:
    creds = await create_client_credentials(
        runtime_of(api).sessionmaker, "OIM-GN", "referrals:read"
    )
    token = await fetch_token(api, creds)
    assert (await api.get("/test-only/read", headers=bearer(token))).status_code == 200

    revoked = await api.post(
        "/oauth/revoke",
        data={"token": token, "token_type_hint": "access_token"},
        auth=(creds.client_id, creds.client_secret or ""),
    )
    assert revoked.status_code == 200

    refused = await api.get("/test-only/read", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    introspected = await api.post(
        "/oauth/introspect",
        data={"token": token},
        auth=(creds.client_id, creds.client_secret or ""),
    )
    assert introspected.json() == {"active": False}


async def test_revocation_is_seen_by_a_fresh_cache(api: AsyncClient) -> None:
    """Another process (empty cache) refuses the token too: the jti is in the database."""
    creds = await create_client_credentials(
        runtime_of(api).sessionmaker, "OIM-GN", "referrals:read"
    )
    token = await fetch_token(api, creds)
    await api.post(
        "/oauth/revoke", data={"token": token}, auth=(creds.client_id, creds.client_secret or "")
    )
    claims = peek_claims(token)
    fresh = TokenStatusCache(runtime_of(api).sessionmaker)
    assert await fresh.is_refused(claims["jti"], claims["client_id"], claims["exp"]) is True


async def test_revoking_an_unknown_token_is_not_an_error(api: AsyncClient) -> None:
    creds = await create_client_credentials(
        runtime_of(api).sessionmaker, "OIM-GN", "referrals:read"
    )
    response = await api.post(
        "/oauth/revoke",
        data={"token": "garbage"},
        auth=(creds.client_id, creds.client_secret or ""),
    )
    assert response.status_code == 200


async def test_a_client_cannot_revoke_another_client_token(api: AsyncClient) -> None:
    maker = runtime_of(api).sessionmaker
    owner = await create_client_credentials(maker, "OIM-GN", "referrals:read")
    other = await create_client_credentials(maker, "CDS-KANKAN", "referrals:read")
    token = await fetch_token(api, owner)
    response = await api.post(
        "/oauth/revoke", data={"token": token}, auth=(other.client_id, other.client_secret or "")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert (await api.get("/test-only/read", headers=bearer(token))).status_code == 200
