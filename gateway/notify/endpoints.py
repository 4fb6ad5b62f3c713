"""``/v1/admin/agencies/{code}/contacts``: the focal points that receive e-mail and SMS."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.auth.dependencies import Principal, requires
from gateway.deps import SessionDep
from gateway.notify import service
from gateway.notify.models import AgencyContact

router = APIRouter(prefix="/v1/admin/agencies/{code}/contacts", tags=["admin"])

Admin = Annotated[Principal, requires("admin")]
AgencyCode = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["email", "sms"]
    address: str = Field(
        min_length=3,
        max_length=320,
        examples=["orientation@agence.example.org"],
        description="Role address (a desk, a duty phone), not a person's own. / "
        "Adresse de fonction (un service, un téléphone de permanence), pas personnelle.",
    )
    events: list[str] | None = Field(
        default=None,
        examples=[["referral_received", "referral_overdue"]],
        description="Notices wanted (default: all). / Notifications voulues (défaut : toutes). "
        + ", ".join(service.ALL_KINDS),
    )


class ContactOut(BaseModel):
    id: str
    agency: str
    channel: str
    address: str
    events: list[str]
    created_at: datetime

    @classmethod
    def of(cls, contact: AgencyContact) -> ContactOut:
        return cls(
            id=contact.id,
            agency=contact.agency,
            channel=contact.channel,
            address=contact.address,
            events=list(contact.events),
            created_at=contact.created_at,
        )


@router.post("", status_code=201)
async def add_contact(
    code: AgencyCode, body: ContactIn, session: SessionDep, admin: Admin
) -> ContactOut:
    """Add a focal point to an agency. / Ajoute un point focal à une agence."""
    contact = await service.add_contact(
        session,
        agency=code,
        channel=body.channel,
        address=body.address,
        events=body.events,
        client_id=admin.client_id,
    )
    await session.commit()
    return ContactOut.of(contact)


@router.get("")
async def list_contacts(code: AgencyCode, session: SessionDep, _admin: Admin) -> list[ContactOut]:
    """An agency's focal points. / Les points focaux d'une agence."""
    return [ContactOut.of(c) for c in await service.list_contacts(session, code)]


@router.delete("/{contact_id}", status_code=204)
async def remove_contact(
    code: AgencyCode, contact_id: str, session: SessionDep, admin: Admin
) -> Response:
    """Remove a focal point. / Retire un point focal."""
    await service.remove_contact(session, code, contact_id, admin.client_id)
    await session.commit()
    return Response(status_code=204)
