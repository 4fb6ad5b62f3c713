"""Every referral field has a data category, and redaction keeps only permitted ones."""

from __future__ import annotations

from schemas import examples
from schemas.categories import (
    REFERRAL_FIELD_CATEGORIES,
    SUBJECT_FIELD_CATEGORIES,
    redact_referral,
)
from schemas.codes import DataCategory
from schemas.export import json_schema
from schemas.referral import Referral
from schemas.subject import SubjectRef


def test_every_referral_and_subject_field_has_a_category() -> None:
    assert set(SUBJECT_FIELD_CATEGORIES) == set(SubjectRef.model_fields)
    top = {name for name in REFERRAL_FIELD_CATEGORIES if "." not in name}
    assert top == set(Referral.model_fields)


def test_categories_are_published_in_the_json_schema() -> None:
    schema = json_schema("referral-record")
    for name, prop in schema["properties"].items():
        assert prop["x-data-category"] == REFERRAL_FIELD_CATEGORIES[name].value
    subject = schema["$defs"]["SubjectRef"]["properties"]
    assert subject["bloom"]["x-data-category"] == "identity_contact"


def test_sensitive_fields_have_the_documented_categories() -> None:
    cats = REFERRAL_FIELD_CATEGORIES
    assert cats["protected"] is DataCategory.IDENTITY_CONTACT
    assert cats["external_reference"] is DataCategory.IDENTITY_CONTACT
    assert cats["case_category"] is DataCategory.PROTECTION_SENSITIVE
    assert cats["vulnerabilities"] is DataCategory.PROTECTION_SENSITIVE
    assert cats["subject.tokens"] is DataCategory.IDENTITY_CONTACT
    assert cats["subject.birth_year"] is DataCategory.IDENTITY_CONTACT
    assert cats["subject.pseudonym"] is DataCategory.STATISTICAL
    assert cats["services_requested"] is DataCategory.STATISTICAL


def test_statistical_only_redaction_drops_identity_and_protection_fields() -> None:
    payload = examples.referral().model_dump(mode="json")
    redacted = redact_referral(payload, {"statistical"})
    for gone in ("protected", "external_reference", "case_category", "vulnerabilities"):
        assert gone not in redacted
    assert "tokens" not in redacted["subject"]
    assert "birth_year" not in redacted["subject"]
    assert redacted["subject"]["age_band"] == "18-24"
    assert redacted["status"] == "submitted"
    assert payload["protected"]  # the input is not modified


def test_everything_permitted_keeps_the_whole_payload() -> None:
    payload = examples.referral().model_dump(mode="json")
    assert redact_referral(payload, [c.value for c in DataCategory]) == payload


def test_unknown_fields_are_dropped_and_nothing_permitted_gives_nothing() -> None:
    payload = examples.referral().model_dump(mode="json") | {"surprise": "x"}
    assert "surprise" not in redact_referral(payload, list(DataCategory))
    assert redact_referral(payload, set()) == {}


def test_subject_dropped_when_none_of_its_fields_is_permitted() -> None:
    payload = examples.referral().model_dump(mode="json")
    payload["subject"] = {"tokens": payload["subject"]["tokens"]}
    redacted = redact_referral(payload, {"statistical"})
    assert "subject" not in redacted
