"""The API dependency ``requires(...)``: bearer token checks and scopes."""

from __future__ import annotations

import time
from typing import Any

from httpx import AsyncClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from gateway.agencies import service as agency_service
from gateway.auth.state import auth_state
from tests.gateway.auth.factories import (
    bearer,
    create_client_credentials,
    fetch_token,
    runtime_of,
    token_for,
)


def _sign(api: AsyncClient, claims: dict[str, Any], **header: Any) -> str:
    """A token signed with the gateway's own current key (to test the claim checks)."""
    signing = auth_state(runtime_of(api)).keys.current.signing
    base = {"alg": signing.alg, "typ": "at+jwt"}
    base.update(header)
    return jwt.encode(base, claims, KeySet([signing.key]))


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "http://testserver",
        "aud": "http://testserver",
        "sub": "oim-gn-0",
        "client_id": "oim-gn-0",
        "agency": "OIM-GN",
        "scope": "referrals:read",
        "jti": f"jti-{now}",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


async def test_principal_comes_from_the_token(api: AsyncClient) -> None:
    creds = await create_client_credentials(
        runtime_of(api).sessionmaker, "OIM-GN", "referrals:read referrals:write"
    )
    response = await api.get("/test-only/read", headers=bearer(await fetch_token(api, creds)))
    assert response.status_code == 200
    body = response.json()
    assert body["client_id"] == creds.client_id
    assert body["agency"] == "OIM-GN"
    assert body["scopes"] == ["referrals:read", "referrals:write"]
    assert body["jti"]


async def test_missing_token_is_401_problem_json(api: AsyncClient) -> None:
    response = await api.get("/test-only/read")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="mno"'
    assert response.json()["title"].startswith("Jeton d'accès requis")


async def test_missing_token_in_english(api: AsyncClient) -> None:
    response = await api.get("/test-only/read", headers={"Accept-Language": "en"})
    assert response.json()["title"].startswith("Access token required")


async def test_other_scheme_is_refused(api: AsyncClient) -> None:
    response = await api.get("/test-only/read", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_request"


async def test_garbage_token_is_invalid_token(api: AsyncClient) -> None:
    response = await api.get("/test-only/read", headers=bearer("abc.def.ghi"))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_missing_scope_is_403_insufficient_scope(api: AsyncClient) -> None:
    token = await token_for(api, "OIM-GN", "consent:read")
    response = await api.get("/test-only/read", headers=bearer(token))
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "insufficient_scope"
    assert "referrals:read" in body["detail"]
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    # A route that needs no particular scope lets the same token in.
    assert (await api.get("/test-only/any", headers=bearer(token))).status_code == 200


async def test_token_from_a_foreign_key_is_refused(api: AsyncClient) -> None:
    foreign = ECKey.generate_key("P-256", auto_kid=True)
    token = jwt.encode({"alg": "ES256", "typ": "at+jwt"}, _claims(), KeySet([foreign]))
    assert (await api.get("/test-only/read", headers=bearer(token))).status_code == 401


async def test_token_without_at_jwt_typ_is_refused(api: AsyncClient) -> None:
    token = _sign(api, _claims(), typ="JWT")
    response = await api.get("/test-only/read", headers=bearer(token))
    assert response.status_code == 401


async def test_token_for_another_audience_is_refused(api: AsyncClient) -> None:
    token = _sign(api, _claims(aud="https://other-gateway.example"))
    assert (await api.get("/test-only/read", headers=bearer(token))).status_code == 401


async def test_token_from_another_issuer_is_refused(api: AsyncClient) -> None:
    token = _sign(api, _claims(iss="https://other-issuer.example"))
    assert (await api.get("/test-only/read", headers=bearer(token))).status_code == 401


async def test_expired_token_is_refused(api: AsyncClient) -> None:
    past = int(time.time()) - 3600
    token = _sign(api, _claims(iat=past, exp=past + 900))
    assert (await api.get("/test-only/read", headers=bearer(token))).status_code == 401


async def test_tokens_of_a_revoked_client_are_refused(api: AsyncClient) -> None:
    creds = await create_client_credentials(
        runtime_of(api).sessionmaker, "OIM-GN", "referrals:read"
    )
    token = await fetch_token(api, creds)
    assert (await api.get("/test-only/read", headers=bearer(token))).status_code == 200
    async with runtime_of(api).sessionmaker() as session:
        await agency_service.revoke_client(session, creds.client_id)
        await session.commit()
    # As another process would (CLI): only the database knows; the cache expires soon.
    auth_state(runtime_of(api)).status.forget_client(creds.client_id)
    assert (await api.get("/test-only/read", headers=bearer(token))).status_code == 401
