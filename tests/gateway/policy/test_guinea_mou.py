"""Table-driven tests of the Guinea MoU: who gets what, for which purpose, on which condition."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from gateway.policy.engine import DecisionRequest, decide
from tests.gateway.policy.factories import (
    DAY,
    NOW,
    consent,
    grant,
    guinea,
    guinea_policy,
    request,
)

NGO = ("ONG-GUIDE", "ngo")
PROVIDER = ("ONG-ABRI", "provider")
HEALTH = ("SANTE-DEMO", "provider")
PSY = ("PSY-DEMO", "provider")
TRAINING = ("FORM-DEMO", "provider")
COORDINATOR = ("GOUV-RETOUR", "government")
IOM = ("OIM-DEMO", "un")

# A consent given to "any service provider" for a referral (kind-based recipient).
TO_PROVIDERS = consent(consent_id="c-providers", recipients=("provider", "ngo"))
HEALTH_NAMED = consent(
    consent_id="c-health-named",
    categories=("identity_contact", "health", "statistical"),
    recipients=("SANTE-DEMO",),
)
HEALTH_BY_KIND = consent(
    consent_id="c-health-kind",
    categories=("identity_contact", "health"),
    recipients=("provider",),
)
PSY_NAMED = consent(
    consent_id="c-psy",
    categories=("identity_contact", "health", "protection_sensitive", "statistical"),
    recipients=("PSY-DEMO",),
)


@dataclass(frozen=True)
class Case:
    id: str
    request: DecisionRequest
    permitted: set[str]
    reasons: dict[str, str] = field(default_factory=dict)
    consent_ids: tuple[str, ...] | None = None


CASES = [
    Case(
        "demo-ngo-receives-as-service-provider",
        request(
            ("ONG-SOLIDARITE", "ngo"),
            ["identity_contact", "health", "statistical"],
            source=("OIM-DEMO", "un"),
            consents=[TO_PROVIDERS],
        ),
        {"identity_contact", "statistical"},
        {"health": "no_flow"},
        ("c-providers",),
    ),
    Case(
        "referral-to-provider-with-kind-consent",
        request(PROVIDER, ["identity_contact", "socio_economic"], consents=[TO_PROVIDERS]),
        {"identity_contact", "socio_economic"},
        {"identity_contact": "permitted"},
        ("c-providers",),
    ),
    Case(
        "non-party-provider-denied",
        request(
            PROVIDER, ["identity_contact", "socio_economic"], party=None, consents=[TO_PROVIDERS]
        ),
        set(),
        {"identity_contact": "not_a_party", "socio_economic": "not_a_party"},
    ),
    Case(
        "referrer-is-not-the-receiver-of-provider-flows",
        request(PROVIDER, ["identity_contact"], party="referrer", consents=[TO_PROVIDERS]),
        set(),
        {"identity_contact": "not_a_party"},
    ),
    Case(
        "source-must-be-a-referrer",
        request(
            PROVIDER,
            ["identity_contact"],
            source=("ONG-ABRI-2", "provider"),
            consents=[TO_PROVIDERS],
        ),
        set(),
        {"identity_contact": "no_flow"},
    ),
    Case(
        "health-with-consent-naming-the-clinic",
        request(HEALTH, ["identity_contact", "health"], consents=[HEALTH_NAMED]),
        {"identity_contact", "health"},
        {"health": "permitted"},
        ("c-health-named",),
    ),
    Case(
        "health-needs-explicit-consent-not-kind",
        request(HEALTH, ["identity_contact", "health"], consents=[HEALTH_BY_KIND]),
        {"identity_contact"},
        {"health": "explicit_consent_required"},
    ),
    Case(
        "protection-sensitive-to-psychosocial-with-explicit-consent",
        request(PSY, ["protection_sensitive", "health", "identity_contact"], consents=[PSY_NAMED]),
        {"protection_sensitive", "health", "identity_contact"},
    ),
    Case(
        "protection-sensitive-never-to-general-provider",
        request(
            PROVIDER,
            ["protection_sensitive"],
            consents=[consent(categories=["protection_sensitive"], recipients=["ONG-ABRI"])],
        ),
        set(),
        {"protection_sensitive": "no_flow"},
    ),
    Case(
        "prohibition-overrides-for-training-centre",
        request(
            TRAINING,
            ["identity_contact", "health"],
            consents=[consent(categories=["identity_contact", "health"], recipients=["FORM-DEMO"])],
        ),
        {"identity_contact"},
        {"health": "denied_by_rule"},
    ),
    Case(
        "withdrawn-consent-never-permits",
        request(PROVIDER, ["identity_contact"], consents=[consent(withdrawn=True)]),
        set(),
        {"identity_contact": "consent_withdrawn"},
    ),
    Case(
        "expired-consent-never-permits",
        request(PROVIDER, ["identity_contact"], consents=[consent(valid_until=NOW - DAY)]),
        set(),
        {"identity_contact": "consent_expired"},
    ),
    Case(
        "consent-ends-exactly-now",
        request(PROVIDER, ["identity_contact"], consents=[consent(valid_until=NOW)]),
        set(),
        {"identity_contact": "consent_expired"},
    ),
    Case(
        "future-consent-not-yet-valid",
        request(PROVIDER, ["identity_contact"], consents=[consent(valid_from=NOW + DAY)]),
        set(),
        {"identity_contact": "consent_not_yet_valid"},
    ),
    Case(
        "withdrawal-does-not-block-another-active-consent",
        request(PROVIDER, ["identity_contact"], consents=[consent(withdrawn=True), TO_PROVIDERS]),
        {"identity_contact"},
        consent_ids=("c-providers",),
    ),
    Case(
        "child-of-10-with-guardian-consent",
        request(PROVIDER, ["identity_contact"], age=10, consents=[consent(guardian=True)]),
        {"identity_contact"},
    ),
    Case(
        "child-of-11-guardian-consent-is-enough",
        request(PROVIDER, ["identity_contact"], age=11, consents=[consent(guardian=True)]),
        {"identity_contact"},
    ),
    Case(
        "child-of-12-needs-own-assent",
        request(PROVIDER, ["identity_contact"], age=12, consents=[consent(guardian=True)]),
        set(),
        {"identity_contact": "child_assent_missing"},
    ),
    Case(
        "child-of-15-needs-own-assent",
        request(PROVIDER, ["identity_contact"], age=15, consents=[consent(guardian=True)]),
        set(),
        {"identity_contact": "child_assent_missing"},
    ),
    Case(
        "child-of-15-with-guardian-and-assent",
        request(
            PROVIDER, ["identity_contact"], age=15, consents=[consent(guardian=True, assent=True)]
        ),
        {"identity_contact"},
    ),
    Case(
        "minor-without-guardian-consent",
        request(PROVIDER, ["identity_contact"], age=16, consents=[consent(assent=True)]),
        set(),
        {"identity_contact": "guardian_consent_missing"},
    ),
    Case(
        "eighteen-is-adult",
        request(PROVIDER, ["identity_contact"], age=18, consents=[TO_PROVIDERS]),
        {"identity_contact"},
    ),
    Case(
        "seventeen-is-minor",
        request(PROVIDER, ["identity_contact"], age=17, consents=[TO_PROVIDERS]),
        set(),
        {"identity_contact": "guardian_consent_missing"},
    ),
    Case(
        "unknown-age-is-treated-as-minor",
        request(PROVIDER, ["identity_contact"], age=None, consents=[TO_PROVIDERS]),
        set(),
        {"identity_contact": "guardian_consent_missing"},
    ),
    Case(
        "adult-by-declaration",
        request(PROVIDER, ["identity_contact"], age=None, is_minor=False, consents=[TO_PROVIDERS]),
        {"identity_contact"},
    ),
    Case(
        "meal-statistics-without-consent-but-never-identity",
        request(IOM, ["statistical", "identity_contact"], purpose="meal_statistics", party=None),
        {"statistical"},
        {"statistical": "permitted_without_consent", "identity_contact": "denied_by_rule"},
        (),
    ),
    Case(
        "meal-statistics-not-for-an-ordinary-ngo",
        request(NGO, ["statistical"], purpose="meal_statistics", party=None),
        set(),
        {"statistical": "no_flow"},
    ),
    Case(
        "referral-status-back-to-referrer-without-consent",
        request(NGO, ["statistical"], party="referrer", source=PROVIDER),
        {"statistical"},
        {"statistical": "permitted_without_consent"},
    ),
    Case(
        "research-with-explicit-consent",
        request(
            IOM,
            ["socio_economic", "statistical"],
            purpose="research",
            party=None,
            consents=[
                consent(
                    purposes=["research"],
                    categories=["socio_economic", "statistical"],
                    recipients=["OIM-DEMO"],
                )
            ],
        ),
        {"socio_economic", "statistical"},
    ),
    Case(
        "research-consent-to-a-kind-is-not-enough",
        request(
            IOM,
            ["socio_economic"],
            purpose="research",
            party=None,
            consents=[
                consent(purposes=["research"], categories=["socio_economic"], recipients=["un"])
            ],
        ),
        set(),
        {"socio_economic": "explicit_consent_required"},
    ),
    Case(
        "no-research-on-children",
        request(
            IOM,
            ["statistical"],
            purpose="research",
            party=None,
            age=14,
            consents=[
                consent(
                    purposes=["research"],
                    categories=["statistical"],
                    recipients=["OIM-DEMO"],
                    guardian=True,
                    assent=True,
                )
            ],
        ),
        set(),
        {"statistical": "denied_by_rule"},
    ),
    Case(
        "referral-for-a-consent-to-research-only",
        request(PROVIDER, ["identity_contact"], consents=[consent(purposes=["research"])]),
        set(),
        {"identity_contact": "consent_missing"},
    ),
    Case(
        "coordinator-receives-protection-data-with-named-consent",
        request(
            COORDINATOR,
            ["protection_sensitive", "identity_contact"],
            consents=[
                consent(
                    categories=["protection_sensitive", "identity_contact"],
                    recipients=["GOUV-RETOUR"],
                )
            ],
        ),
        {"protection_sensitive", "identity_contact"},
    ),
    Case(
        "coordinator-protection-data-by-kind-consent-denied",
        request(
            COORDINATOR,
            ["protection_sensitive"],
            consents=[consent(categories=["protection_sensitive"], recipients=["government"])],
        ),
        set(),
        {"protection_sensitive": "explicit_consent_required"},
    ),
    Case(
        "follow-up-report-back-to-referrer",
        request(
            NGO,
            ["socio_economic"],
            purpose="case_follow_up",
            party="referrer",
            source=PROVIDER,
            consents=[
                consent(
                    purposes=["case_follow_up"], categories=["socio_economic"], recipients=["ngo"]
                )
            ],
        ),
        {"socio_economic"},
    ),
    Case(
        "agency-of-unknown-kind-is-not-a-member",
        request(("INCONNU", "other"), ["statistical"], consents=[consent(recipients=["INCONNU"])]),
        set(),
        {"statistical": "recipient_not_member"},
    ),
    Case(
        "break-glass-for-clinic-in-life-threatening-emergency",
        request(
            HEALTH,
            ["identity_contact", "health", "protection_sensitive"],
            party=None,
            break_glass=grant("SANTE-DEMO"),
        ),
        {"identity_contact", "health"},
        {"health": "break_glass", "protection_sensitive": "no_flow"},
    ),
    Case(
        "break-glass-expired",
        request(
            HEALTH,
            ["health"],
            party=None,
            break_glass=grant("SANTE-DEMO", valid_from=NOW - timedelta(hours=25)),
        ),
        set(),
        {"health": "not_a_party"},
    ),
    Case(
        "break-glass-longer-than-24h-refused",
        request(HEALTH, ["health"], party=None, break_glass=grant("SANTE-DEMO", hours=48)),
        set(),
    ),
    Case(
        "break-glass-not-for-ngos",
        request(NGO, ["identity_contact"], party=None, break_glass=grant("ONG-GUIDE")),
        set(),
    ),
    Case(
        "break-glass-grant-is-for-another-agency",
        request(HEALTH, ["health"], party=None, break_glass=grant("SANTE-AUTRE")),
        set(),
    ),
    Case(
        "break-glass-not-for-research",
        request(
            IOM,
            ["health"],
            purpose="research",
            party=None,
            break_glass=grant("OIM-DEMO", purpose="research"),
        ),
        set(),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_guinea_mou(case: Case) -> None:
    decision = decide(guinea_policy(), case.request)

    assert set(decision.permitted_categories) == case.permitted
    assert decision.decision == ("permit" if case.permitted else "deny")
    assert set(decision.denied_categories) == set(case.request.data_categories) - case.permitted
    by_category = {r.category: r.code for r in decision.reasons}
    for category, code in case.reasons.items():
        assert by_category[category] == code
    if case.consent_ids is not None:
        assert decision.consent_ids == case.consent_ids
    assert decision.policy_version == "0.1.0"
    assert decision.policy_id == "mou-guinee"


def test_guinea_file_has_no_warnings() -> None:
    assert guinea().warnings == []


def test_break_glass_decision_names_the_grant() -> None:
    emergency = grant("SANTE-DEMO")
    decision = decide(
        guinea_policy(), request(HEALTH, ["health"], party=None, break_glass=emergency)
    )

    assert decision.break_glass_grant_id == emergency.grant_id
    assert "bris de glace" in decision.reasons[0].fr


def test_retention_of_identity_copies_is_one_year() -> None:
    assert guinea_policy().recipient_retention_days("identity_contact") == 365
    assert guinea_policy().gateway_retention["referral"] == 5 * 365
