"""POST /oauth/token: client authentication methods, scopes, RFC 9068 tokens, OAuth errors."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from authlib.oauth2.rfc7523 import private_key_jwt_sign
from httpx import AsyncClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from gateway.agencies import service as agency_service
from tests.gateway.auth.factories import (
    ClientCredentials,
    create_client_credentials,
    runtime_of,
)

TOKEN_URL = "http://testserver/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _header(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


async def _secret_client(
    api: AsyncClient, scopes: str = "referrals:read referrals:write"
) -> ClientCredentials:
    return await create_client_credentials(
        runtime_of(api).sessionmaker, "OIM-GN", scopes, kind="un"
    )


async def _key_client(api: AsyncClient) -> ClientCredentials:
    return await create_client_credentials(
        runtime_of(api).sessionmaker, "CDS-KANKAN", "referrals:read", private_key_jwt=True
    )


def _assertion(creds: ClientCredentials, audience: str = TOKEN_URL, **claims: Any) -> str:
    assert creds.private_key is not None
    signed: str = private_key_jwt_sign(
        creds.private_key,
        client_id=creds.client_id,
        token_endpoint=audience,
        alg="ES256",
        claims=claims or None,
    )
    return signed


async def test_client_secret_basic_gets_a_token(api: AsyncClient) -> None:
    creds = await _secret_client(api)
    assert creds.client_secret is not None
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    # No scope asked: every scope of the client.
    assert set(body["scope"].split()) == {"referrals:read", "referrals:write"}
    assert response.headers["cache-control"] == "no-store"


async def test_client_secret_post_gets_a_token(api: AsyncClient) -> None:
    creds = await _secret_client(api)
    response = await api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret or "",
            "scope": "referrals:read",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "referrals:read"


async def test_private_key_jwt_gets_a_token(api: AsyncClient) -> None:
    creds = await _key_client(api)
    assert creds.client_secret is None
    response = await api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(creds),
        },
    )
    assert response.status_code == 200, response.text
    claims = jwt.decode(
        response.json()["access_token"], _jwks(await api.get("/.well-known/jwks.json"))
    )
    assert claims.claims["client_id"] == creds.client_id
    assert claims.claims["agency"] == "CDS-KANKAN"


def _jwks(response: Any) -> KeySet:
    return KeySet.import_key_set(response.json())


async def test_access_token_is_an_rfc9068_jwt(api: AsyncClient) -> None:
    creds = await _secret_client(api)
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "referrals:write"},
        auth=(creds.client_id, creds.client_secret or ""),
    )
    token = response.json()["access_token"]
    header = _header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    decoded = jwt.decode(token, _jwks(await api.get("/.well-known/jwks.json")))
    assert decoded.header["kid"] == header["kid"]
    claims = decoded.claims
    assert claims["iss"] == "http://testserver"
    assert claims["aud"] == "http://testserver"
    assert claims["sub"] == creds.client_id
    assert claims["client_id"] == creds.client_id
    assert claims["agency"] == "OIM-GN"
    assert claims["scope"] == "referrals:write"
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60
    assert len(claims["jti"]) >= 16


async def test_each_token_has_its_own_jti(api: AsyncClient) -> None:
    creds = await _secret_client(api)
    jtis = set()
    for _ in range(2):
        response = await api.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(creds.client_id, creds.client_secret or ""),
        )
        jtis.add(
            jwt.decode(
                response.json()["access_token"], _jwks(await api.get("/.well-known/jwks.json"))
            ).claims["jti"]
        )
    assert len(jtis) == 2


async def test_wrong_secret_is_invalid_client(api: AsyncClient) -> None:
    creds = await _secret_client(api)
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, "not-the-secret"),
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.headers["www-authenticate"].startswith("Basic")
    body = response.json()
    assert body["error"] == "invalid_client"
    assert "Client authentication failed" in body["error_description"]
    assert "Authentification du client refusee" in body["error_description"]


async def test_unknown_client_answers_like_a_wrong_secret(api: AsyncClient) -> None:
    response = await api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "nobody-0000",
            "client_secret": "whatever",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_no_credentials_is_invalid_client(api: AsyncClient) -> None:
    response = await api.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_unknown_scope_is_invalid_scope(api: AsyncClient) -> None:
    creds = await _secret_client(api)
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "referrals:read planets:rule"},
        auth=(creds.client_id, creds.client_secret or ""),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_scope_beyond_the_client_is_invalid_scope(api: AsyncClient) -> None:
    creds = await _secret_client(api, "referrals:read")
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "referrals:read admin"},
        auth=(creds.client_id, creds.client_secret or ""),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_other_grant_types_are_refused(api: AsyncClient) -> None:
    creds = await _secret_client(api)
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "x", "password": "y"},
        auth=(creds.client_id, creds.client_secret or ""),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_json_body_is_invalid_request(api: AsyncClient) -> None:
    response = await api.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_revoked_client_gets_no_token(api: AsyncClient) -> None:
    creds = await _secret_client(api)
    async with runtime_of(api).sessionmaker() as session:
        await agency_service.revoke_client(session, creds.client_id)
        await session.commit()
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret or ""),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_client_assertion_cannot_be_replayed(api: AsyncClient) -> None:
    creds = await _key_client(api)
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": _assertion(creds),
    }
    first = await api.post("/oauth/token", data=data)
    assert first.status_code == 200
    replay = await api.post("/oauth/token", data=data)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"


async def test_client_assertion_for_another_audience_is_refused(api: AsyncClient) -> None:
    creds = await _key_client(api)
    response = await api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(creds, audience="https://elsewhere.example/token"),
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_client_assertion_signed_by_an_unregistered_key_is_refused(api: AsyncClient) -> None:
    creds = await _key_client(api)
    impostor = ClientCredentials(
        creds.client_id, None, creds.agency, creds.scopes, ECKey.generate_key("P-256")
    )
    response = await api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(impostor),
        },
    )
    assert response.status_code == 401


async def test_key_client_cannot_fall_back_to_a_secret(api: AsyncClient) -> None:
    creds = await _key_client(api)
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, ""),
    )
    assert response.status_code == 401


async def test_secret_client_cannot_send_an_assertion(api: AsyncClient) -> None:
    creds = await _secret_client(api)
    forged = ClientCredentials(
        creds.client_id, None, creds.agency, creds.scopes, ECKey.generate_key("P-256")
    )
    response = await api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(forged),
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
