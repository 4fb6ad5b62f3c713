"""Connector support rules: heartbeats are recorded as sent; keys are read from agencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies import repository as agency_repository
from gateway.auth.dependencies import Principal
from gateway.connectors_api import repository
from gateway.connectors_api.models import ConnectorHeartbeat
from gateway.db.base import utcnow
from gateway.errors import NotFound


@dataclass(frozen=True)
class HeartbeatIn:
    connector_id: str
    rows_read: int
    rows_sent: int
    rows_rejected: int
    lag_seconds: float | None


async def record_heartbeat(
    session: AsyncSession, principal: Principal, heartbeat: HeartbeatIn
) -> ConnectorHeartbeat:
    """One successful poll of a connector of the caller's agency."""
    row = ConnectorHeartbeat(
        agency=principal.agency,
        client_id=principal.client_id,
        connector_id=heartbeat.connector_id,
        received_at=utcnow(),
        rows_read=heartbeat.rows_read,
        rows_sent=heartbeat.rows_sent,
        rows_rejected=heartbeat.rows_rejected,
        lag_seconds=heartbeat.lag_seconds,
    )
    repository.add(session, row)
    await session.flush()
    return row


@dataclass(frozen=True)
class AgencyKey:
    agency: str
    public_jwk: dict[str, Any]
    alg: str
    enc: str = "A256GCM"


def key_algorithm(jwk: dict[str, Any]) -> str:
    """The JWE key management algorithm senders use for this key."""
    return "RSA-OAEP-256" if jwk.get("kty") == "RSA" else "ECDH-ES+A256KW"


async def agency_key(session: AsyncSession, code: str) -> AgencyKey:
    """The public encryption key of an active agency (404 when unknown or without a key)."""
    agency = await agency_repository.get_agency(session, code)
    if agency is None or not agency.active or not agency.public_jwk:
        raise NotFound(
            f"Aucune clé de chiffrement publiée pour l'agence {code}.",
            f"No encryption key published for agency {code}.",
            code="agency_key_not_found",
        )
    return AgencyKey(code, dict(agency.public_jwk), key_algorithm(agency.public_jwk))
