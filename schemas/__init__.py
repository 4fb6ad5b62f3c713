"""The shared MNO contract: referral, consent, agency, service and event models, code lists."""

from __future__ import annotations

from schemas.agency import Agency
from schemas.categories import REFERRAL_FIELD_CATEGORIES, redact_referral
from schemas.common import SCHEMA_VERSION, MnoModel
from schemas.consent import Consent, ConsentCreate, ConsentWithdraw
from schemas.events import (
    EVENT_TYPES,
    CloudEvent,
    ConsentGranted,
    ConsentWithdrawn,
    DuplicateAssistanceSuspected,
    EventData,
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralCancelled,
    ReferralClosed,
    ReferralCompleted,
    ReferralDeclined,
    ReferralSubmitted,
    UnknownEventType,
    from_cloudevent,
    to_cloudevent,
)
from schemas.referral import TRANSITIONS, Referral, ReferralCreate, ReferralTransition, StatusChange
from schemas.service import Eligibility, Service
from schemas.subject import SubjectRef

__all__ = [
    "EVENT_TYPES",
    "REFERRAL_FIELD_CATEGORIES",
    "SCHEMA_VERSION",
    "TRANSITIONS",
    "Agency",
    "CloudEvent",
    "Consent",
    "ConsentCreate",
    "ConsentGranted",
    "ConsentWithdraw",
    "ConsentWithdrawn",
    "DuplicateAssistanceSuspected",
    "Eligibility",
    "EventData",
    "MnoModel",
    "Referral",
    "ReferralAccepted",
    "ReferralAcknowledged",
    "ReferralCancelled",
    "ReferralClosed",
    "ReferralCompleted",
    "ReferralCreate",
    "ReferralDeclined",
    "ReferralSubmitted",
    "ReferralTransition",
    "Service",
    "StatusChange",
    "SubjectRef",
    "UnknownEventType",
    "from_cloudevent",
    "redact_referral",
    "to_cloudevent",
]
