"""Hypothesis strategies building valid instances of the contract models (synthetic only)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from schemas.agency import Agency
from schemas.codes import (
    AREA_CODES,
    MINOR_AGE_BANDS,
    NATIONALITY_LABELS,
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
)
from schemas.common import (
    AGENCY_CODE_PATTERN,
    CLIENT_ID_PATTERN,
    SERVICE_ID_PATTERN,
    SHORT_REFERENCE_PATTERN,
)
from schemas.consent import Consent, ConsentCreate
from schemas.referral import Referral, ReferralCreate, StatusChange
from schemas.service import Eligibility, Service
from schemas.subject import SubjectRef

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

pseudonyms = st.text(alphabet=B64URL, min_size=43, max_size=43)
agency_codes = st.from_regex(AGENCY_CODE_PATTERN, fullmatch=True)
client_ids = st.from_regex(CLIENT_ID_PATTERN, fullmatch=True)
service_ids = st.from_regex(SERVICE_ID_PATTERN, fullmatch=True)
short_references = st.from_regex(SHORT_REFERENCE_PATTERN, fullmatch=True)
areas = st.sampled_from(sorted(AREA_CODES))
nationalities = st.sampled_from(sorted(NATIONALITY_LABELS)) | st.from_regex(
    r"^[A-Z]{2}$", fullmatch=True
)
# One line of printable text, as organisation and service names are.
display_names = st.text(
    alphabet=st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\x7f"),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() == s and s != "")
times = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2035, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))]),
)
blooms = st.binary(min_size=8, max_size=128).map(lambda b: base64.b64encode(b).decode())
jwe = st.lists(st.text(alphabet=B64URL, min_size=1, max_size=40), min_size=5, max_size=5).map(
    ".".join
)


def unique_lists(
    elements: st.SearchStrategy[Any], *, min_size: int = 0, max_size: int | None = None
) -> st.SearchStrategy[list[Any]]:
    return st.lists(elements, unique=True, min_size=min_size, max_size=max_size)


@st.composite
def subjects(draw: st.DrawFn) -> SubjectRef:
    band = draw(st.sampled_from(AgeBand))
    minor = band in MINOR_AGE_BANDS
    return SubjectRef(
        pseudonym=draw(pseudonyms),
        tokens=draw(unique_lists(pseudonyms, max_size=3)),
        bloom=draw(st.none() | blooms),
        birth_year=draw(st.none() | st.integers(1930, 2030)),
        age_band=band,
        sex=draw(st.sampled_from(Sex)),
        nationality=draw(st.none() | nationalities),
        area_code=draw(st.none() | areas),
        languages=draw(unique_lists(st.sampled_from(Language), max_size=4)),
        is_minor=minor,
        is_unaccompanied=minor and draw(st.booleans()),
    )


@st.composite
def referral_creates(draw: st.DrawFn) -> ReferralCreate:
    return ReferralCreate(
        receiving_agency=draw(agency_codes),
        receiving_service=draw(st.none() | service_ids),
        subject=draw(subjects()),
        case_category=draw(st.sampled_from(CaseCategory)),
        vulnerabilities=draw(unique_lists(st.sampled_from(VulnerabilityCriterion), max_size=5)),
        services_requested=draw(
            unique_lists(st.sampled_from(ServiceCategory), min_size=1, max_size=4)
        ),
        urgency=draw(st.sampled_from(Urgency)),
        consent_id=draw(st.none() | st.uuids()),
        protected=draw(st.none() | jwe),
        external_reference=draw(st.none() | short_references),
    )


status_changes = st.builds(
    StatusChange,
    status=st.sampled_from(ReferralStatus),
    action=st.sampled_from(ReferralAction),
    at=times,
    actor_agency=agency_codes,
    actor_client=client_ids,
    reason_code=st.none() | st.sampled_from(DeclineReason),
    outcome=st.none() | st.sampled_from(Outcome),
)


@st.composite
def referrals(draw: st.DrawFn) -> Referral:
    body = draw(referral_creates())
    history = draw(st.lists(status_changes, min_size=1, max_size=5))
    return Referral(
        **body.model_dump(),
        id=draw(st.uuids()),
        referring_agency=draw(agency_codes),
        status=history[-1].status,
        history=history,
        created_at=draw(times),
        updated_at=draw(times),
        acknowledge_by=draw(times),
        respond_by=draw(times),
        decline_reason=draw(st.none() | st.sampled_from(DeclineReason)),
        outcome=draw(st.none() | st.sampled_from(Outcome)),
        version=draw(st.integers(1, 1000)),
    )


recipients = agency_codes | st.sampled_from(AgencyKind)


@st.composite
def consent_creates(draw: st.DrawFn) -> ConsentCreate:
    start = draw(times)
    minor = draw(st.booleans())
    return ConsentCreate(
        subject_pseudonym=draw(pseudonyms),
        collecting_agency=draw(agency_codes),
        purposes=draw(unique_lists(st.sampled_from(ConsentPurpose), min_size=1)),
        data_categories=draw(unique_lists(st.sampled_from(DataCategory), min_size=1)),
        recipients=draw(unique_lists(recipients, min_size=1, max_size=5)),
        valid_from=start,
        valid_until=draw(
            st.none() | st.timedeltas(timedelta(minutes=1), timedelta(days=800)).map(start.__add__)
        ),
        method=draw(st.sampled_from(ConsentMethod)),
        evidence_reference=draw(st.none() | short_references),
        subject_is_minor=minor,
        guardian_consent=True if minor else None,
        child_assent=draw(st.booleans()) if minor else None,
    )


@st.composite
def consents(draw: st.DrawFn) -> Consent:
    body = draw(consent_creates())
    withdrawn = draw(st.booleans())
    return Consent(
        **body.model_dump(),
        id=draw(st.uuids()),
        recorded_at=draw(times),
        status=ConsentStatus.WITHDRAWN if withdrawn else ConsentStatus.GRANTED,
        withdrawn_at=draw(times) if withdrawn else None,
        withdrawal_reason=draw(st.sampled_from(WithdrawalReason)) if withdrawn else None,
    )


agencies = st.builds(
    Agency,
    code=agency_codes,
    name=display_names,
    kind=st.sampled_from(AgencyKind),
    area=areas,
    active=st.booleans(),
    public_jwk=st.none()
    | st.fixed_dictionaries(
        {"kty": st.just("EC"), "crv": st.just("P-256"), "x": pseudonyms, "y": pseudonyms},
        optional={"kid": short_references, "use": st.just("enc")},
    ),
)


@st.composite
def eligibilities(draw: st.DrawFn) -> Eligibility:
    low = draw(st.none() | st.integers(0, 60))
    high = draw(st.none() | st.integers(low or 0, 130))
    return Eligibility(
        min_age=low,
        max_age=high,
        sexes=draw(unique_lists(st.sampled_from(Sex), max_size=4)),
        case_categories=draw(unique_lists(st.sampled_from(CaseCategory), max_size=4)),
    )


@st.composite
def services(draw: st.DrawFn) -> Service:
    capacity = draw(st.none() | st.integers(0, 500))
    return Service(
        id=draw(service_ids),
        agency=draw(agency_codes),
        name=draw(display_names),
        description=draw(st.none() | display_names),
        category=draw(st.sampled_from(ServiceCategory)),
        eligibility=draw(eligibilities()),
        languages=draw(unique_lists(st.sampled_from(Language), max_size=4)),
        areas_served=draw(unique_lists(areas, max_size=5)),
        fees=draw(st.sampled_from(FeeCode)),
        capacity=capacity,
        capacity_available=draw(
            st.none() | st.integers(0, capacity if capacity is not None else 500)
        ),
        accepting_referrals=draw(st.booleans()),
        status=draw(st.sampled_from(ServiceStatus)),
    )
