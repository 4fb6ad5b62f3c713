"""Connector API: the receiving agencies' public keys, and connector heartbeats."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from gateway.auth.dependencies import Principal, requires
from gateway.connectors_api import service
from gateway.deps import SessionDep
from schemas.common import AGENCY_CODE_PATTERN

router = APIRouter(tags=["connectors"])


class AgencyKeyOut(BaseModel):
    agency: str
    public_jwk: dict[str, Any] = Field(
        description="Public JWK to encrypt the `protected` payload for this agency. / "
        "Clé publique (JWK) pour chiffrer la charge `protected` destinée à cette agence."
    )
    alg: str = Field(description="JWE key management: ECDH-ES+A256KW (EC) or RSA-OAEP-256.")
    enc: str = Field(description="JWE content encryption. / Chiffrement du contenu.")


@router.get("/v1/directory/agencies/{code}/key", response_model=AgencyKeyOut)
async def get_agency_key(
    code: Annotated[str, Path(pattern=AGENCY_CODE_PATTERN)],
    session: SessionDep,
    _principal: Annotated[Principal, requires()],
) -> AgencyKeyOut:
    """An agency's public encryption key. / La clé publique de chiffrement d'une agence."""
    key = await service.agency_key(session, code)
    return AgencyKeyOut(agency=key.agency, public_jwk=key.public_jwk, alg=key.alg, enc=key.enc)


class HeartbeatBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connector_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    rows_read: int = Field(ge=0, le=2**31 - 1)
    rows_sent: int = Field(ge=0, le=2**31 - 1)
    rows_rejected: int = Field(ge=0, le=2**31 - 1)
    lag_seconds: float | None = Field(default=None, ge=0)


class HeartbeatOut(BaseModel):
    connector_id: str
    agency: str
    received_at: datetime


@router.post("/v1/connectors/heartbeat", status_code=202, response_model=HeartbeatOut)
async def post_heartbeat(
    body: HeartbeatBody,
    session: SessionDep,
    principal: Annotated[Principal, requires("referrals:write")],
) -> HeartbeatOut:
    """Report a successful poll of a connector. / Signaler une relève réussie d'un connecteur."""
    row = await service.record_heartbeat(
        session,
        principal,
        service.HeartbeatIn(
            connector_id=body.connector_id,
            rows_read=body.rows_read,
            rows_sent=body.rows_sent,
            rows_rejected=body.rows_rejected,
            lag_seconds=body.lag_seconds,
        ),
    )
    await session.commit()
    return HeartbeatOut(
        connector_id=row.connector_id, agency=row.agency, received_at=row.received_at
    )
