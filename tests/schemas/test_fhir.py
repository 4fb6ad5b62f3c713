"""FHIR mapping: resources valid for fhir.resources, round trips, clear errors."""

from __future__ import annotations

import copy

import pytest

from schemas import examples, fhir
from schemas.codes import CODE_LISTS, ReferralStatus


@pytest.mark.parametrize("status", list(ReferralStatus))
@pytest.mark.parametrize("release", ["R4B", "R5"])
def test_referral_round_trips_through_service_request_and_task(
    status: ReferralStatus, release: fhir.Release
) -> None:
    referral = examples.referral_in(status)
    bundle = fhir.referral_to_fhir(referral, release)
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds == ["ServiceRequest", "Task"]
    assert fhir.referral_from_fhir(bundle, release) == referral


def test_service_request_and_task_carry_the_referral_in_fhir_terms() -> None:
    referral = examples.referral_in(ReferralStatus.DECLINED)
    request = fhir.referral_to_service_request(referral)
    task = fhir.referral_to_task(referral)
    assert request["requester"]["identifier"]["value"] == "OIM-DEMO"
    assert request["performer"][0]["identifier"]["value"] == "SANTE-DEMO"
    assert request["status"] == "revoked"
    assert request["priority"] == "asap"
    assert task["status"] == "rejected"
    assert task["statusReason"]["coding"][0]["code"] == "no_capacity"
    assert task["restriction"]["period"]["end"] == referral.respond_by.isoformat()
    assert task["statusReason"]["coding"][0]["system"] == (
        "https://mno.gov.gn/fhir/CodeSystem/decline-reason"
    )


def test_patient_has_identifiers_only_never_a_name() -> None:
    patient = fhir.subject_to_patient(examples.subject())
    assert "name" not in patient
    assert "telecom" not in patient
    assert "address" not in patient
    assert patient["identifier"][0]["system"] == fhir.PSEUDONYM
    assert patient["birthDate"] == "2001"
    assert fhir.patient_to_subject(patient) == examples.subject()


@pytest.mark.parametrize("withdrawn", [False, True])
def test_consent_round_trips_through_fhir_consent(withdrawn: bool) -> None:
    consent = examples.consent(withdrawn=withdrawn)
    resource = fhir.consent_to_fhir(consent)
    assert resource["status"] == ("inactive" if withdrawn else "active")
    assert fhir.consent_from_fhir(resource) == consent


@pytest.mark.parametrize("release", ["R4B", "R5"])
def test_agency_and_service_round_trip_through_organization_and_healthcare_service(
    release: fhir.Release,
) -> None:
    agency, service = examples.agency(), examples.service()
    organization = fhir.agency_to_fhir(agency, release)
    assert organization["resourceType"] == "Organization"
    assert fhir.agency_from_fhir(organization, release) == agency
    healthcare = fhir.service_to_fhir(service, release)
    assert healthcare["providedBy"]["identifier"]["value"] == "SANTE-DEMO"
    assert fhir.service_from_fhir(healthcare, release) == service


@pytest.mark.parametrize("name", list(CODE_LISTS))
def test_every_code_list_is_a_valid_fhir_code_system(name: str) -> None:
    system = fhir.code_system(name)
    assert system["url"] == fhir.code_system_uri(name)
    assert system["concept"][0]["designation"][0]["language"] == "en"


def test_invalid_fhir_is_refused_with_a_bilingual_error() -> None:
    bundle = fhir.referral_to_fhir(examples.referral())
    broken = copy.deepcopy(bundle)
    broken["entry"][1]["resource"]["unexpected"] = True
    with pytest.raises(fhir.FhirMappingError, match="invalid FHIR R4B Bundle"):
        fhir.referral_from_fhir(broken)
    without_task = copy.deepcopy(bundle)
    without_task["entry"] = without_task["entry"][:1]
    with pytest.raises(fhir.FhirMappingError, match="exactly one Task"):
        fhir.referral_from_fhir(without_task)
    with pytest.raises(fhir.FhirMappingError, match="expected Consent"):
        fhir.consent_from_fhir({"resourceType": "Patient"})


def test_unknown_code_in_fhir_is_a_mapping_error() -> None:
    bundle = fhir.referral_to_fhir(examples.referral())
    request = bundle["entry"][0]["resource"]
    request["category"][0]["coding"][0]["code"] = "teleportation"
    with pytest.raises(fhir.FhirMappingError, match="unknown code 'teleportation'"):
        fhir.referral_from_fhir(bundle)
