"""Notice texts: French first then English, a link to the record, and no personal data."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.notify.messages import render_email, render_sms
from gateway.notify.service import NoticeKind, notice_for_event
from schemas.events import make_envelope
from schemas.examples import consent, referral

BASE = "https://mno.example.gov.gn"


def submitted_event(to: str = "AGENCE-B") -> dict[str, Any]:
    data = referral(to).model_dump(mode="json")
    return make_envelope(type="gn.mno.referral.submitted.v1", subject=data["id"], data=data)


def sensitive_values(data: dict[str, Any]) -> list[str]:
    """What must never leave in a notice: pseudonyms, linkage tokens, the JWE, references,
    birth year, case category and vulnerabilities."""
    subject = data["subject"]
    return [
        subject["pseudonym"],
        *subject["tokens"],
        str(subject["birth_year"]),
        data["protected"],
        data["external_reference"],
        data["case_category"],
        *data["vulnerabilities"],
    ]


def test_new_referral_email_is_french_then_english_with_a_link_and_no_personal_data() -> None:
    event = submitted_event()
    notice = notice_for_event("AGENCE-B", event)
    assert notice is not None
    assert notice.kind is NoticeKind.REFERRAL_RECEIVED
    subject, body = render_email(notice.kind, notice.context, "AGENCE-B", BASE)
    assert subject == "[MNO] Nouveau référencement reçu / New referral received"
    assert body.index("nouveau référencement") < body.index("new referral")
    assert f"{BASE}/v1/referrals/{event['data']['id']}" in body
    assert "Urgence            : Élevée" in body or "Urgence            : Haute" in body
    assert "OIM-DEMO" in body
    assert "04/03/2025 à 09:30 UTC" in body
    for value in sensitive_values(event["data"]):
        assert value not in subject
        assert value not in body
    # Context stored with the notice: codes and ids only.
    assert set(notice.context) == {"referral_id", "referring_agency", "urgency", "acknowledge_by"}


def test_the_referrer_is_not_told_of_its_own_referral() -> None:
    assert notice_for_event("OIM-DEMO", submitted_event()) is None
    acknowledged = {**submitted_event(), "type": "gn.mno.referral.acknowledged.v1"}
    assert notice_for_event("AGENCE-B", acknowledged) is None


def test_new_referral_sms_is_short_french_with_a_link() -> None:
    event = submitted_event()
    notice = notice_for_event("AGENCE-B", event)
    assert notice is not None
    text = render_sms(notice.kind, notice.context, "AGENCE-B", BASE)
    assert text.startswith("MNO : nouveau référencement reçu de OIM-DEMO")
    assert text.endswith(f"{BASE}/v1/referrals/{event['data']['id']}")
    assert len(text) <= 160
    for value in sensitive_values(event["data"]):
        assert value not in text


def test_consent_withdrawn_notice_names_the_reason_and_links_the_consent() -> None:
    data = consent(withdrawn=True).model_dump(mode="json")
    event = make_envelope(type="gn.mno.consent.withdrawn.v1", subject=data["id"], data=data)
    notice = notice_for_event("OIM-GN", event)
    assert notice is not None
    subject, body = render_email(notice.kind, notice.context, "OIM-GN", BASE)
    assert subject == "[MNO] Consentement retiré / Consent withdrawn"
    assert f"{BASE}/v1/consents/{data['id']}" in body
    assert data["subject_pseudonym"] not in body
    assert "retiré" in body
    assert "withdrawn" in body


@pytest.mark.parametrize("kind", [k.value for k in NoticeKind])
def test_every_kind_renders_in_both_languages_and_as_sms(kind: str) -> None:
    context = {
        "referral_id": "0b5f9d3c-6a0e-4d8b-9a57-2f1c3e7a9b10",
        "consent_id": "5d2c7e1a-3b4f-4c6d-8e9f-a0b1c2d3e4f5",
        "subscription_id": "3f0c1f7e-0000-4000-8000-000000000001",
        "url": "https://sih.example.org/hooks",
        "reason": "gone",
        "deadline": "acknowledge",
        "due_at": "2025-03-04T09:30:00+00:00",
        "urgency": "high",
        "matches": 2,
        "referring_agency": "OIM-DEMO",
        "acknowledge_by": "2025-03-04T09:30:00+00:00",
        "withdrawal_reason": "requested_by_person",
    }
    subject, body = render_email(kind, context, "AGENCE-B", BASE)
    assert " / " in subject
    assert "English" in body
    assert "Bonjour" in body
    assert "Hello" in body
    assert BASE in body
    assert "—" not in body  # every placeholder filled
    text = render_sms(kind, context, "AGENCE-B", BASE)
    assert text.startswith("MNO : ")
    assert len(text) <= 200
