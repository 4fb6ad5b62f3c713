"""Signing keys: created at start, encrypted at rest, rotated without breaking live tokens."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from httpx import AsyncClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import text, update

from gateway.app import create_app
from gateway.auth.keys import load_keyring, rotate_keys
from gateway.auth.models import SigningKey
from gateway.auth.state import auth_state, key_encryptor
from gateway.auth.tokens import peek_claims
from gateway.db.base import utcnow
from gateway.errors import ServiceUnavailable
from tests.conftest import Database
from tests.gateway.auth.factories import bearer, runtime_of, token_for
from tests.gateway.auth.test_token import _header


async def _rotate(api: AsyncClient, alg: str = "ES256") -> str:
    runtime = runtime_of(api)
    async with runtime.sessionmaker() as session:
        row = await rotate_keys(
            session,
            key_encryptor(runtime.settings),
            token_ttl_seconds=runtime.settings.access_token_ttl_seconds,
            alg=alg,
        )
        await session.commit()
    return row.kid


async def _kids(api: AsyncClient) -> set[str]:
    return {k["kid"] for k in (await api.get("/.well-known/jwks.json")).json()["keys"]}


async def test_rotation_keeps_the_old_key_published_and_its_tokens_valid(api: AsyncClient) -> None:
    old_token = await token_for(api, "OIM-GN", "referrals:read")
    old_kid = _header(old_token)["kid"]
    new_kid = await _rotate(api)
    await auth_state(runtime_of(api)).keys.reload()  # what the app does within a minute

    assert await _kids(api) == {old_kid, new_kid}
    assert (await api.get("/test-only/read", headers=bearer(old_token))).status_code == 200
    new_token = await token_for(api, "OIM-GN", "referrals:read")
    assert _header(new_token)["kid"] == new_kid


async def test_retired_key_leaves_the_jwks_once_its_tokens_expired(api: AsyncClient) -> None:
    old_kid = next(iter(await _kids(api)))
    new_kid = await _rotate(api)
    runtime = runtime_of(api)
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(SigningKey)
            .where(SigningKey.kid == old_kid)
            .values(not_after=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    await auth_state(runtime).keys.reload()
    assert await _kids(api) == {new_kid}


async def test_token_signed_by_a_key_rotated_elsewhere_is_accepted(api: AsyncClient) -> None:
    """Another replica rotated and signs with the new key: this one re-reads the keys."""
    await token_for(api, "OIM-GN", "referrals:read")  # makes the agency and its client
    claims_source = peek_claims(await token_for(api, "OIM-GN", "referrals:read"))
    await _rotate(api)
    runtime = runtime_of(api)
    async with runtime.sessionmaker() as session:
        elsewhere = await load_keyring(session, key_encryptor(runtime.settings))
    token = jwt.encode(
        {"alg": elsewhere.signing.alg, "typ": "at+jwt"},
        {**claims_source, "jti": "signed-elsewhere"},
        KeySet([elsewhere.signing.key]),
    )
    store = auth_state(runtime).keys
    store._loaded_at -= 60  # the last read is not recent, so an unknown kid triggers one
    assert (await api.get("/test-only/read", headers=bearer(token))).status_code == 200
    assert store.current.signing.kid == elsewhere.signing.kid


async def test_rotation_may_change_the_algorithm(api: AsyncClient) -> None:
    await _rotate(api, alg="RS256")
    await auth_state(runtime_of(api)).keys.reload()
    token = await token_for(api, "OIM-GN", "referrals:read")
    assert _header(token)["alg"] == "RS256"
    assert (await api.get("/test-only/read", headers=bearer(token))).status_code == 200


async def test_private_key_is_encrypted_at_rest(api: AsyncClient, database: Database) -> None:
    async with database.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT kid, private_key_encrypted, public_jwk FROM signing_keys")
            )
        ).one()
    kid, stored, public = row
    public_jwk = public if isinstance(public, dict) else json.loads(public)
    assert stored.startswith("v1.")
    assert '"d"' not in stored
    assert "d" not in public_jwk
    private = json.loads(key_encryptor(runtime_of(api).settings).decrypt(stored, kid))
    assert private["x"] == public_jwk["x"]
    assert private["d"]


async def test_start_refuses_a_key_it_cannot_decrypt(database: Database) -> None:
    first = create_app(database.settings())
    async with first.router.lifespan_context(first):
        pass  # creates the first key, encrypted with the default secret
    other = create_app(database.settings(secret_key="un-autre-secret-maitre"))
    with pytest.raises(ServiceUnavailable) as raised:
        async with other.router.lifespan_context(other):
            pass
    assert raised.value.code == "signing_key_unreadable"
    assert "mno keys rotate" in raised.value.message_en
