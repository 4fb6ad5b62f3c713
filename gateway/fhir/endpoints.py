"""FHIR R4B facade of the referrals: ``/fhir/metadata``, ``/fhir/ServiceRequest``, ``/fhir/Task``.

A referral is a ``ServiceRequest`` (the request) and a ``Task`` (its SOP workflow) with the same
id; both carry the referral version as ``meta.versionId`` and ``ETag: W/"<version>"``. JSON only
(``application/fhir+json``); errors are ``OperationOutcome`` resources (``FhirRoute``).
``/fhir/Consent`` lives in ``gateway.consent.fhir_endpoints``.
"""

from __future__ import annotations

import json
import re
import uuid
from email.utils import format_datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from gateway.auth.dependencies import Principal, requires
from gateway.db.base import utcnow
from gateway.deps import SessionDep, SettingsDep
from gateway.errors import BadRequest, PreconditionFailed
from gateway.fhir import service
from gateway.fhir.capability import capability_statement
from gateway.fhir.routing import FHIR_JSON, FhirRoute, fhir_response, operation_outcome
from gateway.linkage.rekey import linkage_secret
from gateway.policy.service import PolicyDep, refusals_audited
from gateway.settings import Settings

router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute)

_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')

FHIR_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {}}, "description": "FHIR R4B resource. / Ressource FHIR R4B."},
    "4XX": {"content": {FHIR_JSON: {}}, "description": "OperationOutcome."},
}
IdPath = Path(max_length=64, description="Referral id (UUID). / Identifiant (UUID).")


def _base(settings: Settings) -> str:
    return f"{settings.issuer.rstrip('/')}/fhir"


def _headers(rendered: service.Rendered) -> dict[str, str]:
    headers = {"ETag": f'W/"{rendered.version}"'}
    if rendered.last_updated is not None:
        headers["Last-Modified"] = format_datetime(rendered.last_updated, usegmt=True)
    if rendered.policy_version is not None:
        headers["MNO-Policy-Version"] = rendered.policy_version
        headers["MNO-Permitted-Categories"] = ",".join(rendered.permitted_categories)
    return headers


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise BadRequest(
            "Le corps n'est pas du JSON valide.",
            "The body is not valid JSON.",
            code="invalid_json",
            errors=[{"field": "body", "type": "structure", "message": "invalid JSON"}],
        ) from None


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise PreconditionFailed(
            'If-Match doit être l\'ETag reçu, par exemple W/"3".',
            'If-Match must be the ETag you received, for example W/"3".',
            code="invalid_if_match",
        )
    return int(match.group(1))


def _idempotency_key(key: str | None, condition: str | None) -> str:
    if condition is not None and key is None:
        return service.if_none_exist_key(condition)
    if key is None or condition is not None:
        raise BadRequest(
            "Un en-tête Idempotency-Key ou If-None-Exist (un seul) est requis pour créer un "
            "référencement.",
            "One Idempotency-Key or If-None-Exist header (not both) is required to create a "
            "referral.",
            code="idempotency_key_required",
            errors=[{"field": "header.Idempotency-Key", "type": "missing", "message": "required"}],
        )
    if not _IDEMPOTENCY_KEY.match(key):
        raise BadRequest(
            "En-tête Idempotency-Key invalide : 8 à 128 caractères parmi A-Z a-z 0-9 . _ : -",
            "Invalid Idempotency-Key header: 8 to 128 characters from A-Z a-z 0-9 . _ : -",
            code="invalid_idempotency_key",
            errors=[{"field": "header.Idempotency-Key", "type": "pattern", "message": "invalid"}],
        )
    return key


@router.get("/metadata", response_class=JSONResponse, responses=FHIR_RESPONSES)
async def metadata(settings: SettingsDep) -> JSONResponse:
    """CapabilityStatement of the FHIR facade (R4B). / Déclaration de capacités FHIR."""
    return fhir_response(capability_statement(settings.issuer))


@router.post(
    "/ServiceRequest", status_code=201, response_class=JSONResponse, responses=FHIR_RESPONSES
)
async def create_service_request(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, requires("referrals:write")],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Unique per referral (or send If-None-Exist). / Unique par référencement.",
        ),
    ] = None,
    if_none_exist: Annotated[
        str | None,
        Header(
            alias="If-None-Exist",
            description="identifier=<system>|<value>: conditional create, a retry returns the "
            "same referral. / Création conditionnelle.",
        ),
    ] = None,
) -> JSONResponse:
    """Submit a referral as a FHIR ServiceRequest. / Soumettre un référencement FHIR."""
    key = _idempotency_key(idempotency_key, if_none_exist)
    body = service.referral_create(await _body(request), principal)
    created = await service.create_service_request(
        session, principal, body, idempotency_key=key, linkage_secret=linkage_secret(settings)
    )
    await session.commit()
    headers = _headers(created)
    referral_id = created.resource["id"]
    headers["Location"] = f"{_base(settings)}/ServiceRequest/{referral_id}"
    status = 201
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
        # FHIR conditional create: a match is answered 200 with the existing resource.
        status = 200 if if_none_exist is not None else 201
    return fhir_response(created.resource, status, headers)


async def _read(
    kind: service.Kind,
    raw_id: str,
    session: SessionDep,
    point: PolicyDep,
    principal: Principal,
) -> JSONResponse:
    async with refusals_audited(session):
        rendered = await service.read(session, principal, kind, raw_id, point)
    await session.commit()
    return fhir_response(rendered.resource, 200, _headers(rendered))


@router.get("/ServiceRequest/{referral_id}", response_class=JSONResponse, responses=FHIR_RESPONSES)
async def read_service_request(
    referral_id: Annotated[str, IdPath],
    session: SessionDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("referrals:read")],
) -> JSONResponse:
    """Read a referral as a ServiceRequest (parties only). / Lire un ServiceRequest."""
    return await _read("ServiceRequest", referral_id, session, point, principal)


@router.get("/Task/{referral_id}", response_class=JSONResponse, responses=FHIR_RESPONSES)
async def read_task(
    referral_id: Annotated[str, IdPath],
    session: SessionDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("referrals:read")],
) -> JSONResponse:
    """Read a referral's workflow as a Task (parties only). / Lire une Task."""
    return await _read("Task", referral_id, session, point, principal)


CountQuery = Query(alias="_count", ge=1, description="Page size (≤ 200). / Taille de page.")
LastUpdatedQuery = Query(
    alias="_lastUpdated", max_length=40, description="gt<instant> | ge<instant>."
)
CursorQuery = Query(alias="_cursor", max_length=200, description="From the next link.")
StatusQuery = Query(max_length=200, description="Comma-separated codes. / Codes séparés par ,")


async def _search(
    kind: service.Kind,
    session: SessionDep,
    settings: Settings,
    point: PolicyDep,
    principal: Principal,
    parsed: service.Search,
    params: dict[str, str | None],
) -> JSONResponse:
    page = await service.search(session, principal, kind, parsed, point)
    await session.commit()
    base = _base(settings)
    kept = {name: value for name, value in params.items() if value is not None}
    kept["_count"] = str(parsed.count)
    links = [{"relation": "self", "url": f"{base}/{kind}?{urlencode(kept)}"}]
    if page.next_cursor:
        following = {**kept, "_cursor": page.next_cursor}
        links.append({"relation": "next", "url": f"{base}/{kind}?{urlencode(following)}"})
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{base}/{kind}/{resource['id']}",
            "resource": resource,
            "search": {"mode": "match"},
        }
        for resource in page.resources
    ]
    if page.unrenderable:
        outcome = operation_outcome(
            status=403,
            code="policy_denied",
            message_fr=f"{page.unrenderable} référencement(s) omis : le protocole d'accord ne "
            "vous en permet pas assez de données.",
            message_en=f"{page.unrenderable} referral(s) left out: the MoU does not permit "
            "you enough of their data.",
            severity="warning",
        )
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": utcnow().isoformat()},
        "type": "searchset",
        "link": links,
        "entry": entries,
    }
    return fhir_response(bundle)


@router.get("/ServiceRequest", response_class=JSONResponse, responses=FHIR_RESPONSES)
async def search_service_requests(
    session: SessionDep,
    settings: SettingsDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("referrals:read")],
    status: Annotated[str | None, StatusQuery] = None,
    last_updated: Annotated[str | None, LastUpdatedQuery] = None,
    count: Annotated[int | None, CountQuery] = None,
    cursor: Annotated[str | None, CursorQuery] = None,
) -> JSONResponse:
    """Search the agency's referrals: a searchset Bundle of ServiceRequests."""
    parsed = service.parse_search(
        "ServiceRequest",
        status=status,
        business_status=None,
        last_updated=last_updated,
        count=count,
        cursor=cursor,
    )
    params = {"status": status, "_lastUpdated": last_updated}
    return await _search("ServiceRequest", session, settings, point, principal, parsed, params)


@router.get("/Task", response_class=JSONResponse, responses=FHIR_RESPONSES)
async def search_tasks(
    session: SessionDep,
    settings: SettingsDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("referrals:read")],
    status: Annotated[str | None, StatusQuery] = None,
    business_status: Annotated[str | None, Query(alias="business-status", max_length=400)] = None,
    last_updated: Annotated[str | None, LastUpdatedQuery] = None,
    count: Annotated[int | None, CountQuery] = None,
    cursor: Annotated[str | None, CursorQuery] = None,
) -> JSONResponse:
    """Search the agency's referral workflows: a searchset Bundle of Tasks."""
    parsed = service.parse_search(
        "Task",
        status=status,
        business_status=business_status,
        last_updated=last_updated,
        count=count,
        cursor=cursor,
    )
    params = {"status": status, "business-status": business_status, "_lastUpdated": last_updated}
    return await _search("Task", session, settings, point, principal, parsed, params)


@router.put("/Task/{referral_id}", response_class=JSONResponse, responses=FHIR_RESPONSES)
async def update_task(
    referral_id: Annotated[str, IdPath],
    request: Request,
    session: SessionDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("referrals:write")],
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='W/"<version>" of the Task you read; 412 if it changed. / '
            "Version lue ; 412 si elle a changé.",
        ),
    ] = None,
) -> JSONResponse:
    """Take an SOP step by updating the Task's status. / Étape des POS par mise à jour."""
    version = _version(if_match)
    rendered = await service.update_task(
        session, principal, referral_id, await _body(request), if_match=version, point=point
    )
    await session.commit()
    return fhir_response(rendered.resource, 200, _headers(rendered))
