"""FHIR mapping of the contract, for the health partners (R4B first; R5 where the shape is shared).

| MNO | FHIR |
|---|---|
| ``Referral`` | ``Bundle`` (collection) of ``ServiceRequest`` (the request, subject ``Patient``
  contained) and ``Task`` (the workflow: status, owner, deadlines, history, outcome) |
| ``SubjectRef`` | ``Patient`` with identifiers only (pseudonym, linkage tokens), never a name |
| ``Consent`` | ``Consent`` (R4B) |
| ``Agency`` | ``Organization`` (R4B and R5) |
| ``Service`` | ``HealthcareService`` (R4B and R5) |

Every MNO code travels as a ``Coding`` of a code system ``https://mno.gov.gn/fhir/CodeSystem/<list>``;
what FHIR has no element for travels in extensions ``https://mno.gov.gn/fhir/StructureDefinition/…``.
Each ``*_to_fhir`` output validates with ``fhir.resources`` and ``*_from_fhir`` gives back an equal
model. Only this module of ``schemas`` imports ``fhir.resources``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar
from uuid import UUID

import fhir.resources
import fhir.resources.R4B
from pydantic import ValidationError

from schemas.agency import Agency
from schemas.codes import (
    CODE_LISTS,
    AgeBand,
    AgencyKind,
    CaseCategory,
    ConsentMethod,
    ConsentPurpose,
    ConsentStatus,
    DataCategory,
    DeclineReason,
    FeeCode,
    Language,
    Outcome,
    ReferralAction,
    ReferralStatus,
    ServiceCategory,
    ServiceStatus,
    Sex,
    Urgency,
    VulnerabilityCriterion,
    WithdrawalReason,
    label,
)
from schemas.consent import Consent
from schemas.referral import Referral, ReferralCreate, StatusChange
from schemas.service import Eligibility, Service
from schemas.subject import SubjectRef

Release = Literal["R4B", "R5"]
Resource = dict[str, Any]

FHIR_BASE = "https://mno.gov.gn/fhir"
CODE_SYSTEM_BASE = f"{FHIR_BASE}/CodeSystem/"
NAMING_SYSTEM_BASE = f"{FHIR_BASE}/NamingSystem/"
EXTENSION_BASE = f"{FHIR_BASE}/StructureDefinition/"

ISO_3166_2 = "urn:iso:std:iso:3166:-2"
ISO_3166 = "urn:iso:std:iso:3166"
ADMINISTRATIVE_GENDER = "http://hl7.org/fhir/administrative-gender"
PATIENT_NATIONALITY = "http://hl7.org/fhir/StructureDefinition/patient-nationality"
SNOMED = "http://snomed.info/sct"
SNOMED_PATIENT_REFERRAL = "3457005"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
LOINC = "http://loinc.org"
LOINC_PATIENT_CONSENT = "59284-0"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
MOU_POLICY_URI = "https://mno.gov.gn/mou/v1"

# Identifier systems.
AGENCY_CODE = f"{NAMING_SYSTEM_BASE}agency-code"
REFERRAL_ID = f"{NAMING_SYSTEM_BASE}referral-id"
CONSENT_ID = f"{NAMING_SYSTEM_BASE}consent-id"
SERVICE_ID = f"{NAMING_SYSTEM_BASE}service-id"
PSEUDONYM = f"{NAMING_SYSTEM_BASE}pseudonym"
LINKAGE_TOKEN = f"{NAMING_SYSTEM_BASE}linkage-token"
EXTERNAL_REFERENCE = f"{NAMING_SYSTEM_BASE}external-reference"
EVIDENCE_REFERENCE = f"{NAMING_SYSTEM_BASE}consent-evidence"

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

E = TypeVar("E", bound=StrEnum)


class FhirMappingError(ValueError):
    """A FHIR resource that is invalid or does not carry what the MNO model needs."""

    def __init__(
        self, message_fr: str, message_en: str, *, issues: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.message_fr = message_fr
        self.message_en = message_en
        # (FHIRPath of an element at fault, what is wrong with it in English), e.g.
        # ("ServiceRequest.category[0].coding[0].code", "Input should be a valid string").
        self.issues = tuple(issues)
        super().__init__(f"{message_fr} / {message_en}")


# --------------------------------------------------------------------------- code systems


def _list_name(codes: type[StrEnum]) -> str:
    for name, entry in CODE_LISTS.items():
        if entry.codes is codes:
            return name
    raise KeyError(codes.__name__)


def code_system_uri(codes: type[StrEnum] | str) -> str:
    """``https://mno.gov.gn/fhir/CodeSystem/<list-name>`` of an enum or a code-list name."""
    name = codes if isinstance(codes, str) else _list_name(codes)
    return CODE_SYSTEM_BASE + name.replace("_", "-")


def code_system(name: str) -> Resource:
    """A FHIR R4B ``CodeSystem`` of one code list: French display, English designation."""
    entry = CODE_LISTS[name]
    resource = {
        "resourceType": "CodeSystem",
        "id": "mno-" + name.replace("_", "-"),
        "url": code_system_uri(name),
        "version": "1.0",
        "name": "".join(part.title() for part in name.split("_")),
        "title": f"{entry.title_fr} / {entry.title_en}",
        "status": "active",
        "language": "fr",
        "caseSensitive": True,
        "content": "complete",
        "count": len(entry.labels),
        "concept": [
            {
                "code": code,
                "display": fr,
                "designation": [{"language": "en", "value": en}],
            }
            for code, (fr, en) in entry.labels.items()
        ],
    }
    return validate("CodeSystem", resource)


def _coding(code: StrEnum) -> Resource:
    return {"system": code_system_uri(type(code)), "code": code.value, "display": label(code)}


def _concept(code: StrEnum) -> Resource:
    return {"coding": [_coding(code)]}


def _codes_in(concepts: Iterable[Mapping[str, Any]], codes: type[E]) -> list[E]:
    """The codes of ``codes``'s system found in a list of CodeableConcepts, in order."""
    system = code_system_uri(codes)
    found: list[E] = []
    for concept in concepts:
        for coding in concept.get("coding", []):
            if coding.get("system") == system:
                found.append(_member(codes, coding.get("code")))
    return found


def _member(codes: type[E], value: Any) -> E:
    try:
        return codes(value)
    except ValueError:
        raise FhirMappingError(
            f"code inconnu {value!r} pour {code_system_uri(codes)}",
            f"unknown code {value!r} for {code_system_uri(codes)}",
        ) from None


def _one_code(concept: Mapping[str, Any] | None, codes: type[E], where: str) -> E:
    found = _codes_in([concept] if concept else [], codes)
    if len(found) != 1:
        raise FhirMappingError(
            f"{where} : un code {code_system_uri(codes)} attendu",
            f"{where}: expected one code of {code_system_uri(codes)}",
            issues=[(where, f"expected one code of {code_system_uri(codes)}")],
        )
    return found[0]


# --------------------------------------------------------------------------- small parts


def _ext_url(name: str) -> str:
    return EXTENSION_BASE + name


def _ext(name: str, **value: Any) -> Resource:
    return {"url": _ext_url(name), **value}


def _ext_value(resource: Mapping[str, Any], name: str, kind: str) -> Any:
    for ext in resource.get("extension", []):
        if ext.get("url") == _ext_url(name):
            return ext.get(kind)
    return None


def _ext_values(resource: Mapping[str, Any], name: str, kind: str) -> list[Any]:
    return [
        ext.get(kind) for ext in resource.get("extension", []) if ext.get("url") == _ext_url(name)
    ]


def _instant(value: datetime) -> str:
    return value.isoformat()


def _parse_time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise FhirMappingError(f"{where} : date manquante", f"{where}: missing date-time")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _identifier(system: str, value: str) -> Resource:
    return {"system": system, "value": value}


def _identifier_values(resource: Mapping[str, Any], system: str) -> list[str]:
    return [
        str(item["value"])
        for item in resource.get("identifier", [])
        if item.get("system") == system and "value" in item
    ]


def _one_identifier(resource: Mapping[str, Any], system: str) -> str:
    values = _identifier_values(resource, system)
    if len(values) != 1:
        raise FhirMappingError(
            f"{resource.get('resourceType')} : un identifiant {system} attendu",
            f"{resource.get('resourceType')}: expected one identifier of {system}",
        )
    return values[0]


def _org_ref(agency_code: str) -> Resource:
    return {"type": "Organization", "identifier": _identifier(AGENCY_CODE, agency_code)}


def _ref_identifier(reference: Mapping[str, Any] | None, system: str, where: str) -> str:
    identifier = (reference or {}).get("identifier") or {}
    if identifier.get("system") != system or "value" not in identifier:
        raise FhirMappingError(
            f"{where} : référence par identifiant {system} attendue",
            f"{where}: expected a reference by identifier of {system}",
            issues=[(where, f"expected a reference by identifier of {system}")],
        )
    return str(identifier["value"])


def _area_coding(area: str) -> Resource:
    return {"system": ISO_3166_2, "code": area}


def validate(resource_type: str, resource: Resource, release: Release = "R4B") -> Resource:
    """Validate ``resource`` with ``fhir.resources`` (R4B or R5); returns it unchanged."""
    package = fhir.resources.R4B if release == "R4B" else fhir.resources
    model = package.get_fhir_model_class(resource_type)
    try:
        model.model_validate(resource)
    except ValidationError as error:
        raise FhirMappingError(
            f"ressource FHIR {release} {resource_type} invalide : {error}",
            f"invalid FHIR {release} {resource_type} resource: {error}",
            issues=[(_fhirpath(resource_type, e["loc"]), e["msg"]) for e in error.errors()],
        ) from error
    return resource


def _fhirpath(resource_type: str, loc: Iterable[int | str]) -> str:
    path = resource_type
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _expect_type(resource: Mapping[str, Any], resource_type: str) -> None:
    if resource.get("resourceType") != resource_type:
        raise FhirMappingError(
            f"{resource_type} attendu, reçu {resource.get('resourceType')!r}",
            f"expected {resource_type}, got {resource.get('resourceType')!r}",
        )


# --------------------------------------------------------------------------- subject


def subject_to_patient(
    subject: SubjectRef, release: Release = "R4B", *, id: str | None = None
) -> Resource:
    """A ``Patient`` with identifiers and coded demographics only — no name, no contact."""
    extension: list[Resource] = [
        _ext("age-band", valueCoding=_coding(subject.age_band)),
        _ext("is-minor", valueBoolean=subject.is_minor),
        _ext("is-unaccompanied", valueBoolean=subject.is_unaccompanied),
    ]
    if subject.area_code is not None:
        extension.append(_ext("area", valueCoding=_area_coding(subject.area_code)))
    if subject.bloom is not None:
        extension.append(_ext("bloom-filter", valueString=subject.bloom))
    if subject.nationality is not None:
        extension.append(
            {
                "url": PATIENT_NATIONALITY,
                "extension": [
                    {
                        "url": "code",
                        "valueCodeableConcept": {
                            "coding": [{"system": ISO_3166, "code": subject.nationality}]
                        },
                    }
                ],
            }
        )
    patient: Resource = {
        "resourceType": "Patient",
        **({"id": id} if id else {}),
        "extension": extension,
        "identifier": [
            _identifier(PSEUDONYM, subject.pseudonym),
            *(_identifier(LINKAGE_TOKEN, token) for token in subject.tokens),
        ],
        "gender": subject.sex.value,
    }
    if subject.birth_year is not None:
        patient["birthDate"] = f"{subject.birth_year:04d}"
    if subject.languages:
        patient["communication"] = [{"language": _concept(lang)} for lang in subject.languages]
    return validate("Patient", patient, release)


def patient_to_subject(patient: Mapping[str, Any], release: Release = "R4B") -> SubjectRef:
    """The ``SubjectRef`` of a ``Patient`` made by ``subject_to_patient``."""
    _expect_type(patient, "Patient")
    validate("Patient", dict(patient), release)
    nationality = None
    for ext in patient.get("extension", []):
        if ext.get("url") == PATIENT_NATIONALITY:
            for part in ext.get("extension", []):
                if part.get("url") == "code":
                    for coding in part["valueCodeableConcept"].get("coding", []):
                        if coding.get("system") == ISO_3166:
                            nationality = coding.get("code")
    area = _ext_value(patient, "area", "valueCoding")
    age_band = _ext_value(patient, "age-band", "valueCoding")
    birth_date = patient.get("birthDate")
    return SubjectRef(
        pseudonym=_one_identifier(patient, PSEUDONYM),
        tokens=_identifier_values(patient, LINKAGE_TOKEN),
        bloom=_ext_value(patient, "bloom-filter", "valueString"),
        birth_year=int(str(birth_date)[:4]) if birth_date else None,
        age_band=_member(AgeBand, (age_band or {}).get("code")),
        sex=_member(Sex, patient.get("gender")),
        nationality=nationality,
        area_code=area.get("code") if area else None,
        languages=_codes_in([c["language"] for c in patient.get("communication", [])], Language),
        is_minor=bool(_ext_value(patient, "is-minor", "valueBoolean")),
        is_unaccompanied=bool(_ext_value(patient, "is-unaccompanied", "valueBoolean")),
    )


# --------------------------------------------------------------------------- referral

_SERVICE_REQUEST_STATUS: Mapping[ReferralStatus, str] = {
    ReferralStatus.SUBMITTED: "active",
    ReferralStatus.ACKNOWLEDGED: "active",
    ReferralStatus.ACCEPTED: "active",
    ReferralStatus.DECLINED: "revoked",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.CLOSED: "completed",
    ReferralStatus.CANCELLED: "revoked",
}
_TASK_STATUS: Mapping[ReferralStatus, str] = {
    ReferralStatus.SUBMITTED: "requested",
    ReferralStatus.ACKNOWLEDGED: "received",
    ReferralStatus.ACCEPTED: "accepted",
    ReferralStatus.DECLINED: "rejected",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.CLOSED: "completed",
    ReferralStatus.CANCELLED: "cancelled",
}
# Public for the FHIR facade: its searches and Task updates read the same correspondence.
SERVICE_REQUEST_STATUS = _SERVICE_REQUEST_STATUS
TASK_STATUS = _TASK_STATUS
# FHIR has four priorities for our four urgencies but not the same meaning: the exact urgency
# travels in an extension, the priority is for generic FHIR clients.
_PRIORITY: Mapping[Urgency, str] = {
    Urgency.IMMEDIATE: "stat",
    Urgency.HIGH: "asap",
    Urgency.NORMAL: "urgent",
    Urgency.LOW: "routine",
}
_PATIENT_REF = "#subject"


def _meta(referral: Referral) -> Resource:
    return {"versionId": str(referral.version), "lastUpdated": _instant(referral.updated_at)}


def referral_to_service_request(referral: Referral, release: Release = "R4B") -> Resource:
    """The request part of a referral: who asks whom for what, for which (contained) patient."""
    extension = [_ext("urgency", valueCoding=_coding(referral.urgency))]
    if referral.protected is not None:
        extension.append(_ext("protected-payload", valueString=referral.protected))
    identifiers = [_identifier(REFERRAL_ID, str(referral.id))]
    if referral.external_reference is not None:
        identifiers.append(
            {
                **_identifier(EXTERNAL_REFERENCE, referral.external_reference),
                "assigner": _org_ref(referral.referring_agency),
            }
        )
    performer = [_org_ref(referral.receiving_agency)]
    if referral.receiving_service is not None:
        performer.append(
            {
                "type": "HealthcareService",
                "identifier": _identifier(SERVICE_ID, referral.receiving_service),
            }
        )
    reasons = [_concept(referral.case_category), *map(_concept, referral.vulnerabilities)]
    resource: Resource = {
        "resourceType": "ServiceRequest",
        "id": str(referral.id),
        "meta": _meta(referral),
        "contained": [subject_to_patient(referral.subject, release, id=_PATIENT_REF[1:])],
        "extension": extension,
        "identifier": identifiers,
        "status": _SERVICE_REQUEST_STATUS[referral.status],
        "intent": "order",
        "category": [_concept(s) for s in referral.services_requested],
        "code": _code_concept(SNOMED, SNOMED_PATIENT_REFERRAL, "Patient referral", release),
        "priority": _PRIORITY[referral.urgency],
        "subject": {"reference": _PATIENT_REF},
        "authoredOn": _instant(referral.created_at),
        "requester": _org_ref(referral.referring_agency),
        "performer": performer,
    }
    consent_ref = {"reference": f"Consent/{referral.consent_id}"} if referral.consent_id else None
    if release == "R4B":
        resource["reasonCode"] = reasons
        if consent_ref:
            resource["supportingInfo"] = [consent_ref]
    else:
        resource["reason"] = [{"concept": c} for c in reasons]
        if consent_ref:
            resource["supportingInfo"] = [{"reference": consent_ref}]
    return validate("ServiceRequest", resource, release)


def _code_concept(system: str, code: str, display: str, release: Release) -> Resource:
    concept = {"coding": [{"system": system, "code": code, "display": display}]}
    # R5 ServiceRequest.code is a CodeableReference.
    return {"concept": concept} if release == "R5" else concept


def _status_change_extension(change: StatusChange) -> Resource:
    parts: list[Resource] = [
        {"url": "status", "valueCode": change.status.value},
        {"url": "action", "valueCode": change.action.value},
        {"url": "at", "valueDateTime": _instant(change.at)},
        {"url": "actorAgency", "valueIdentifier": _identifier(AGENCY_CODE, change.actor_agency)},
        {"url": "actorClient", "valueString": change.actor_client},
    ]
    if change.reason_code is not None:
        parts.append({"url": "reasonCode", "valueCoding": _coding(change.reason_code)})
    if change.outcome is not None:
        parts.append({"url": "outcome", "valueCoding": _coding(change.outcome)})
    return {"url": _ext_url("status-change"), "extension": parts}


def _status_change_from(ext: Mapping[str, Any]) -> StatusChange:
    parts = {part["url"]: part for part in ext.get("extension", [])}

    def get(name: str, kind: str) -> Any:
        return parts.get(name, {}).get(kind)

    reason = get("reasonCode", "valueCoding")
    outcome = get("outcome", "valueCoding")
    return StatusChange(
        status=_member(ReferralStatus, get("status", "valueCode")),
        action=_member(ReferralAction, get("action", "valueCode")),
        at=_parse_time(get("at", "valueDateTime"), "status-change.at"),
        actor_agency=(get("actorAgency", "valueIdentifier") or {}).get("value"),
        actor_client=get("actorClient", "valueString"),
        reason_code=_member(DeclineReason, reason.get("code")) if reason else None,
        outcome=_member(Outcome, outcome.get("code")) if outcome else None,
    )


def referral_to_task(referral: Referral, release: Release = "R4B") -> Resource:
    """The workflow part of a referral: status, owner, SOP deadlines, history and outcome."""
    service_request = f"ServiceRequest/{referral.id}"
    resource: Resource = {
        "resourceType": "Task",
        "id": str(referral.id),
        "meta": _meta(referral),
        "extension": [
            _ext("acknowledge-by", valueDateTime=_instant(referral.acknowledge_by)),
            *map(_status_change_extension, referral.history),
        ],
        "identifier": [_identifier(REFERRAL_ID, str(referral.id))],
        "basedOn": [{"reference": service_request}],
        "status": _TASK_STATUS[referral.status],
        "businessStatus": _concept(referral.status),
        "intent": "order",
        "priority": _PRIORITY[referral.urgency],
        "code": {"coding": [{"system": TASK_CODE, "code": "fulfill"}]},
        "focus": {"reference": service_request},
        "for": {"identifier": _identifier(PSEUDONYM, referral.subject.pseudonym)},
        "authoredOn": _instant(referral.created_at),
        "lastModified": _instant(referral.updated_at),
        "requester": _org_ref(referral.referring_agency),
        "owner": _org_ref(referral.receiving_agency),
        "restriction": {
            "period": {
                "start": _instant(referral.created_at),
                "end": _instant(referral.respond_by),
            }
        },
    }
    if referral.decline_reason is not None:
        reason = _concept(referral.decline_reason)
        resource["statusReason"] = reason if release == "R4B" else {"concept": reason}
    if referral.outcome is not None:
        resource["output"] = [
            {
                "type": _output_type(),
                "valueCodeableConcept": _concept(referral.outcome),
            }
        ]
    return validate("Task", resource, release)


def _output_type() -> Resource:
    # SNOMED CT 394617004 "Result": the Task output is the outcome for the person.
    return {"coding": [{"system": SNOMED, "code": "394617004", "display": "Result"}]}


def referral_to_fhir(referral: Referral, release: Release = "R4B") -> Resource:
    """A referral as a ``Bundle`` (collection) of its ``ServiceRequest`` and ``Task``."""
    bundle: Resource = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": f"{FHIR_BASE}/ServiceRequest/{referral.id}",
                "resource": referral_to_service_request(referral, release),
            },
            {
                "fullUrl": f"{FHIR_BASE}/Task/{referral.id}",
                "resource": referral_to_task(referral, release),
            },
        ],
    }
    return validate("Bundle", bundle, release)


def _entry(bundle: Mapping[str, Any], resource_type: str) -> Mapping[str, Any]:
    found: list[Mapping[str, Any]] = [
        entry["resource"]
        for entry in bundle.get("entry", [])
        if entry.get("resource", {}).get("resourceType") == resource_type
    ]
    if len(found) != 1:
        raise FhirMappingError(
            f"le Bundle doit contenir un seul {resource_type}",
            f"the Bundle must hold exactly one {resource_type}",
        )
    return found[0]


def _contained_patient(request: Mapping[str, Any]) -> Mapping[str, Any]:
    reference = str((request.get("subject") or {}).get("reference") or "")
    patients: list[Mapping[str, Any]] = [
        c
        for c in request.get("contained", [])
        if c.get("resourceType") == "Patient" and reference == f"#{c.get('id')}"
    ]
    if len(patients) != 1:
        raise FhirMappingError(
            "Patient contenu manquant : subject doit référencer un Patient contenu (#id)",
            "contained Patient missing: subject must reference a contained Patient (#id)",
            issues=[("ServiceRequest.subject", "expected a reference to a contained Patient")],
        )
    return patients[0]


def _request_fields(request: Mapping[str, Any], release: Release) -> dict[str, Any]:
    """The ``ReferralCreate`` fields a ServiceRequest carries."""
    if release == "R4B":
        reasons = request.get("reasonCode", [])
        consent_refs = [ref.get("reference", "") for ref in request.get("supportingInfo", [])]
    else:
        reasons = [r["concept"] for r in request.get("reason", []) if "concept" in r]
        consent_refs = [
            ref.get("reference", {}).get("reference", "")
            for ref in request.get("supportingInfo", [])
        ]
    consent_ids = [
        ref.removeprefix("Consent/") for ref in consent_refs if ref.startswith("Consent/")
    ]
    receiving_service = None
    for performer in request.get("performer", []):
        if performer.get("type") == "HealthcareService":
            receiving_service = _ref_identifier(performer, SERVICE_ID, "performer")
    external = [
        item["value"]
        for item in request.get("identifier", [])
        if item.get("system") == EXTERNAL_REFERENCE
    ]
    urgency = _ext_value(request, "urgency", "valueCoding")
    return {
        "receiving_agency": _ref_identifier(
            (request.get("performer") or [None])[0], AGENCY_CODE, "performer"
        ),
        "receiving_service": receiving_service,
        "subject": patient_to_subject(_contained_patient(request), release),
        "case_category": _one_code_of(reasons, CaseCategory, "reasonCode"),
        "vulnerabilities": _codes_in(reasons, VulnerabilityCriterion),
        "services_requested": _codes_in(request.get("category", []), ServiceCategory),
        "urgency": _member(Urgency, (urgency or {}).get("code")),
        "consent_id": UUID(consent_ids[0]) if consent_ids else None,
        "protected": _ext_value(request, "protected-payload", "valueString"),
        "external_reference": external[0] if external else None,
    }


def referral_create_from_fhir(
    resource: Mapping[str, Any], release: Release = "R4B"
) -> ReferralCreate:
    """The ``ReferralCreate`` a partner sends as a ``ServiceRequest`` (contained Patient), or as a
    Bundle holding one: the requester is the sender's token, not the resource."""
    if resource.get("resourceType") == "Bundle":
        validate("Bundle", dict(resource), release)
        request = _entry(resource, "ServiceRequest")
    else:
        _expect_type(resource, "ServiceRequest")
        request = resource
    validate("ServiceRequest", dict(request), release)
    return ReferralCreate(**_request_fields(request, release))


def referral_from_fhir(bundle: Mapping[str, Any], release: Release = "R4B") -> Referral:
    """The ``Referral`` of a Bundle made by ``referral_to_fhir`` (validated first)."""
    _expect_type(bundle, "Bundle")
    validate("Bundle", dict(bundle), release)
    request = _entry(bundle, "ServiceRequest")
    task = _entry(bundle, "Task")
    referral_id = UUID(_one_identifier(request, REFERRAL_ID))
    if _one_identifier(task, REFERRAL_ID) != str(referral_id):
        raise FhirMappingError(
            "ServiceRequest et Task de deux référencements différents",
            "ServiceRequest and Task belong to different referrals",
        )
    status_reason = task.get("statusReason")
    if release == "R5":
        status_reason = (status_reason or {}).get("concept")
    outputs = [
        o["valueCodeableConcept"] for o in task.get("output", []) if "valueCodeableConcept" in o
    ]
    outcome = _codes_in(outputs, Outcome)
    version = (request.get("meta") or {}).get("versionId")
    period = (task.get("restriction") or {}).get("period") or {}

    return Referral(
        **_request_fields(request, release),
        id=referral_id,
        referring_agency=_ref_identifier(request.get("requester"), AGENCY_CODE, "requester"),
        status=_one_code(task.get("businessStatus"), ReferralStatus, "Task.businessStatus"),
        history=[
            _status_change_from(ext)
            for ext in task.get("extension", [])
            if ext.get("url") == _ext_url("status-change")
        ],
        created_at=_parse_time(request.get("authoredOn"), "authoredOn"),
        updated_at=_parse_time(task.get("lastModified"), "lastModified"),
        acknowledge_by=_parse_time(_ext_value(task, "acknowledge-by", "valueDateTime"), "ack"),
        respond_by=_parse_time(period.get("end"), "Task.restriction.period.end"),
        decline_reason=_one_code(status_reason, DeclineReason, "statusReason")
        if status_reason
        else None,
        outcome=outcome[0] if outcome else None,
        version=int(version) if version else 1,
    )


def _one_code_of(concepts: Iterable[Mapping[str, Any]], codes: type[E], where: str) -> E:
    found = _codes_in(concepts, codes)
    if len(found) != 1:
        raise FhirMappingError(
            f"{where} : un code {code_system_uri(codes)} attendu",
            f"{where}: expected one code of {code_system_uri(codes)}",
            issues=[(where, f"expected one code of {code_system_uri(codes)}")],
        )
    return found[0]


# --------------------------------------------------------------------------- consent

_RECIPIENT_ROLE = {"coding": [{"system": PARTICIPATION_TYPE, "code": "IRCP"}]}
_AGENCY_KIND = code_system_uri(AgencyKind)


def consent_to_fhir(consent: Consent, release: Literal["R4B"] = "R4B") -> Resource:
    """A ``Consent`` (R4B): permit provision for purposes, data categories and recipients."""
    extension = [
        _ext("consent-method", valueCoding=_coding(consent.method)),
        _ext("subject-is-minor", valueBoolean=consent.subject_is_minor),
    ]
    if consent.guardian_consent is not None:
        extension.append(_ext("guardian-consent", valueBoolean=consent.guardian_consent))
    if consent.child_assent is not None:
        extension.append(_ext("child-assent", valueBoolean=consent.child_assent))
    if consent.withdrawn_at is not None:
        extension.append(_ext("withdrawn-at", valueDateTime=_instant(consent.withdrawn_at)))
    if consent.withdrawal_reason is not None:
        extension.append(_ext("withdrawal-reason", valueCoding=_coding(consent.withdrawal_reason)))
    period = {"start": _instant(consent.valid_from)}
    if consent.valid_until is not None:
        period["end"] = _instant(consent.valid_until)
    actors = []
    for recipient in consent.recipients:
        if isinstance(recipient, AgencyKind):
            # A kind is a class of organisations, referenced by its code in our code system.
            reference = {"identifier": _identifier(_AGENCY_KIND, recipient.value)}
        else:
            reference = _org_ref(recipient)
        actors.append({"role": _RECIPIENT_ROLE, "reference": reference})
    resource: Resource = {
        "resourceType": "Consent",
        "id": str(consent.id),
        "extension": extension,
        "identifier": [_identifier(CONSENT_ID, str(consent.id))],
        "status": "active" if consent.status is ConsentStatus.GRANTED else "inactive",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": LOINC, "code": LOINC_PATIENT_CONSENT}]}],
        "patient": {"identifier": _identifier(PSEUDONYM, consent.subject_pseudonym)},
        "dateTime": _instant(consent.recorded_at),
        "organization": [_org_ref(consent.collecting_agency)],
        "policy": [{"uri": MOU_POLICY_URI}],
        "provision": {
            "type": "permit",
            "period": period,
            "actor": actors,
            "purpose": [_coding(p) for p in consent.purposes],
            "securityLabel": [_coding(c) for c in consent.data_categories],
        },
    }
    if consent.evidence_reference is not None:
        resource["sourceReference"] = {
            "identifier": _identifier(EVIDENCE_REFERENCE, consent.evidence_reference)
        }
    return validate("Consent", resource, release)


def consent_from_fhir(resource: Mapping[str, Any], release: Literal["R4B"] = "R4B") -> Consent:
    """The ``Consent`` model of a FHIR Consent made by ``consent_to_fhir``."""
    _expect_type(resource, "Consent")
    validate("Consent", dict(resource), release)
    provision = resource.get("provision") or {}
    period = provision.get("period") or {}
    recipients: list[str | AgencyKind] = []
    for actor in provision.get("actor", []):
        identifier = (actor.get("reference") or {}).get("identifier") or {}
        if identifier.get("system") == _AGENCY_KIND:
            recipients.append(_member(AgencyKind, identifier.get("value")))
        elif identifier.get("system") == AGENCY_CODE:
            recipients.append(str(identifier.get("value")))
    source = (resource.get("sourceReference") or {}).get("identifier") or {}
    method = _ext_value(resource, "consent-method", "valueCoding") or {}
    reason = _ext_value(resource, "withdrawal-reason", "valueCoding")
    withdrawn_at = _ext_value(resource, "withdrawn-at", "valueDateTime")
    status = resource.get("status")
    if status not in ("active", "inactive"):
        raise FhirMappingError(f"statut inattendu {status!r}", f"unexpected status {status!r}")
    return Consent(
        id=UUID(_one_identifier(resource, CONSENT_ID)),
        subject_pseudonym=_ref_identifier(resource.get("patient"), PSEUDONYM, "patient"),
        collecting_agency=_ref_identifier(
            (resource.get("organization") or [None])[0], AGENCY_CODE, "organization"
        ),
        purposes=[_member(ConsentPurpose, c.get("code")) for c in provision.get("purpose", [])],
        data_categories=[
            _member(DataCategory, c.get("code")) for c in provision.get("securityLabel", [])
        ],
        recipients=recipients,
        valid_from=_parse_time(period.get("start"), "provision.period.start"),
        valid_until=_parse_time(period["end"], "provision.period.end") if "end" in period else None,
        method=_member(ConsentMethod, method.get("code")),
        evidence_reference=source.get("value")
        if source.get("system") == EVIDENCE_REFERENCE
        else None,
        subject_is_minor=bool(_ext_value(resource, "subject-is-minor", "valueBoolean")),
        guardian_consent=_ext_value(resource, "guardian-consent", "valueBoolean"),
        child_assent=_ext_value(resource, "child-assent", "valueBoolean"),
        status=ConsentStatus.GRANTED if status == "active" else ConsentStatus.WITHDRAWN,
        recorded_at=_parse_time(resource.get("dateTime"), "dateTime"),
        withdrawn_at=_parse_time(withdrawn_at, "withdrawn-at") if withdrawn_at else None,
        withdrawal_reason=_member(WithdrawalReason, reason.get("code")) if reason else None,
    )


# --------------------------------------------------------------------------- directory


def agency_to_fhir(agency: Agency, release: Release = "R4B") -> Resource:
    """An ``Organization`` (same shape in R4B and R5)."""
    extension = [_ext("area", valueCoding=_area_coding(agency.area))]
    if agency.public_jwk is not None:
        extension.append(
            _ext("public-jwk", valueString=json.dumps(agency.public_jwk, sort_keys=True))
        )
    resource: Resource = {
        "resourceType": "Organization",
        "id": agency.code,
        "extension": extension,
        "identifier": [_identifier(AGENCY_CODE, agency.code)],
        "active": agency.active,
        "type": [_concept(agency.kind)],
        "name": agency.name,
    }
    return validate("Organization", resource, release)


def agency_from_fhir(resource: Mapping[str, Any], release: Release = "R4B") -> Agency:
    """The ``Agency`` of an ``Organization`` made by ``agency_to_fhir``."""
    _expect_type(resource, "Organization")
    validate("Organization", dict(resource), release)
    jwk = _ext_value(resource, "public-jwk", "valueString")
    area = _ext_value(resource, "area", "valueCoding") or {}
    return Agency(
        code=_one_identifier(resource, AGENCY_CODE),
        name=resource.get("name"),
        kind=_one_code_of(resource.get("type", []), AgencyKind, "type"),
        area=area.get("code"),
        active=resource.get("active", True),
        public_jwk=json.loads(jwk) if jwk else None,
    )


def service_to_fhir(service: Service, release: Release = "R4B") -> Resource:
    """A ``HealthcareService`` (same shape in R4B and R5)."""
    eligibility = service.eligibility
    extension: list[Resource] = [
        _ext("service-status", valueCoding=_coding(service.status)),
        _ext("accepting-referrals", valueBoolean=service.accepting_referrals),
        *(_ext("area", valueCoding=_area_coding(area)) for area in service.areas_served),
    ]
    for name, number in (
        ("min-age", eligibility.min_age),
        ("max-age", eligibility.max_age),
        ("capacity", service.capacity),
        ("capacity-available", service.capacity_available),
    ):
        if number is not None:
            extension.append(_ext(name, valueInteger=number))
    rules = [
        *(
            {"code": {"coding": [{"system": ADMINISTRATIVE_GENDER, "code": s.value}]}}
            for s in eligibility.sexes
        ),
        *({"code": _concept(c)} for c in eligibility.case_categories),
    ]
    resource: Resource = {
        "resourceType": "HealthcareService",
        **({"id": service.id} if _FHIR_ID.match(service.id) else {}),
        "extension": extension,
        "identifier": [_identifier(SERVICE_ID, service.id)],
        "active": service.status is ServiceStatus.ACTIVE,
        "providedBy": _org_ref(service.agency),
        "category": [_concept(service.category)],
        "name": service.name,
        "characteristic": [_concept(service.fees)],
    }
    if service.description is not None:
        resource["comment"] = service.description
    if rules:
        resource["eligibility"] = rules
    if service.languages:
        resource["communication"] = [_concept(lang) for lang in service.languages]
    return validate("HealthcareService", resource, release)


def service_from_fhir(resource: Mapping[str, Any], release: Release = "R4B") -> Service:
    """The ``Service`` of a ``HealthcareService`` made by ``service_to_fhir``."""
    _expect_type(resource, "HealthcareService")
    validate("HealthcareService", dict(resource), release)
    rules = [rule["code"] for rule in resource.get("eligibility", []) if "code" in rule]
    sexes = [
        _member(Sex, coding.get("code"))
        for concept in rules
        for coding in concept.get("coding", [])
        if coding.get("system") == ADMINISTRATIVE_GENDER
    ]
    status = _ext_value(resource, "service-status", "valueCoding") or {}
    return Service(
        id=_one_identifier(resource, SERVICE_ID),
        agency=_ref_identifier(resource.get("providedBy"), AGENCY_CODE, "providedBy"),
        name=resource.get("name"),
        description=resource.get("comment"),
        category=_one_code_of(resource.get("category", []), ServiceCategory, "category"),
        eligibility=Eligibility(
            min_age=_ext_value(resource, "min-age", "valueInteger"),
            max_age=_ext_value(resource, "max-age", "valueInteger"),
            sexes=sexes,
            case_categories=_codes_in(rules, CaseCategory),
        ),
        languages=_codes_in(resource.get("communication", []), Language),
        areas_served=[c.get("code") for c in _ext_values(resource, "area", "valueCoding")],
        fees=_one_code_of(resource.get("characteristic", []), FeeCode, "characteristic"),
        capacity=_ext_value(resource, "capacity", "valueInteger"),
        capacity_available=_ext_value(resource, "capacity-available", "valueInteger"),
        accepting_referrals=bool(_ext_value(resource, "accepting-referrals", "valueBoolean")),
        status=_member(ServiceStatus, status.get("code")),
    )
