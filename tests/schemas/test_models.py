"""The contract models: bounded, coded, pseudonymous, with coherent rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel, ValidationError

from schemas import examples
from schemas.agency import Agency
from schemas.codes import (
    DeclineReason,
    Outcome,
    ReferralAction,
    ReferralStatus,
)
from schemas.consent import Consent, ConsentCreate
from schemas.export import PUBLIC_MODELS, json_schema
from schemas.referral import TRANSITIONS, Referral, ReferralCreate, ReferralTransition
from schemas.subject import SubjectRef

# Organisation/service names are the only human-written text; they name organisations.
ALLOWED_TEXT_FIELDS = {("agency", "name"), ("service", "name"), ("service", "description")}
PERSONAL_WORDS = {
    "name",
    "surname",
    "firstname",
    "lastname",
    "phone",
    "telephone",
    "contact",
    "address",
    "email",
    "narrative",
    "story",
    "note",
    "notes",
    "comment",
    "comments",
    "description",
}


def _properties(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(model, field, property schema) for the model and every $defs entry."""
    found = [(schema.get("title", ""), k, v) for k, v in schema.get("properties", {}).items()]
    for name, sub in schema.get("$defs", {}).items():
        found += [(name, k, v) for k, v in sub.get("properties", {}).items()]
    return found


def _strings(prop: dict[str, Any]) -> list[dict[str, Any]]:
    parts = [prop, *prop.get("anyOf", [])]
    parts += [p["items"] for p in list(parts) if isinstance(p.get("items"), dict)]
    return [p for p in parts if p.get("type") == "string"]


@pytest.mark.parametrize("name", list(PUBLIC_MODELS))
def test_every_string_is_bounded_and_every_field_described_in_both_languages(name: str) -> None:
    for model, field, prop in _properties(json_schema(name)):
        description = prop.get("description", "")
        assert " / " in description, (name, model, field)
        for string in _strings(prop):
            bounded = "maxLength" in string or "format" in string or "enum" in string
            assert bounded or "const" in string, (name, model, field)


@pytest.mark.parametrize("name", list(PUBLIC_MODELS))
def test_no_field_can_hold_a_person_name_contact_or_narrative(name: str) -> None:
    for model, field, prop in _properties(json_schema(name)):
        if PERSONAL_WORDS & set(field.lower().split("_")):
            assert (name, field) in ALLOWED_TEXT_FIELDS, (name, model, field)
        if field == "protected" or name in {"cloud-event"} and field == "data":
            continue
        for string in _strings(prop):
            if "pattern" not in string and "enum" not in string and "format" not in string:
                assert string.get("maxLength", 0) <= 500, (name, model, field)


@pytest.mark.parametrize("model", [Agency, ReferralCreate, Referral, SubjectRef, ConsentCreate])
def test_unknown_fields_are_refused(model: type[BaseModel]) -> None:
    builders: dict[type[BaseModel], Callable[[], BaseModel]] = {
        Agency: examples.agency,
        ReferralCreate: examples.referral_create,
        Referral: examples.referral,
        SubjectRef: examples.subject,
        ConsentCreate: examples.consent_create,
    }
    instance = builders[model]()
    payload = instance.model_dump(mode="json") | {"full_name": "Mariama Camara"}
    with pytest.raises(ValidationError, match="full_name"):
        model.model_validate(payload)


def test_top_level_models_carry_schema_version() -> None:
    for name, model in PUBLIC_MODELS.items():
        if name != "subject-ref" and name != "cloud-event":
            assert model.model_fields["schema_version"].default == "1.0", name


def test_referral_requires_at_least_one_service_and_no_duplicates() -> None:
    body = examples.referral_create().model_dump(mode="json")
    with pytest.raises(ValidationError, match="services_requested"):
        ReferralCreate.model_validate(body | {"services_requested": []})
    with pytest.raises(ValidationError, match="duplicate value"):
        ReferralCreate.model_validate(body | {"services_requested": ["medical", "medical"]})


@pytest.mark.parametrize(
    "protected",
    ["not-a-jwe", "a.b.c.d", "a.b.c.d.e.f", "a b.c.d.e.f", "a..iv.ct.t=="],
)
def test_protected_payload_must_have_the_shape_of_a_jwe_compact(protected: str) -> None:
    body = examples.referral_create().model_dump(mode="json") | {"protected": protected}
    with pytest.raises(ValidationError, match="protected"):
        ReferralCreate.model_validate(body)


def test_subject_is_pseudonymous_and_coherent() -> None:
    base = examples.subject().model_dump(mode="json")
    with pytest.raises(ValidationError, match="pseudonym"):
        SubjectRef.model_validate(base | {"pseudonym": "Mariama Camara"})
    with pytest.raises(ValidationError, match="is_minor does not match"):
        SubjectRef.model_validate(base | {"is_minor": True})
    with pytest.raises(ValidationError, match="only a minor"):
        SubjectRef.model_validate(base | {"is_unaccompanied": True})
    with pytest.raises(ValidationError, match="unknown area"):
        SubjectRef.model_validate(base | {"area_code": "GN-ZZ"})
    derived = SubjectRef.model_validate(
        {k: v for k, v in base.items() if k != "age_band"} | {"birth_year": 1950}
    )
    assert derived.age_band.value == "60+"


def test_transition_fields_must_fit_the_action() -> None:
    assert ReferralTransition(action=ReferralAction.DECLINE, reason_code=DeclineReason.NO_CAPACITY)
    assert ReferralTransition(action=ReferralAction.COMPLETE, outcome=Outcome.NOT_SERVED_COST)
    with pytest.raises(ValidationError, match="reason_code is required"):
        ReferralTransition(action=ReferralAction.DECLINE)
    with pytest.raises(ValidationError, match="outcome is required"):
        ReferralTransition(action=ReferralAction.COMPLETE)
    with pytest.raises(ValidationError, match="only for decline"):
        ReferralTransition(action=ReferralAction.ACCEPT, reason_code=DeclineReason.OTHER)
    with pytest.raises(ValidationError, match="submit"):
        ReferralTransition(action=ReferralAction.SUBMIT)
    with pytest.raises(ValidationError, match="alternative_referral_id"):
        ReferralTransition(action=ReferralAction.ACCEPT, alternative_referral_id=uuid4())


def test_transition_table_is_the_agreed_state_machine() -> None:
    table = {
        a.value: (sorted(s.value for s in t.from_statuses), t.to_status.value, t.actor.value)
        for a, t in TRANSITIONS.items()
    }
    assert table == {
        "acknowledge": (["submitted"], "acknowledged", "receiver"),
        "accept": (["acknowledged", "submitted"], "accepted", "receiver"),
        "decline": (["acknowledged", "submitted"], "declined", "receiver"),
        "complete": (["accepted"], "completed", "receiver"),
        "close": (["completed", "declined"], "closed", "either"),
        "cancel": (["accepted", "acknowledged", "submitted"], "cancelled", "referrer"),
    }


def test_referral_status_must_match_its_last_history_entry() -> None:
    data = examples.referral().model_dump(mode="json") | {"status": ReferralStatus.ACCEPTED.value}
    with pytest.raises(ValidationError, match="last history entry"):
        Referral.model_validate(data)


def test_minor_consent_needs_guardian_consent_and_child_assent() -> None:
    body = examples.consent_create().model_dump(mode="json")
    with pytest.raises(ValidationError, match="guardian consent"):
        ConsentCreate.model_validate(body | {"subject_is_minor": True})
    with pytest.raises(ValidationError, match="child assent"):
        ConsentCreate.model_validate(body | {"subject_is_minor": True, "guardian_consent": True})
    minor = ConsentCreate.model_validate(
        body | {"subject_is_minor": True, "guardian_consent": True, "child_assent": True}
    )
    assert minor.child_assent is True
    with pytest.raises(ValidationError, match="only for a minor"):
        ConsentCreate.model_validate(body | {"guardian_consent": True})


def test_consent_recipients_are_agency_codes_or_kinds_and_validity_is_ordered() -> None:
    body = examples.consent_create().model_dump(mode="json")
    parsed = ConsentCreate.model_validate(body)
    assert [str(r) for r in parsed.recipients] == ["SANTE-DEMO", "government"]
    with pytest.raises(ValidationError, match="recipients"):
        ConsentCreate.model_validate(body | {"recipients": ["Centre de santé"]})
    with pytest.raises(ValidationError, match="valid_until must follow"):
        ConsentCreate.model_validate(body | {"valid_until": body["valid_from"]})


def test_withdrawn_consent_has_a_date_and_a_reason() -> None:
    data = examples.consent(withdrawn=True).model_dump(mode="json")
    assert Consent.model_validate(data).withdrawn_at is not None
    with pytest.raises(ValidationError, match="withdrawn_at and withdrawal_reason"):
        Consent.model_validate(data | {"withdrawal_reason": None})


def test_agency_public_key_must_not_hold_private_material() -> None:
    data = examples.agency().model_dump(mode="json")
    data["public_jwk"] = data["public_jwk"] | {"d": "c2VjcmV0"}
    with pytest.raises(ValidationError, match="private key material"):
        Agency.model_validate(data)


def test_models_are_immutable() -> None:
    referral = examples.referral()
    with pytest.raises(ValidationError, match="frozen"):
        referral.version = 2  # type: ignore[misc]
