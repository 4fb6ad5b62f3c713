"""The decision point on small hand-written policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.policy.engine import CompiledPolicy, decide
from gateway.policy.models import PolicyFile
from tests.gateway.policy.factories import consent, request


def small_policy(**overrides: Any) -> CompiledPolicy:
    document: dict[str, Any] = {
        "policy_id": "essai",
        "version": "1.0.0",
        "effective_from": "2026-01-01",
        "title_fr": "Politique d'essai",
        "roles": {
            "referrer": {"label_fr": "Orienteur", "label_en": "Referrer"},
            "service_provider": {"label_fr": "Prestataire", "label_en": "Provider"},
        },
        "members": [
            {"kinds": ["ngo"], "roles": ["referrer"]},
            {"kinds": ["provider"], "roles": ["service_provider"]},
        ],
        "explicit_consent_categories": ["protection_sensitive"],
        "flows": [
            {
                "id": "orientation",
                "purpose": "referral",
                "to_roles": ["service_provider"],
                "categories": ["identity_contact", "health", "protection_sensitive"],
            }
        ],
    }
    document.update(overrides)
    return CompiledPolicy(PolicyFile.model_validate(document))


PROVIDER = ("ONG-ABRI", "provider")
ALL = ("identity_contact", "health", "protection_sensitive")


def test_deny_rule_overrides_a_permitting_flow() -> None:
    policy = small_policy(
        deny=[
            {
                "id": "pas-de-sante",
                "categories": ["health"],
                "reason_fr": "Interdit.",
                "reason_en": "Forbidden.",
            }
        ]
    )
    decision = decide(policy, request(PROVIDER, ALL, consents=[consent(categories=ALL)]))

    assert decision.permitted_categories == ("identity_contact",)
    codes = {r.category: r.code for r in decision.reasons}
    assert codes["health"] == "denied_by_rule"
    assert "Interdit." in next(r.fr for r in decision.reasons if r.category == "health")


def test_deny_rule_selectors_combine() -> None:
    rule = {
        "id": "pas-cette-agence",
        "to_kinds": ["provider"],
        "to_agencies": ["ONG-AUTRE"],
        "reason_fr": "Non.",
        "reason_en": "No.",
    }
    policy = small_policy(deny=[rule])
    everything = [consent(categories=["identity_contact"])]

    targeted = decide(
        policy, request(("ONG-AUTRE", "provider"), ["identity_contact"], consents=everything)
    )
    spared = decide(policy, request(PROVIDER, ["identity_contact"], consents=everything))

    assert not targeted.permitted
    assert spared.permitted


def test_default_is_deny_without_flow() -> None:
    decision = decide(small_policy(), request(PROVIDER, ["socio_economic"], consents=[consent()]))

    assert decision.decision == "deny"
    assert decision.reasons[0].code == "no_flow"


def test_explicit_category_needs_recipient_code() -> None:
    by_kind = consent(categories=ALL, recipients=["provider"])
    by_code = consent(categories=ALL, recipients=["ONG-ABRI"])
    policy = small_policy()

    kind_decision = decide(policy, request(PROVIDER, ALL, consents=[by_kind]))
    code_decision = decide(policy, request(PROVIDER, ALL, consents=[by_code]))

    assert kind_decision.permitted_categories == ("identity_contact", "health")
    assert code_decision.permitted_categories == ALL


def test_withdrawn_consent_denies_every_category() -> None:
    decision = decide(
        small_policy(), request(PROVIDER, ALL, consents=[consent(categories=ALL, withdrawn=True)])
    )

    assert decision.decision == "deny"
    assert {r.code for r in decision.reasons} == {"consent_withdrawn"}
    assert decision.consent_ids == ()


def test_permitted_categories_follow_canonical_order_and_list_consents_once() -> None:
    one = consent(categories=["health", "identity_contact"], consent_id="c-1")
    decision = decide(
        small_policy(), request(PROVIDER, ["health", "identity_contact"], consents=[one])
    )

    assert decision.permitted_categories == ("identity_contact", "health")
    assert decision.consent_ids == ("c-1",)


def test_nothing_requested_is_denied() -> None:
    decision = decide(small_policy(), request(PROVIDER, []))

    assert decision.decision == "deny"
    assert decision.reasons[0].code == "no_category_requested"


def test_unknown_purpose_and_category_are_denied() -> None:
    policy = small_policy()
    unknown_purpose = decide(policy, request(PROVIDER, ["health"], purpose="marketing"))
    mixed = decide(
        policy,
        request(
            PROVIDER,
            ["identity_contact", "photos"],
            consents=[consent(categories=["identity_contact", "photos"])],
        ),
    )

    assert unknown_purpose.reasons[0].code == "unknown_purpose"
    assert "marketing" in unknown_purpose.reasons[0].fr
    assert mixed.permitted_categories == ("identity_contact",)
    assert mixed.denied_categories == ("photos",)
    assert mixed.reasons[1].code == "unknown_category"


def test_from_roles_needs_a_known_source() -> None:
    flows = [
        {
            "id": "orientation",
            "purpose": "referral",
            "from_roles": ["referrer"],
            "to_roles": ["service_provider"],
            "categories": ["identity_contact"],
        }
    ]
    policy = small_policy(flows=flows)
    granted = [consent(categories=["identity_contact"])]

    assert decide(policy, request(PROVIDER, ["identity_contact"], consents=granted)).permitted
    assert not decide(
        policy, request(PROVIDER, ["identity_contact"], source=None, consents=granted)
    ).permitted
    assert not decide(
        policy,
        request(PROVIDER, ["identity_contact"], source=("ONG-X", "provider"), consents=granted),
    ).permitted


def test_reasons_are_french_and_english() -> None:
    decision = decide(small_policy(), request(PROVIDER, ["health"], consents=[]))
    reason = decision.as_dict()["reasons"][0]

    assert reason["code"] == "consent_missing"
    assert "consentement" in reason["fr"]
    assert "consent" in reason["en"]
    assert decision.as_dict()["policy_version"] == "1.0.0"


def test_decision_without_clock_uses_now() -> None:
    now = datetime.now(UTC)
    current = consent(valid_from=now - timedelta(hours=1), valid_until=now + timedelta(hours=1))
    ended = consent(valid_from=now - timedelta(hours=2), valid_until=now - timedelta(hours=1))

    assert decide(
        small_policy(), request(PROVIDER, ["identity_contact"], consents=[current], at=None)
    ).permitted
    assert not decide(
        small_policy(), request(PROVIDER, ["identity_contact"], consents=[ended], at=None)
    ).permitted


def test_subject_scoped_prohibitions() -> None:
    rules = [
        {
            "id": f"pas-{scope}",
            "subject": scope,
            "categories": [category],
            "reason_fr": "Non.",
            "reason_en": "No.",
        }
        for scope, category in (("minor", "identity_contact"), ("adult", "health"))
    ]
    policy = small_policy(deny=rules)
    full = consent(categories=ALL, recipients=["ONG-ABRI"], guardian=True, assent=True)

    child = decide(policy, request(PROVIDER, ALL, age=12, consents=[full]))
    adult = decide(policy, request(PROVIDER, ALL, age=40, consents=[full]))

    assert child.permitted_categories == ("health", "protection_sensitive")
    assert adult.permitted_categories == ("identity_contact", "protection_sensitive")


def test_child_assent_threshold_and_optional_guardian() -> None:
    policy = small_policy(minors={"guardian_consent_required": False, "child_assent_from_age": 14})
    own_consent = [consent(categories=["identity_contact"])]

    assert decide(
        policy, request(PROVIDER, ["identity_contact"], age=13, consents=own_consent)
    ).permitted
    assert not decide(
        policy, request(PROVIDER, ["identity_contact"], age=14, consents=own_consent)
    ).permitted
