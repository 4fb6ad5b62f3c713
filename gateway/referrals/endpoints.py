"""Referral API v1: submit, read, list and move referrals through the SOP workflow."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from gateway.auth.dependencies import Principal, requires
from gateway.db.base import utcnow
from gateway.deps import SessionDep, SettingsDep
from gateway.errors import PreconditionFailed, ValidationFailed
from gateway.linkage.rekey import linkage_secret
from gateway.referrals import service
from gateway.referrals.repository import ListFilter
from schemas.codes import ReferralStatus
from schemas.referral import Referral, ReferralCreate, ReferralTransition

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])

_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')
ReferralIdPath = Path(
    pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    description="Referral id (UUID). / Identifiant du référencement (UUID).",
)


class ReferralPage(BaseModel):
    items: list[Referral] = Field(description="Referrals of this page. / Référencements.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end. / "
        "À passer comme `cursor` pour la page suivante ; null à la fin."
    )


def _etag(referral: Referral) -> str:
    return f'"{referral.version}"'


def _check_idempotency_key(key: str) -> str:
    if not _IDEMPOTENCY_KEY.match(key):
        raise ValidationFailed(
            "En-tête Idempotency-Key invalide : 8 à 128 caractères parmi A-Z a-z 0-9 . _ : -",
            "Invalid Idempotency-Key header: 8 to 128 characters from A-Z a-z 0-9 . _ : -",
            code="invalid_idempotency_key",
            errors=[{"field": "header.Idempotency-Key", "type": "pattern", "message": "invalid"}],
        )
    return key


@router.post("", status_code=201, response_model=Referral)
async def submit_referral(
    body: ReferralCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, requires("referrals:write")],
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            description="Unique per referral; a retry with the same key and body returns the "
            "same referral. / Unique par référencement ; un nouvel essai avec la même clé et le "
            "même contenu renvoie le même référencement.",
        ),
    ],
) -> Referral:
    """Submit a referral to a receiving agency. / Soumettre un référencement."""
    submitted = await service.submit_referral(
        session,
        principal,
        body,
        idempotency_key=_check_idempotency_key(idempotency_key),
        linkage_secret=linkage_secret(settings),
    )
    await session.commit()
    response.headers["ETag"] = _etag(submitted.referral)
    response.headers["Location"] = f"/v1/referrals/{submitted.referral.id}"
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return submitted.referral


@router.get("", response_model=ReferralPage)
async def list_referrals(
    session: SessionDep,
    principal: Annotated[Principal, requires("referrals:read")],
    role: Annotated[
        Literal["sent", "received"] | None,
        Query(description="sent | received; both when absent. / envoyés | reçus."),
    ] = None,
    status: Annotated[ReferralStatus | None, Query(description="Status. / Statut.")] = None,
    updated_since: Annotated[
        AwareDatetime | None, Query(description="ISO 8601 with offset. / ISO 8601 avec fuseau.")
    ] = None,
    overdue: Annotated[
        bool, Query(description="Only past an SOP deadline. / Seulement en retard (POS).")
    ] = False,
    cursor: Annotated[str | None, Query(max_length=200, description="Page cursor.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size. / Taille de page.")] = 50,
) -> ReferralPage:
    """List the referrals the agency sent or received. / Lister ses référencements."""
    filters = ListFilter(
        agency=principal.agency,
        role=role,
        status=status.value if status else None,
        updated_since=updated_since,
        overdue_at=utcnow() if overdue else None,
        after=service.decode_cursor(cursor) if cursor else None,
        limit=limit,
    )
    page = await service.list_referrals(session, principal, filters)
    await session.commit()
    return ReferralPage(items=page.items, next_cursor=page.next_cursor)


@router.get("/{referral_id}", response_model=Referral)
async def get_referral(
    referral_id: Annotated[str, ReferralIdPath],
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, requires("referrals:read")],
) -> Referral:
    """Read one referral (parties only). / Lire un référencement (parties seulement)."""
    referral = await service.get_referral(session, principal, referral_id)
    await session.commit()
    response.headers["ETag"] = _etag(referral)
    return referral


@router.post("/{referral_id}/transitions", response_model=Referral)
async def transition_referral(
    referral_id: Annotated[str, ReferralIdPath],
    body: ReferralTransition,
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, requires("referrals:write")],
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="ETag of the version you read; refused with 412 if it changed. / "
            "ETag de la version lue ; refusé (412) si elle a changé.",
        ),
    ] = None,
) -> Referral:
    """Take an SOP step (acknowledge, accept, decline, complete, close, cancel)."""
    version = None
    if if_match is not None:
        match = _ETAG.match(if_match.strip())
        if match is None:
            raise PreconditionFailed(
                'If-Match doit être l\'ETag reçu, par exemple "3".',
                'If-Match must be the ETag you received, for example "3".',
                code="invalid_if_match",
            )
        version = int(match.group(1))
    referral = await service.transition_referral(
        session, principal, referral_id, body, if_match=version
    )
    await session.commit()
    response.headers["ETag"] = _etag(referral)
    return referral
