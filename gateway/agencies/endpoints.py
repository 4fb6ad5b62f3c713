"""Administration of agencies and OAuth2 clients (``admin`` scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from gateway.agencies import service
from gateway.agencies.models import Agency, OAuthClient
from gateway.auth.dependencies import Principal, requires
from gateway.auth.state import auth_state
from gateway.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/v1/admin", tags=["admin"])

Admin = Annotated[Principal, requires("admin")]
AgencyKindText = Literal["government", "un", "ngo", "provider"]


class AgencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Z][A-Z0-9-]{1,31}$", examples=["OIM-GN"])
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    kind: AgencyKindText
    area: str | None = Field(default=None, pattern=r"^GN-[A-Z]{1,2}$", examples=["GN-C"])
    public_jwk: dict[str, Any] | None = Field(
        default=None,
        description="Public encryption key (JWK). / Clé publique de chiffrement (JWK).",
    )


class AgencyOut(BaseModel):
    code: str
    name: str
    kind: str
    area: str | None
    public_jwk: dict[str, Any] | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, agency: Agency) -> AgencyOut:
        return cls(
            code=agency.code,
            name=agency.name,
            kind=agency.kind,
            area=agency.area,
            public_jwk=agency.public_jwk,
            active=agency.active,
            created_at=agency.created_at,
        )


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: str = Field(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")
    scopes: str | list[str] = Field(examples=["referrals:write referrals:read"])
    name: str | None = Field(default=None, min_length=1, max_length=200)
    jwks: dict[str, Any] | None = Field(
        default=None,
        description="Public keys for private_key_jwt (RFC 7523); no secret then. / "
        "Clés publiques pour private_key_jwt ; pas de secret dans ce cas.",
    )


class ClientOut(BaseModel):
    client_id: str
    agency: str
    name: str
    scopes: str
    auth_method: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, client: OAuthClient) -> ClientOut:
        return cls(
            client_id=client.client_id,
            agency=client.agency_code,
            name=client.name,
            scopes=client.scopes,
            auth_method="private_key_jwt" if client.jwks is not None else "client_secret_basic",
            created_at=client.created_at,
            revoked_at=client.revoked_at,
        )


class ClientCreatedOut(ClientOut):
    client_secret: str | None = Field(
        description="Shown once, never stored in clear. / Affiché une seule fois."
    )


@router.post("/agencies", status_code=201)
async def add_agency(body: AgencyIn, session: SessionDep, _admin: Admin) -> AgencyOut:
    """Register an agency. / Enregistre une agence."""
    agency = await service.add_agency(
        session,
        code=body.code,
        name=body.name,
        kind=body.kind,
        area=body.area,
        public_jwk=body.public_jwk,
    )
    await session.commit()
    return AgencyOut.of(agency)


@router.get("/agencies")
async def list_agencies(session: SessionDep, _admin: Admin) -> list[AgencyOut]:
    """List agencies. / Liste les agences."""
    return [AgencyOut.of(a) for a in await service.list_agencies(session)]


@router.post("/clients", status_code=201)
async def create_client(body: ClientIn, session: SessionDep, _admin: Admin) -> ClientCreatedOut:
    """Create an OAuth2 client; the secret is returned once. / Crée un client OAuth2."""
    created = await service.create_client(
        session, agency_code=body.agency, scopes=body.scopes, name=body.name, jwks=body.jwks
    )
    await session.commit()
    base = ClientOut.of(created.client)
    return ClientCreatedOut(**base.model_dump(), client_secret=created.client_secret)


@router.post("/clients/{client_id}/revoke")
async def revoke_client(
    client_id: str, session: SessionDep, runtime: RuntimeDep, _admin: Admin
) -> ClientOut:
    """Revoke a client and its tokens. / Révoque un client et ses jetons."""
    client = await service.revoke_client(session, client_id)
    await session.commit()
    # Refuse its tokens in this process at once; other processes within the cache TTL.
    auth_state(runtime).status.mark_client_revoked(client_id)
    return ClientOut.of(client)
