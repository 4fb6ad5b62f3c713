"""Connector API: receiving agencies' public keys and connector heartbeats."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select

from gateway.connectors_api import repository
from gateway.connectors_api.models import ConnectorHeartbeat
from gateway.db.base import utcnow
from gateway.db.engine import make_sessionmaker
from tests.conftest import Database
from tests.gateway.auth.factories import bearer, ensure_agency, runtime_of, token_for


async def test_an_agency_key_is_readable_by_any_client(client: AsyncClient) -> None:
    ec = ECKey.generate_key("P-256", auto_kid=True)
    rsa = RSAKey.generate_key(2048)
    async with runtime_of(client).sessionmaker() as session:
        await ensure_agency(session, "CDS-KANKAN", public_jwk=dict(ec.as_dict(private=False)))
        await ensure_agency(session, "MEC-CONAKRY", public_jwk=dict(rsa.as_dict(private=False)))
        await ensure_agency(session, "SANS-CLE")
        await session.commit()
    token = await token_for(client, "OIM-GN", "referrals:read")

    found = await client.get("/v1/directory/agencies/CDS-KANKAN/key", headers=bearer(token))
    assert found.status_code == 200
    assert found.json()["public_jwk"] == dict(ec.as_dict(private=False))
    assert (found.json()["alg"], found.json()["enc"]) == ("ECDH-ES+A256KW", "A256GCM")
    rsa_key = await client.get("/v1/directory/agencies/MEC-CONAKRY/key", headers=bearer(token))
    assert rsa_key.json()["alg"] == "RSA-OAEP-256"
    assert "d" not in rsa_key.json()["public_jwk"]

    for code in ("SANS-CLE", "INCONNUE"):
        missing = await client.get(f"/v1/directory/agencies/{code}/key", headers=bearer(token))
        assert missing.status_code == 404
        assert missing.json()["code"] == "agency_key_not_found"
    bad = await client.get("/v1/directory/agencies/pas-un-code/key", headers=bearer(token))
    assert bad.status_code == 422
    anonymous = await client.get("/v1/directory/agencies/CDS-KANKAN/key")
    assert anonymous.status_code == 401


async def test_heartbeats_are_stored_per_poll(client: AsyncClient, database: Database) -> None:
    token = await token_for(client, "OIM-GN", "referrals:write")
    body = {
        "connector_id": "oim-gn-dossiers",
        "rows_read": 120,
        "rows_sent": 110,
        "rows_rejected": 10,
        "lag_seconds": 42.5,
    }
    first = await client.post("/v1/connectors/heartbeat", json=body, headers=bearer(token))
    assert first.status_code == 202, first.text
    assert first.json()["agency"] == "OIM-GN"
    idle = {**body, "rows_read": 0, "rows_sent": 0, "rows_rejected": 0, "lag_seconds": None}
    second = await client.post("/v1/connectors/heartbeat", json=idle, headers=bearer(token))
    assert second.status_code == 202

    async with database.engine.connect() as conn:
        rows = (
            await conn.execute(select(ConnectorHeartbeat).order_by(ConnectorHeartbeat.id))
        ).all()
    assert [(r.rows_read, r.rows_sent, r.rows_rejected, r.lag_seconds) for r in rows] == [
        (120, 110, 10, 42.5),
        (0, 0, 0, None),
    ]
    assert rows[0].agency == "OIM-GN"
    async with make_sessionmaker(database.engine)() as session:
        latest = await repository.latest_per_connector(session)
        assert [(h.connector_id, h.rows_read) for h in latest] == [("oim-gn-dossiers", 0)]
        since = utcnow() - timedelta(hours=1)
        assert await repository.agencies_reporting_since(session, since) == ["OIM-GN"]


async def test_heartbeat_needs_write_scope_and_valid_counters(client: AsyncClient) -> None:
    reader = await token_for(client, "OIM-GN", "referrals:read")
    body = {"connector_id": "c1", "rows_read": 1, "rows_sent": 1, "rows_rejected": 0}
    refused = await client.post("/v1/connectors/heartbeat", json=body, headers=bearer(reader))
    assert refused.status_code == 403
    writer = await token_for(client, "OIM-GN", "referrals:write")
    negative = {**body, "rows_read": -1}
    invalid = await client.post("/v1/connectors/heartbeat", json=negative, headers=bearer(writer))
    assert invalid.status_code == 422
    extra = {**body, "nom": "DIALLO"}
    invalid = await client.post("/v1/connectors/heartbeat", json=extra, headers=bearer(writer))
    assert invalid.status_code == 422
