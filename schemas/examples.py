"""Deterministic, synthetic example instances of every public model (docs, CLI, tests)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel

from schemas.agency import Agency
from schemas.codes import (
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
    MatchMethod,
    Outcome,
    ReferralAction,
    ReferralStatus,
    ServiceCategory,
    Sex,
    Urgency,
    VulnerabilityCriterion,
    WithdrawalReason,
    sop_deadlines,
)
from schemas.consent import Consent, ConsentCreate, ConsentWithdraw
from schemas.events import (
    CloudEvent,
    ConsentGranted,
    ConsentWithdrawn,
    DuplicateAssistanceSuspected,
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralCancelled,
    ReferralClosed,
    ReferralCompleted,
    ReferralDeclined,
    ReferralSubmitted,
    to_cloudevent,
)
from schemas.referral import Referral, ReferralCreate, ReferralTransition, StatusChange
from schemas.service import Eligibility, Service
from schemas.subject import SubjectRef

REFERRING_AGENCY = "OIM-DEMO"
RECEIVING_AGENCY = "SANTE-DEMO"
SUBMITTED_AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
REFERRAL_ID = UUID("0b5f9d3c-6a0e-4d8b-9a57-2f1c3e7a9b10")
CONSENT_ID = UUID("5d2c7e1a-3b4f-4c6d-8e9f-a0b1c2d3e4f5")
EVENT_ID = "7c0b1d8e-2f3a-4b5c-9d6e-0f1a2b3c4d5e"


def synthetic_token(seed: str) -> str:
    """A 43-character base64url token shaped like an HMAC-SHA256 (not derived from anyone)."""
    digest = hashlib.sha256(f"mno-example:{seed}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Shape-valid JWE compact (ECDH-ES, so the encrypted-key part is empty); not decryptable.
EXAMPLE_JWE = ".".join(
    [
        _b64url(b'{"alg":"ECDH-ES","enc":"A256GCM","kid":"SANTE-DEMO-2025"}'),
        "",
        _b64url(hashlib.sha256(b"iv").digest()[:12]),
        _b64url(hashlib.sha256(b"ciphertext").digest() * 4),
        _b64url(hashlib.sha256(b"tag").digest()[:16]),
    ]
)


def agency() -> Agency:
    return Agency(
        code=RECEIVING_AGENCY,
        name="Centre de santé fictif de Kaloum",
        kind=AgencyKind.PROVIDER,
        area="GN-C",
        public_jwk={
            "kty": "EC",
            "crv": "P-256",
            "kid": "SANTE-DEMO-2025",
            "use": "enc",
            "x": _b64url(hashlib.sha256(b"x").digest()),
            "y": _b64url(hashlib.sha256(b"y").digest()),
        },
    )


def service() -> Service:
    return Service(
        id="sante-demo.medical.kaloum",
        agency=RECEIVING_AGENCY,
        name="Consultations médicales gratuites",
        category=ServiceCategory.MEDICAL,
        eligibility=Eligibility(
            case_categories=[
                CaseCategory.RETURNING_MIGRANT,
                CaseCategory.VICTIM_OF_TRAFFICKING,
                CaseCategory.PRESUMED_VICTIM_OF_TRAFFICKING,
            ]
        ),
        languages=[Language.FRA, Language.SUS, Language.FUF],
        areas_served=["GN-C", "GN-CO", "GN-DU"],
        fees=FeeCode.FREE,
        capacity=40,
        capacity_available=12,
    )


def subject() -> SubjectRef:
    return SubjectRef(
        pseudonym=synthetic_token("subject-1"),
        tokens=[synthetic_token("subject-1:alt")],
        birth_year=2001,
        age_band=AgeBand.Y18_24,
        sex=Sex.FEMALE,
        nationality="GN",
        area_code="GN-KD",
        languages=[Language.SUS, Language.FRA],
        is_minor=False,
    )


def referral_create(to: str = RECEIVING_AGENCY) -> ReferralCreate:
    return ReferralCreate(
        receiving_agency=to,
        receiving_service="sante-demo.medical.kaloum" if to == RECEIVING_AGENCY else None,
        subject=subject(),
        case_category=CaseCategory.PRESUMED_VICTIM_OF_TRAFFICKING,
        vulnerabilities=[
            VulnerabilityCriterion.TRAFFICKING_INDICATORS,
            VulnerabilityCriterion.SERIOUS_MEDICAL_CONDITION,
        ],
        services_requested=[ServiceCategory.MEDICAL, ServiceCategory.MHPSS],
        urgency=Urgency.HIGH,
        consent_id=CONSENT_ID,
        protected=EXAMPLE_JWE,
        external_reference="OIM-GN/2025/0042",
    )


def referral(to: str = RECEIVING_AGENCY) -> Referral:
    body = referral_create(to)
    acknowledge_by, respond_by = sop_deadlines(body.urgency, SUBMITTED_AT)
    return Referral(
        **body.model_dump(),
        id=REFERRAL_ID,
        referring_agency=REFERRING_AGENCY,
        status=ReferralStatus.SUBMITTED,
        history=[
            StatusChange(
                status=ReferralStatus.SUBMITTED,
                action=ReferralAction.SUBMIT,
                at=SUBMITTED_AT,
                actor_agency=REFERRING_AGENCY,
                actor_client="oim-gn-casework",
            )
        ],
        created_at=SUBMITTED_AT,
        updated_at=SUBMITTED_AT,
        acknowledge_by=acknowledge_by,
        respond_by=respond_by,
        version=1,
    )


def referral_in(
    status: ReferralStatus,
    *,
    to: str = RECEIVING_AGENCY,
    reason: DeclineReason | None = None,
    outcome: Outcome | None = None,
) -> Referral:
    """The example referral moved to ``status`` along the usual path."""
    path: dict[ReferralStatus, list[tuple[ReferralAction, ReferralStatus, str]]] = {
        ReferralStatus.SUBMITTED: [],
        ReferralStatus.ACKNOWLEDGED: [
            (ReferralAction.ACKNOWLEDGE, ReferralStatus.ACKNOWLEDGED, to)
        ],
        ReferralStatus.ACCEPTED: [(ReferralAction.ACCEPT, ReferralStatus.ACCEPTED, to)],
        ReferralStatus.DECLINED: [(ReferralAction.DECLINE, ReferralStatus.DECLINED, to)],
        ReferralStatus.COMPLETED: [
            (ReferralAction.ACCEPT, ReferralStatus.ACCEPTED, to),
            (ReferralAction.COMPLETE, ReferralStatus.COMPLETED, to),
        ],
        ReferralStatus.CLOSED: [
            (ReferralAction.ACCEPT, ReferralStatus.ACCEPTED, to),
            (ReferralAction.COMPLETE, ReferralStatus.COMPLETED, to),
            (ReferralAction.CLOSE, ReferralStatus.CLOSED, REFERRING_AGENCY),
        ],
        ReferralStatus.CANCELLED: [
            (ReferralAction.CANCEL, ReferralStatus.CANCELLED, REFERRING_AGENCY)
        ],
    }
    base = referral(to)
    history = list(base.history)
    reason = reason or DeclineReason.NO_CAPACITY
    outcome = outcome or Outcome.SERVED_FULLY
    for hours, (action, new_status, actor) in enumerate(path[status], start=1):
        history.append(
            StatusChange(
                status=new_status,
                action=action,
                at=SUBMITTED_AT.replace(hour=9 + hours),
                actor_agency=actor,
                actor_client=f"{actor.lower()}-casework",
                reason_code=reason if action is ReferralAction.DECLINE else None,
                outcome=outcome if action is ReferralAction.COMPLETE else None,
            )
        )
    return base.model_copy(
        update={
            "status": status,
            "history": history,
            "updated_at": history[-1].at,
            "version": len(history),
            "decline_reason": reason if status is ReferralStatus.DECLINED else None,
            "outcome": outcome
            if status in (ReferralStatus.COMPLETED, ReferralStatus.CLOSED)
            else None,
        }
    )


def referral_transition() -> ReferralTransition:
    return ReferralTransition(action=ReferralAction.DECLINE, reason_code=DeclineReason.NO_CAPACITY)


def consent_create() -> ConsentCreate:
    return ConsentCreate(
        subject_pseudonym=synthetic_token("subject-1"),
        collecting_agency=REFERRING_AGENCY,
        purposes=[ConsentPurpose.REFERRAL, ConsentPurpose.CASE_FOLLOW_UP],
        data_categories=[
            DataCategory.IDENTITY_CONTACT,
            DataCategory.HEALTH,
            DataCategory.PROTECTION_SENSITIVE,
            DataCategory.STATISTICAL,
        ],
        recipients=[RECEIVING_AGENCY, AgencyKind.GOVERNMENT],
        valid_from=SUBMITTED_AT,
        valid_until=SUBMITTED_AT.replace(year=2030),
        method=ConsentMethod.WRITTEN,
        evidence_reference="OIM-GN/CONSENT/2025/0042",
    )


def consent(withdrawn: bool = False) -> Consent:
    return Consent(
        **consent_create().model_dump(),
        id=CONSENT_ID,
        recorded_at=SUBMITTED_AT,
        status=ConsentStatus.WITHDRAWN if withdrawn else ConsentStatus.GRANTED,
        withdrawn_at=SUBMITTED_AT.replace(month=6) if withdrawn else None,
        withdrawal_reason=WithdrawalReason.REQUESTED_BY_PERSON if withdrawn else None,
    )


def consent_withdraw() -> ConsentWithdraw:
    return ConsentWithdraw(reason=WithdrawalReason.REQUESTED_BY_PERSON)


def duplicate_suspected() -> DuplicateAssistanceSuspected:
    return DuplicateAssistanceSuspected(
        referral_id=REFERRAL_ID,
        subject_pseudonym=synthetic_token("subject-1"),
        matching_referral_ids=[UUID("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")],
        match_method=MatchMethod.EXACT_TOKEN,
        score=1.0,
        overlapping_services=[ServiceCategory.MEDICAL],
    )


E = TypeVar("E", bound=BaseModel)


def _event(event_cls: type[E], snapshot: BaseModel) -> E:
    return event_cls.model_validate(snapshot.model_dump())


def cloud_event(to: str = RECEIVING_AGENCY) -> CloudEvent:
    return to_cloudevent(
        _event(ReferralSubmitted, referral(to)), event_id=EVENT_ID, time=SUBMITTED_AT
    )


EXAMPLES: Mapping[str, Callable[[str], BaseModel]] = {
    "agency": lambda to: agency(),
    "service": lambda to: service(),
    "subject-ref": lambda to: subject(),
    "referral": referral_create,
    "referral-record": referral,
    "referral-transition": lambda to: referral_transition(),
    "consent": lambda to: consent_create(),
    "consent-record": lambda to: consent(),
    "consent-withdraw": lambda to: consent_withdraw(),
    "cloud-event": cloud_event,
    "event-referral-submitted": lambda to: _event(ReferralSubmitted, referral(to)),
    "event-referral-acknowledged": lambda to: _event(
        ReferralAcknowledged, referral_in(ReferralStatus.ACKNOWLEDGED, to=to)
    ),
    "event-referral-accepted": lambda to: _event(
        ReferralAccepted, referral_in(ReferralStatus.ACCEPTED, to=to)
    ),
    "event-referral-declined": lambda to: _event(
        ReferralDeclined, referral_in(ReferralStatus.DECLINED, to=to)
    ),
    "event-referral-completed": lambda to: _event(
        ReferralCompleted, referral_in(ReferralStatus.COMPLETED, to=to)
    ),
    "event-referral-closed": lambda to: _event(
        ReferralClosed, referral_in(ReferralStatus.CLOSED, to=to)
    ),
    "event-referral-cancelled": lambda to: _event(
        ReferralCancelled, referral_in(ReferralStatus.CANCELLED, to=to)
    ),
    "event-consent-granted": lambda to: _event(ConsentGranted, consent()),
    "event-consent-withdrawn": lambda to: _event(ConsentWithdrawn, consent(withdrawn=True)),
    "event-duplicate-assistance-suspected": lambda to: duplicate_suspected(),
}
"""Public model name (same as the exported schema file) → example builder taking ``--to``."""


def example(name: str, to: str = RECEIVING_AGENCY) -> BaseModel:
    """The example instance of a public model by name (``KeyError`` if unknown)."""
    return EXAMPLES[name](to)
