"""Hypothesis round trips: JSON (pydantic) and FHIR (fhir.resources validates every resource)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from schemas import fhir
from schemas.agency import Agency
from schemas.consent import Consent
from schemas.referral import Referral
from schemas.service import Service
from tests.schemas import strategies as s

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    "strategy",
    [
        s.subjects(),
        s.referral_creates(),
        s.referrals(),
        s.consent_creates(),
        s.consents(),
        s.agencies,
        s.services(),
    ],
    ids=[
        "subject",
        "referral-create",
        "referral",
        "consent-create",
        "consent",
        "agency",
        "service",
    ],
)
@SETTINGS
@given(data=st.data())
def test_json_round_trip_gives_an_equal_model(strategy: Any, data: st.DataObject) -> None:
    model: BaseModel = data.draw(strategy)
    text = model.model_dump_json()
    assert type(model).model_validate_json(text) == model


@SETTINGS
@given(referral=s.referrals(), release=st.sampled_from(["R4B", "R5"]))
def test_referral_fhir_round_trip(referral: Referral, release: fhir.Release) -> None:
    bundle = fhir.referral_to_fhir(referral, release)
    assert fhir.referral_from_fhir(bundle, release) == referral


@SETTINGS
@given(consent=s.consents())
def test_consent_fhir_round_trip(consent: Consent) -> None:
    assert fhir.consent_from_fhir(fhir.consent_to_fhir(consent)) == consent


@SETTINGS
@given(agency=s.agencies, release=st.sampled_from(["R4B", "R5"]))
def test_agency_fhir_round_trip(agency: Agency, release: fhir.Release) -> None:
    assert fhir.agency_from_fhir(fhir.agency_to_fhir(agency, release), release) == agency


@SETTINGS
@given(service=s.services(), release=st.sampled_from(["R4B", "R5"]))
def test_service_fhir_round_trip(service: Service, release: fhir.Release) -> None:
    assert fhir.service_from_fhir(fhir.service_to_fhir(service, release), release) == service
