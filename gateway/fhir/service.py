"""FHIR ⇄ MNO for referrals: parse what a FHIR client sends, call the referral service, render.

No rule lives here: who may read, submit or move a referral, idempotency, the SOP state machine
and the MoU redaction are ``gateway.referrals.service``'s. This module only translates
(``schemas.fhir`` holds the resource mapping) and names the FHIR element at fault when a
resource cannot be translated.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth.dependencies import Principal
from gateway.errors import BadRequest, Conflict, Forbidden, MnoError, NotFound, ValidationFailed
from gateway.policy.service import PolicyDecisionPoint
from gateway.referrals import service as referrals
from gateway.referrals.repository import ListFilter
from schemas.categories import REFERRAL_FIELD_CATEGORIES
from schemas.codes import CaseCategory, DeclineReason, Outcome, ReferralStatus, label
from schemas.fhir import (
    AGENCY_CODE,
    REFERRAL_ID,
    SERVICE_REQUEST_STATUS,
    TASK_STATUS,
    FhirMappingError,
    code_system_uri,
    referral_create_from_fhir,
    referral_to_service_request,
    referral_to_task,
    validate,
)
from schemas.referral import TRANSITIONS, Referral, ReferralCreate, ReferralTransition

Kind = Literal["ServiceRequest", "Task"]
E = TypeVar("E", bound=StrEnum)

# HL7 v3 ObservationValue REDACTED: the resource lacks what the MoU does not let this reader see.
REDACTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "REDACTED",
    "display": "redacted",
}
MAX_COUNT = 200
DEFAULT_COUNT = 50

_RENDER: Mapping[Kind, Callable[[Referral], dict[str, Any]]] = {
    "ServiceRequest": referral_to_service_request,
    "Task": referral_to_task,
}
_STATUS_SYSTEM = code_system_uri(ReferralStatus)
_CASE_SYSTEM = code_system_uri(CaseCategory)
_UUID_LENGTH = 36

# Where each ReferralCreate / SubjectRef field travels in a ServiceRequest (for error paths).
_PATIENT = "ServiceRequest.contained.ofType(Patient)"
_ELEMENT_OF_FIELD = {
    "receiving_agency": "ServiceRequest.performer",
    "receiving_service": "ServiceRequest.performer",
    "case_category": "ServiceRequest.reasonCode",
    "vulnerabilities": "ServiceRequest.reasonCode",
    "services_requested": "ServiceRequest.category",
    "urgency": "ServiceRequest.extension",
    "consent_id": "ServiceRequest.supportingInfo",
    "protected": "ServiceRequest.extension",
    "external_reference": "ServiceRequest.identifier",
    "pseudonym": f"{_PATIENT}.identifier",
    "tokens": f"{_PATIENT}.identifier",
    "bloom": f"{_PATIENT}.extension",
    "birth_year": f"{_PATIENT}.birthDate",
    "age_band": f"{_PATIENT}.extension",
    "sex": f"{_PATIENT}.gender",
    "nationality": f"{_PATIENT}.extension",
    "area_code": f"{_PATIENT}.extension",
    "languages": f"{_PATIENT}.communication",
    "is_minor": f"{_PATIENT}.extension",
    "is_unaccompanied": f"{_PATIENT}.extension",
}


@dataclass(frozen=True)
class Rendered:
    """A FHIR resource for one reader, with what its HTTP headers need."""

    resource: dict[str, Any]
    version: int
    last_updated: datetime | None
    policy_version: str | None = None
    permitted_categories: tuple[str, ...] = ()
    replayed: bool = False


@dataclass(frozen=True)
class SearchPage:
    resources: list[dict[str, Any]]
    next_cursor: str | None
    unrenderable: int


@dataclass(frozen=True)
class Search:
    """FHIR search parameters, already parsed."""

    statuses: frozenset[ReferralStatus] | None = None
    updated_from: datetime | None = None
    updated_strictly_after: bool = False
    count: int = DEFAULT_COUNT
    cursor: str | None = None


# --------------------------------------------------------------------------- errors


def _issue(path: str, message: str, kind: str = "invalid") -> dict[str, str]:
    return {"field": path, "type": kind, "message": message}


def _invalid(fr: str, en: str, issues: Iterable[dict[str, str]], status: int = 422) -> MnoError:
    error = BadRequest if status == 400 else ValidationFailed
    return error(fr, en, code="invalid_fhir_resource", errors=list(issues))


def _qualified(path: str, resource_type: str) -> str:
    return path if path[:1].isupper() else f"{resource_type}.{path}"


def _mapping_error(error: FhirMappingError, resource_type: str, *, structural: bool) -> MnoError:
    issues = [_issue(_qualified(path, resource_type), msg) for path, msg in error.issues]
    if structural and issues:
        # fhir.resources' own text is long; the issues name each element and what is wrong.
        paths = ", ".join(issue["field"] for issue in issues[:5])
        fr = f"Ressource FHIR {resource_type} invalide : {paths}"
        en = f"Invalid FHIR {resource_type} resource: {paths}"
    else:
        fr = f"Ressource FHIR {resource_type} invalide : {error.message_fr}"
        en = f"Invalid FHIR {resource_type} resource: {error.message_en}"
    return _invalid(
        fr[:500],
        en[:500],
        issues or [_issue(resource_type, error.message_en[:300])],
        400 if structural else 422,
    )


def _pydantic_error(error: ValidationError) -> MnoError:
    issues = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"] if isinstance(part, str)]
        element = next((_ELEMENT_OF_FIELD[p] for p in loc if p in _ELEMENT_OF_FIELD), None)
        issues.append(_issue(element or "ServiceRequest", item["msg"]))
    return _invalid(
        "Le ServiceRequest ne forme pas un référencement valide.",
        "The ServiceRequest does not make a valid referral.",
        issues,
    )


def not_found(referral_id: str) -> NotFound:
    """The referral service's answer for an unknown id, for ids that cannot even be one."""
    return NotFound(
        f"Référencement introuvable : {referral_id}",
        f"Referral not found: {referral_id}",
        code="referral_not_found",
    )


def _referral_id(raw: str) -> str:
    """A FHIR id that cannot be a referral's is answered like an unknown one."""
    try:
        if len(raw) != _UUID_LENGTH:
            raise ValueError(raw)
        return str(uuid.UUID(raw))
    except ValueError:
        raise not_found(raw[:64]) from None


def _json_object(resource: Any, resource_type: str) -> Mapping[str, Any]:
    if not isinstance(resource, Mapping):
        raise _invalid(
            "Le corps doit être un objet JSON (une ressource FHIR).",
            "The body must be a JSON object (a FHIR resource).",
            [_issue(resource_type, "not a JSON object", "structure")],
            400,
        )
    return resource


# --------------------------------------------------------------------------- rendering


def _withheld(body: Mapping[str, Any]) -> list[str]:
    """Fields the reader does not get: a redacted payload omits them (None is kept)."""
    subject = body.get("subject") or {}
    missing = []
    for name in REFERRAL_FIELD_CATEGORIES:
        head, _, rest = name.partition(".")
        if (rest not in subject) if rest else (head not in body):
            missing.append(name)
    return missing


def render(kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
    """A ServiceRequest or Task of a referral as its reader may see it (redacted payload)."""
    data = dict(body)
    hidden_case = "case_category" not in data
    if hidden_case:
        # Required by the model, withheld by the MoU: rendered with any code, then removed.
        data["case_category"] = next(iter(CaseCategory))
    try:
        referral = Referral.model_validate(data)
    except ValidationError:
        raise Forbidden(
            "Le protocole d'accord ne vous permet pas de recevoir assez de données de ce "
            "référencement pour en faire une ressource FHIR.",
            "The MoU does not permit you enough data of this referral to make a FHIR resource.",
            code="policy_denied",
        ) from None
    resource = _RENDER[kind](referral)
    if hidden_case and "reasonCode" in resource:
        reasons = [
            {"coding": codings}
            for concept in resource["reasonCode"]
            if (codings := [c for c in concept["coding"] if c.get("system") != _CASE_SYSTEM])
        ]
        if reasons:
            resource["reasonCode"] = reasons
        else:
            del resource["reasonCode"]
    # Only the ServiceRequest carries fields of other categories than statistical.
    if kind == "ServiceRequest" and _withheld(body):
        resource["meta"] = {**resource["meta"], "security": [REDACTED]}
    return resource


def _minimal_task(echo: Mapping[str, Any]) -> dict[str, Any]:
    """What an actor the policy lets read nothing gets back from its own step."""
    status = ReferralStatus(echo["status"])
    task = {
        "resourceType": "Task",
        "id": str(echo["id"]),
        "meta": {"versionId": str(echo["version"]), "security": [REDACTED]},
        "identifier": [{"system": REFERRAL_ID, "value": str(echo["id"])}],
        "status": TASK_STATUS[status],
        "businessStatus": {
            "coding": [{"system": _STATUS_SYSTEM, "code": status.value, "display": label(status)}]
        },
        "intent": "order",
    }
    return validate("Task", task)


_ECHO = frozenset({"id", "status", "version"})


def _rendered(kind: Kind, view: referrals.ReferralView) -> Rendered:
    body = view.body
    if set(body) == _ECHO:
        resource, updated = _minimal_task(body), None
    else:
        resource = render(kind, body)
        updated = datetime.fromisoformat(str(body["updated_at"]))
    return Rendered(
        resource,
        view.version,
        updated,
        view.decision.policy_version,
        view.decision.permitted_categories,
    )


# --------------------------------------------------------------------------- create


def referral_create(resource: Any, principal: Principal) -> ReferralCreate:
    """The ``ReferralCreate`` of a posted ServiceRequest (or Bundle holding one)."""
    resource = _json_object(resource, "ServiceRequest")
    kind = resource.get("resourceType")
    if kind not in ("ServiceRequest", "Bundle"):
        raise _invalid(
            f"ServiceRequest (ou Bundle) attendu, reçu {kind!r}.",
            f"Expected a ServiceRequest (or a Bundle), got {kind!r}.",
            [_issue("ServiceRequest.resourceType", f"unexpected {kind!r}", "structure")],
            400,
        )
    try:
        # Structure first (400), then what the MNO mapping needs (422).
        validate(str(kind), dict(resource))
    except FhirMappingError as error:
        raise _mapping_error(error, str(kind), structural=True) from None
    request: Mapping[str, Any] | None = resource
    if kind == "Bundle":
        found = [
            e.get("resource")
            for e in resource.get("entry", [])
            if (e.get("resource") or {}).get("resourceType") == "ServiceRequest"
        ]
        request = found[0] if len(found) == 1 else None
    if request is not None:
        _check_submittable(request, principal)
    try:
        return referral_create_from_fhir(resource)
    except FhirMappingError as error:
        raise _mapping_error(error, "ServiceRequest", structural=False) from None
    except ValidationError as error:
        raise _pydantic_error(error) from None
    except (ValueError, KeyError, TypeError, AttributeError):
        # Elements FHIR marks required but fhir.resources does not check (a communication
        # without language, a reference without value…): the resource cannot be mapped.
        raise _invalid(
            "Le ServiceRequest ne suit pas le profil MNO (voir docs/fhir.md).",
            "The ServiceRequest does not follow the MNO profile (see docs/fhir.md).",
            [_issue("ServiceRequest", "cannot be mapped to a referral")],
        ) from None


def _check_submittable(request: Mapping[str, Any], principal: Principal) -> None:
    issues = []
    if request.get("status") != "active":
        issues.append(_issue("ServiceRequest.status", "must be 'active' to submit a referral"))
    if request.get("intent") != "order":
        issues.append(_issue("ServiceRequest.intent", "must be 'order'"))
    identifier = (request.get("requester") or {}).get("identifier") or {}
    if "requester" in request and (
        identifier.get("system") != AGENCY_CODE or identifier.get("value") != principal.agency
    ):
        issues.append(
            _issue(
                "ServiceRequest.requester",
                f"the requester is the agency of the access token ({principal.agency})",
            )
        )
    if issues:
        raise _invalid(
            "Le ServiceRequest ne peut pas être soumis tel quel.",
            "The ServiceRequest cannot be submitted as it is.",
            issues,
        )


def if_none_exist_key(condition: str) -> str:
    """The gateway idempotency key of a conditional create (``If-None-Exist``)."""
    name, _, value = condition.strip().partition("=")
    if name != "identifier" or not value:
        raise BadRequest(
            "If-None-Exist doit être de la forme identifier=<système>|<valeur>.",
            "If-None-Exist must be identifier=<system>|<value>.",
            code="unsupported_condition",
            errors=[_issue("header.If-None-Exist", "expected identifier=<system>|<value>")],
        )
    return "fhir-if-none-exist:" + hashlib.sha256(value.encode()).hexdigest()[:48]


async def create_service_request(
    session: AsyncSession,
    principal: Principal,
    body: ReferralCreate,
    *,
    idempotency_key: str,
    linkage_secret: bytes,
) -> Rendered:
    """Submit the referral; the answer is the ServiceRequest the sender reads back."""
    submitted = await referrals.submit_referral(
        session, principal, body, idempotency_key=idempotency_key, linkage_secret=linkage_secret
    )
    referral = submitted.referral
    return Rendered(
        referral_to_service_request(referral),
        referral.version,
        referral.updated_at,
        replayed=submitted.replayed,
    )


# --------------------------------------------------------------------------- read and search


async def read(
    session: AsyncSession,
    principal: Principal,
    kind: Kind,
    raw_id: str,
    point: PolicyDecisionPoint,
) -> Rendered:
    """A ServiceRequest or Task for one of the referral's parties (404 for anyone else)."""
    view = await referrals.get_referral(session, principal, _referral_id(raw_id), point)
    return _rendered(kind, view)


def _token_values(raw: str) -> list[str]:
    return [v.strip() for v in raw.split(",") if v.strip()]


def _statuses_of(
    raw: str | None, table: Mapping[ReferralStatus, str], param: str
) -> frozenset[ReferralStatus] | None:
    if raw is None:
        return None
    found: set[ReferralStatus] = set()
    for value in _token_values(raw):
        matched = {status for status, code in table.items() if code == value}
        if not matched:
            allowed = ", ".join(sorted(set(table.values())))
            raise BadRequest(
                f"Valeur inconnue pour {param} : {value} (valeurs : {allowed}).",
                f"Unknown value for {param}: {value} (allowed: {allowed}).",
                code="invalid_search_parameter",
                errors=[_issue(f"query.{param}", f"unknown code {value!r}")],
            )
        found |= matched
    return frozenset(found)


def _business_statuses(raw: str | None) -> frozenset[ReferralStatus] | None:
    if raw is None:
        return None
    found: set[ReferralStatus] = set()
    for value in _token_values(raw):
        system, bar, code = value.rpartition("|")
        try:
            if bar and system not in ("", _STATUS_SYSTEM):
                raise ValueError(system)
            found.add(ReferralStatus(code))
        except ValueError:
            raise BadRequest(
                f"business-status : code {_STATUS_SYSTEM} attendu, reçu {value}.",
                f"business-status: expected a code of {_STATUS_SYSTEM}, got {value}.",
                code="invalid_search_parameter",
                errors=[_issue("query.business-status", f"unknown code {value!r}")],
            ) from None
    return frozenset(found)


def _last_updated(raw: str | None) -> tuple[datetime | None, bool]:
    if raw is None:
        return None, False
    prefix, value = raw[:2], raw[2:]
    if prefix not in ("gt", "ge"):
        raise BadRequest(
            "_lastUpdated : seuls les préfixes gt et ge sont pris en charge.",
            "_lastUpdated: only the gt and ge prefixes are supported.",
            code="invalid_search_parameter",
            errors=[_issue("query._lastUpdated", "expected gt<instant> or ge<instant>")],
        )
    try:
        if len(value) == len("2025-01-01"):
            # A date is the whole day: ge from its start, gt from the next day's.
            day = date.fromisoformat(value) + timedelta(days=1 if prefix == "gt" else 0)
            return datetime(day.year, day.month, day.day, tzinfo=UTC), False
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"_lastUpdated : date invalide {value!r}.",
            f"_lastUpdated: invalid date {value!r}.",
            code="invalid_search_parameter",
            errors=[_issue("query._lastUpdated", "invalid date or instant")],
        ) from None
    # FHIR: without a zone the server's own, which is UTC.
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment, prefix == "gt"


def parse_search(
    kind: Kind,
    *,
    status: str | None,
    business_status: str | None,
    last_updated: str | None,
    count: int | None,
    cursor: str | None,
) -> Search:
    """FHIR search parameters of ``/fhir/ServiceRequest`` or ``/fhir/Task``."""
    table = SERVICE_REQUEST_STATUS if kind == "ServiceRequest" else TASK_STATUS
    statuses = _statuses_of(status, table, "status")
    wanted = _business_statuses(business_status)
    if wanted is not None:
        statuses = wanted if statuses is None else statuses & wanted
    updated_from, strict = _last_updated(last_updated)
    return Search(
        statuses=statuses,
        updated_from=updated_from,
        updated_strictly_after=strict,
        count=min(count or DEFAULT_COUNT, MAX_COUNT),
        cursor=cursor,
    )


def _decoded_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        return referrals.decode_cursor(cursor)
    except ValidationFailed:
        raise BadRequest(
            "_cursor invalide : reprenez le lien next d'une réponse précédente.",
            "Invalid _cursor: follow the next link of a previous response.",
            code="invalid_cursor",
            errors=[_issue("query._cursor", "invalid cursor")],
        ) from None


def _matches(item: Mapping[str, Any], search: Search) -> bool:
    if search.statuses is not None and item.get("status") not in search.statuses:
        return False
    if search.updated_strictly_after and search.updated_from is not None:
        updated = datetime.fromisoformat(str(item.get("updated_at")))
        return updated > search.updated_from
    return True


async def search(
    session: AsyncSession,
    principal: Principal,
    kind: Kind,
    query: Search,
    point: PolicyDecisionPoint,
) -> SearchPage:
    """One page of the agency's referrals as ServiceRequests or Tasks."""
    if query.statuses is not None and not query.statuses:
        return SearchPage([], None, 0)  # status and business-status exclude each other
    single = next(iter(query.statuses)) if query.statuses and len(query.statuses) == 1 else None
    filters = ListFilter(
        agency=principal.agency,
        status=single.value if single else None,
        updated_since=query.updated_from,
        after=_decoded_cursor(query.cursor) if query.cursor else None,
        limit=query.count,
    )
    page = await referrals.list_referrals(session, principal, filters, point)
    # Several statuses (FHIR's "active" is three MNO ones) and gt are filtered on the page;
    # the cursor still walks every row, so a page may hold fewer than _count entries.
    resources, unrenderable = [], 0
    for item in page.items:
        if not _matches(item, query):
            continue
        try:
            resources.append(render(kind, item))
        except Forbidden:
            unrenderable += 1
    return SearchPage(resources, page.next_cursor, unrenderable)


# --------------------------------------------------------------------------- Task update


def _codes(concepts: Iterable[Any], system: str) -> list[str]:
    return [
        str(coding.get("code"))
        for concept in concepts
        if isinstance(concept, Mapping)
        for coding in concept.get("coding", [])
        if isinstance(coding, Mapping) and coding.get("system") == system
    ]


def _target_status(task: Mapping[str, Any]) -> ReferralStatus:
    """The status a Task update asks for.

    ``businessStatus`` (MNO code) when ``Task.status`` agrees with it (the only way to say
    "closed", whose Task.status is "completed"); otherwise ``Task.status``, which a generic FHIR
    client changes without knowing our code system.
    """
    status = task.get("status")
    business = _codes([task.get("businessStatus")], _STATUS_SYSTEM)
    target = _member(ReferralStatus, business[0]) if len(business) == 1 else None
    if target is not None and status in (None, TASK_STATUS[target]):
        return target
    # "completed" is both completed and closed: closing needs businessStatus "closed".
    candidates = [s for s, code in TASK_STATUS.items() if code == status]
    if not candidates:
        raise _invalid(
            f"Task.status « {status} » ne correspond à aucune étape des POS.",
            f"Task.status '{status}' is no SOP step.",
            [_issue("Task.status", "expected received, accepted, rejected, completed, cancelled")],
        )
    return candidates[0]


def _member(codes: type[E], value: str) -> E | None:
    try:
        return codes(value)
    except ValueError:
        return None


def task_step(task: Any, referral_id: str) -> ReferralTransition:
    """The SOP step a PUT Task asks for: the one action that leads to its new status."""
    task = _json_object(task, "Task")
    if task.get("resourceType") != "Task":
        raise _invalid(
            "Ressource Task attendue.",
            "A Task resource is expected.",
            [_issue("Task.resourceType", "expected 'Task'", "structure")],
            400,
        )
    try:
        validate("Task", dict(task))
    except FhirMappingError as error:
        raise _mapping_error(error, "Task", structural=True) from None
    if str(task.get("id", "")).lower() != referral_id:
        raise _invalid(
            "Task.id doit être l'id de l'URL.",
            "Task.id must be the id in the URL.",
            [_issue("Task.id", f"expected {referral_id!r}")],
            400,
        )
    target = _target_status(task)
    actions = [rule for rule in TRANSITIONS.values() if rule.to_status == target]
    if not actions:
        raise Conflict(
            f"Aucune étape des POS ne mène au statut « {label(target)} ».",
            f"No SOP step leads to status '{target.value}'.",
            code="invalid_transition",
        )
    rule = actions[0]
    reason = outcome = None
    if rule.requires_reason:
        reasons = _codes([task.get("statusReason")], code_system_uri(DeclineReason))
        reason = _member(DeclineReason, reasons[0]) if len(reasons) == 1 else None
        if reason is None:
            raise _invalid(
                "Refuser demande un motif : Task.statusReason (code decline-reason).",
                "Declining needs a reason: Task.statusReason (a decline-reason code).",
                [
                    _issue(
                        "Task.statusReason",
                        f"expected one code of {code_system_uri(DeclineReason)}",
                    )
                ],
            )
    if rule.requires_outcome:
        outputs = _codes(
            [o.get("valueCodeableConcept") for o in task.get("output", [])],
            code_system_uri(Outcome),
        )
        outcome = _member(Outcome, outputs[0]) if len(outputs) == 1 else None
        if outcome is None:
            raise _invalid(
                "Terminer demande un résultat : Task.output (valueCodeableConcept outcome).",
                "Completing needs an outcome: Task.output (an outcome valueCodeableConcept).",
                [_issue("Task.output", f"expected one code of {code_system_uri(Outcome)}")],
            )
    return ReferralTransition(action=rule.action, reason_code=reason, outcome=outcome)


async def update_task(
    session: AsyncSession,
    principal: Principal,
    raw_id: str,
    task: Any,
    *,
    if_match: int | None,
    point: PolicyDecisionPoint,
) -> Rendered:
    """Apply the SOP step a Task update asks for, through the referral service."""
    referral_id = _referral_id(raw_id)
    step = task_step(task, referral_id)
    moved = await referrals.transition_referral(
        session, principal, referral_id, step, if_match=if_match, point=point
    )
    return _rendered("Task", moved)
