"""Referral API v1: submit, read, list and move referrals through the SOP workflow."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from gateway.auth.dependencies import Principal, requires
from gateway.db.base import utcnow
from gateway.deps import SessionDep, SettingsDep
from gateway.errors import PreconditionFailed, ValidationFailed
from gateway.linkage.rekey import linkage_secret
from gateway.policy.service import PolicyDep, refusals_audited
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


# Reads are redacted by the MoU policy: a Referral without the fields of the data categories the
# reader may not receive (the JWE ``protected`` only for the receiver).
REDACTED = (
    "A Referral, without the fields of the data categories the MoU does not permit you "
    "(headers MNO-Policy-Version, MNO-Permitted-Categories). / Un référencement, sans les "
    "champs des catégories que le protocole d'accord ne vous permet pas de recevoir."
)
REDACTED_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": REDACTED,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Referral"}}},
    }
}


class ReferralPage(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="Referrals of this page, each redacted (see Referral). / "
        "Référencements, chacun expurgé selon la politique."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end. / "
        "À passer comme `cursor` pour la page suivante ; null à la fin."
    )


def _etag(referral: Referral | service.ReferralView) -> str:
    return f'"{referral.version}"'


def _policy_headers(response: Response, view: service.ReferralView) -> None:
    response.headers["ETag"] = _etag(view)
    response.headers["MNO-Policy-Version"] = view.decision.policy_version
    response.headers["MNO-Permitted-Categories"] = ",".join(view.decision.permitted_categories)


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
    point: PolicyDep,
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
    page = await service.list_referrals(session, principal, filters, point)
    await session.commit()
    return ReferralPage(items=page.items, next_cursor=page.next_cursor)


@router.get("/{referral_id}", response_model=None, responses=REDACTED_RESPONSE)
async def get_referral(
    referral_id: Annotated[str, ReferralIdPath],
    response: Response,
    session: SessionDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("referrals:read")],
) -> dict[str, Any]:
    """Read one referral (parties only, redacted). / Lire un référencement (parties, expurgé)."""
    async with refusals_audited(session):
        view = await service.get_referral(session, principal, referral_id, point)
    await session.commit()
    _policy_headers(response, view)
    return view.body


@router.post("/{referral_id}/transitions", response_model=None, responses=REDACTED_RESPONSE)
async def transition_referral(
    referral_id: Annotated[str, ReferralIdPath],
    body: ReferralTransition,
    response: Response,
    session: SessionDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("referrals:write")],
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="ETag of the version you read; refused with 412 if it changed. / "
            "ETag de la version lue ; refusé (412) si elle a changé.",
        ),
    ] = None,
) -> dict[str, Any]:
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
    view = await service.transition_referral(
        session, principal, referral_id, body, if_match=version, point=point
    )
    await session.commit()
    _policy_headers(response, view)
    return view.body
