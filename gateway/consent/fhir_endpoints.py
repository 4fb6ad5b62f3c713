"""FHIR R4B facade of the consent registry: ``/fhir/Consent`` (read, search, create).

Resources are mapped by ``schemas.fhir`` (``consent_to_fhir`` / ``consent_from_fhir``); the
rules are those of the REST API (collector only, legitimate link to read). Bodies are
``application/fhir+json``; errors stay RFC 9457 problem+json, like the rest of the gateway.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from gateway.auth.dependencies import Principal, requires
from gateway.consent import service
from gateway.db.base import utcnow
from gateway.deps import SessionDep, SettingsDep
from gateway.errors import MnoError, ValidationFailed
from gateway.linkage.rekey import linkage_secret
from gateway.policy.service import PolicyDep, refusals_audited
from schemas.common import Pseudonym
from schemas.consent import ConsentCreate
from schemas.fhir import (
    CONSENT_ID,
    PSEUDONYM,
    FhirMappingError,
    consent_from_fhir,
    consent_to_fhir,
)

FHIR_JSON = "application/fhir+json"
_PSEUDONYM: TypeAdapter[str] = TypeAdapter(Pseudonym)

router = APIRouter(prefix="/fhir", tags=["fhir"])

FHIR_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {}}, "description": "FHIR R4B resource."}
}


class UnsupportedMediaType(MnoError):
    status = 415
    code = "unsupported_media_type"


def _fhir(resource: dict[str, Any], status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(resource, status_code=status, media_type=FHIR_JSON, headers=headers)


def _invalid(error: FhirMappingError | ValueError) -> ValidationFailed:
    fr = getattr(error, "message_fr", str(error))
    en = getattr(error, "message_en", str(error))
    return ValidationFailed(
        f"Ressource FHIR Consent invalide : {fr}"[:500],
        f"Invalid FHIR Consent resource: {en}"[:500],
        code="invalid_fhir_resource",
    )


@router.get("/Consent/{consent_id}", response_class=JSONResponse, responses=FHIR_RESPONSE)
async def read_consent(
    consent_id: Annotated[
        str,
        Path(pattern=r"^[0-9a-fA-F-]{36}$", description="Consent id. / Identifiant."),
    ],
    session: SessionDep,
    principal: Annotated[Principal, requires("consent:read")],
) -> JSONResponse:
    """Read a Consent (FHIR R4B). / Lire un Consent FHIR."""
    async with refusals_audited(session):
        consent = await service.get_consent(session, principal, consent_id.lower())
    await session.commit()
    return _fhir(consent_to_fhir(consent))


@router.get("/Consent", response_class=JSONResponse, responses=FHIR_RESPONSE)
async def search_consents(
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, requires("consent:read")],
    patient_identifier: Annotated[
        str,
        Query(
            alias="patient:identifier",
            max_length=200,
            description=f"`{PSEUDONYM}|<pseudonym>` or the pseudonym alone. / "
            "Pseudonyme de la personne.",
        ),
    ],
) -> JSONResponse:
    """Search the Consents of a person: a searchset Bundle. / Consents d'une personne."""
    system, _, value = patient_identifier.rpartition("|")
    if system and system != PSEUDONYM:
        raise ValidationFailed(
            f"Système d'identifiant non pris en charge : {system} (attendu {PSEUDONYM})",
            f"Unsupported identifier system: {system} (expected {PSEUDONYM})",
            code="unsupported_identifier_system",
        )
    try:
        pseudonym = _PSEUDONYM.validate_python(value)
    except ValueError as exc:
        raise _invalid(ValueError(f"patient:identifier: {exc}")) from None
    async with refusals_audited(session):
        consents = await service.consents_of_subject(
            session, principal, pseudonym, linkage_secret=linkage_secret(settings)
        )
    await session.commit()
    entries = [
        {"fullUrl": f"Consent/{c.id}", "resource": consent_to_fhir(c), "search": {"mode": "match"}}
        for c in consents
    ]
    return _fhir(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "searchset",
            "timestamp": utcnow().isoformat(),
            "total": len(entries),
            "entry": entries,
        }
    )


@router.post("/Consent", status_code=201, response_class=JSONResponse, responses=FHIR_RESPONSE)
async def create_consent(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("consent:write")],
) -> JSONResponse:
    """Record a consent sent as a FHIR R4B Consent. / Enregistrer un Consent FHIR."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in (FHIR_JSON, "application/json"):
        raise UnsupportedMediaType(
            f"Type de contenu attendu : {FHIR_JSON}",
            f"Expected content type: {FHIR_JSON}",
        )
    try:
        resource = json.loads(await request.body())
    except ValueError as exc:
        raise _invalid(exc) from None
    if not isinstance(resource, dict):
        raise _invalid(ValueError("not a JSON object"))
    if resource.get("status") != "active":
        raise _invalid(ValueError("status must be 'active' to record a consent"))
    # The registry assigns the record time; a client may choose the id (consent-id identifier).
    identifiers = [i for i in resource.get("identifier", []) if isinstance(i, dict)]
    chosen = [i.get("value") for i in identifiers if i.get("system") == CONSENT_ID]
    resource = {
        **resource,
        "identifier": identifiers
        if chosen
        else [*identifiers, {"system": CONSENT_ID, "value": str(uuid.uuid4())}],
        "dateTime": utcnow().isoformat(),
    }
    try:
        mapped = consent_from_fhir(resource)
        body = ConsentCreate.model_validate(
            mapped.model_dump(include=set(ConsentCreate.model_fields))
        )
    except (FhirMappingError, ValueError) as exc:
        raise _invalid(exc) from None
    consent = await service.record_consent(
        session,
        principal,
        body,
        linkage_secret=linkage_secret(settings),
        consent_id=mapped.id if chosen else None,
    )
    await session.commit()
    point.invalidate(consent.subject_pseudonym)
    return _fhir(consent_to_fhir(consent), 201, Location=f"/fhir/Consent/{consent.id}")
