"""Agencies and clients: validation, conflicts, secrets never stored in clear."""

from __future__ import annotations

import json

import pytest
from joserfc.jwk import ECKey, RSAKey

from gateway.agencies import service
from gateway.auth.crypto import verify_client_secret
from gateway.db.engine import make_sessionmaker
from gateway.errors import Conflict, NotFound, ValidationFailed
from tests.conftest import Database


async def test_add_and_list_agencies(database: Database) -> None:
    async with make_sessionmaker(database.engine)() as session:
        await service.add_agency(
            session, code="OIM-GN", name="Agence fictive", kind="un", area="GN-C"
        )
        await service.add_agency(session, code="MASE", name="Ministère fictif", kind="government")
        await session.commit()
        agencies = await service.list_agencies(session)
    assert [(a.code, a.kind, a.area, a.active) for a in agencies] == [
        ("MASE", "government", None, True),
        ("OIM-GN", "un", "GN-C", True),
    ]


async def test_duplicate_agency_is_a_conflict(database: Database) -> None:
    async with make_sessionmaker(database.engine)() as session:
        await service.add_agency(session, code="OIM-GN", name="Agence fictive", kind="un")
        with pytest.raises(Conflict):
            await service.add_agency(session, code="OIM-GN", name="Autre", kind="un")


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("code", {"code": "oim"}),
        ("kind", {"kind": "company"}),
        ("name", {"name": ""}),
        ("area", {"area": "GN-ZZ"}),
        ("public_jwk", {"public_jwk": {"kty": "EC", "d": "secret"}}),
    ],
)
async def test_invalid_agency_is_refused(
    database: Database, field: str, values: dict[str, object]
) -> None:
    fields: dict[str, object] = {"code": "OIM-GN", "name": "Agence fictive", "kind": "un"}
    fields.update(values)
    async with make_sessionmaker(database.engine)() as session:
        with pytest.raises(ValidationFailed) as raised:
            await service.add_agency(session, **fields)  # type: ignore[arg-type]
    assert raised.value.errors[0]["field"] == field


def test_public_key_from_pem_or_jwk() -> None:
    key = RSAKey.generate_key(2048)
    from_pem = service.public_jwk_from_text(key.as_pem(private=False).decode())
    assert from_pem["kty"] == "RSA"
    assert "d" not in from_pem
    ec = ECKey.generate_key("P-256")
    from_jwk = service.public_jwk_from_text(json.dumps(ec.as_dict(private=False)))
    assert from_jwk["crv"] == "P-256"
    with pytest.raises(ValidationFailed):
        service.public_jwk_from_text(ec.as_pem(private=True).decode())


async def test_client_secret_is_stored_only_as_a_hash(database: Database) -> None:
    async with make_sessionmaker(database.engine)() as session:
        await service.add_agency(session, code="OIM-GN", name="Agence fictive", kind="un")
        created = await service.create_client(
            session, agency_code="OIM-GN", scopes="referrals:read referrals:read admin"
        )
        await session.commit()
    assert created.client_secret is not None
    assert created.client.client_id.startswith("oim-gn-")
    assert created.client.scopes == "referrals:read admin"
    assert created.client.secret_hash is not None
    assert created.client_secret not in created.client.secret_hash
    assert verify_client_secret(created.client_secret, created.client.secret_hash)


async def test_client_with_jwks_has_no_secret(database: Database) -> None:
    key = ECKey.generate_key("P-256", auto_kid=True)
    async with make_sessionmaker(database.engine)() as session:
        await service.add_agency(session, code="OIM-GN", name="Agence fictive", kind="un")
        created = await service.create_client(
            session, agency_code="OIM-GN", scopes="referrals:read", jwks=key.as_dict(private=False)
        )
    assert created.client_secret is None
    assert created.client.secret_hash is None
    assert created.auth_method == "private_key_jwt"
    assert created.client.jwks == {"keys": [dict(key.as_dict(private=False))]}


async def test_client_refuses_unknown_scopes_agencies_and_private_keys(database: Database) -> None:
    async with make_sessionmaker(database.engine)() as session:
        await service.add_agency(session, code="OIM-GN", name="Agence fictive", kind="un")
        with pytest.raises(ValidationFailed):
            await service.create_client(
                session, agency_code="OIM-GN", scopes="referrals:read rule:all"
            )
        with pytest.raises(ValidationFailed):
            await service.create_client(session, agency_code="OIM-GN", scopes="")
        with pytest.raises(NotFound):
            await service.create_client(session, agency_code="NOPE", scopes="admin")
        private = ECKey.generate_key("P-256").as_dict(private=True)
        with pytest.raises(ValidationFailed):
            await service.create_client(
                session, agency_code="OIM-GN", scopes="admin", jwks={"keys": [private]}
            )


async def test_revoke_client_is_idempotent(database: Database) -> None:
    async with make_sessionmaker(database.engine)() as session:
        await service.add_agency(session, code="OIM-GN", name="Agence fictive", kind="un")
        created = await service.create_client(session, agency_code="OIM-GN", scopes="admin")
        first = await service.revoke_client(session, created.client.client_id)
        revoked_at = first.revoked_at
        again = await service.revoke_client(session, created.client.client_id)
        assert revoked_at is not None
        assert again.revoked_at == revoked_at
        with pytest.raises(NotFound):
            await service.revoke_client(session, "nobody")
