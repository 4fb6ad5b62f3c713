"""Stable reason codes of policy decisions, with their French and English texts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.policy.labels import CATEGORY_LABELS, PURPOSE_LABELS, en, fr

PERMITTED = "permitted"
PERMITTED_WITHOUT_CONSENT = "permitted_without_consent"
BREAK_GLASS = "break_glass"
DENIED_BY_RULE = "denied_by_rule"
NOT_A_PARTY = "not_a_party"
RECIPIENT_NOT_MEMBER = "recipient_not_member"
NO_FLOW = "no_flow"
CONSENT_MISSING = "consent_missing"
CONSENT_WITHDRAWN = "consent_withdrawn"
CONSENT_EXPIRED = "consent_expired"
CONSENT_NOT_YET_VALID = "consent_not_yet_valid"
EXPLICIT_CONSENT_REQUIRED = "explicit_consent_required"
GUARDIAN_CONSENT_MISSING = "guardian_consent_missing"
CHILD_ASSENT_MISSING = "child_assent_missing"
UNKNOWN_CATEGORY = "unknown_category"
UNKNOWN_PURPOSE = "unknown_purpose"
NO_CATEGORY_REQUESTED = "no_category_requested"
# Decisions of the sharing paths around the engine (gateway/policy/service.py).
DATA_SOURCE = "data_source"
CONSENT_NOTICE = "consent_notice"
UNKNOWN_REFERRAL = "unknown_referral"

PERMIT_CODES = frozenset(
    {PERMITTED, PERMITTED_WITHOUT_CONSENT, BREAK_GLASS, DATA_SOURCE, CONSENT_NOTICE}
)

# {cat}: category label, {rule}: rule id, {purpose}: purpose label.
_TEMPLATES: dict[str, tuple[str, str]] = {
    PERMITTED: (
        "« {cat} » autorisé : flux « {rule} » du protocole d'accord et consentement actif.",
        "'{cat}' permitted: MoU flow '{rule}' and an active consent.",
    ),
    PERMITTED_WITHOUT_CONSENT: (
        "« {cat} » autorisé sans consentement (données statistiques agrégées) : flux « {rule} ».",
        "'{cat}' permitted without consent (aggregated statistical data): flow '{rule}'.",
    ),
    BREAK_GLASS: (
        "« {cat} » autorisé par accès d'urgence (bris de glace) ; accès audité et notifié.",
        "'{cat}' permitted by emergency (break-glass) access; audited and notified.",
    ),
    NOT_A_PARTY: (
        "« {cat} » refusé : pour la finalité « {purpose} », seules les parties à l'orientation "
        "(agence qui oriente, agence qui reçoit) peuvent recevoir ces données.",
        "'{cat}' denied: for purpose '{purpose}' only the parties to the referral "
        "(referring and receiving agencies) may receive this data.",
    ),
    RECIPIENT_NOT_MEMBER: (
        "« {cat} » refusé : le destinataire n'a aucun rôle dans le protocole d'accord.",
        "'{cat}' denied: the recipient holds no role under the MoU.",
    ),
    NO_FLOW: (
        "« {cat} » refusé : aucun flux du protocole d'accord n'autorise cette catégorie pour "
        "la finalité « {purpose} » vers ce destinataire.",
        "'{cat}' denied: no MoU flow permits this category for purpose '{purpose}' "
        "to this recipient.",
    ),
    CONSENT_MISSING: (
        "« {cat} » refusé : aucun consentement actif ne couvre cette finalité, cette catégorie "
        "et ce destinataire.",
        "'{cat}' denied: no active consent covers this purpose, category and recipient.",
    ),
    CONSENT_WITHDRAWN: (
        "« {cat} » refusé : le consentement a été retiré.",
        "'{cat}' denied: the consent was withdrawn.",
    ),
    CONSENT_EXPIRED: (
        "« {cat} » refusé : le consentement a expiré.",
        "'{cat}' denied: the consent has expired.",
    ),
    CONSENT_NOT_YET_VALID: (
        "« {cat} » refusé : le consentement n'est pas encore en vigueur.",
        "'{cat}' denied: the consent is not in force yet.",
    ),
    EXPLICIT_CONSENT_REQUIRED: (
        "« {cat} » refusé : cette catégorie exige un consentement explicite qui nomme l'agence "
        "destinataire (un consentement donné à un type d'agence ne suffit pas).",
        "'{cat}' denied: this category needs an explicit consent naming the recipient agency "
        "(a consent given to a kind of agency is not enough).",
    ),
    GUARDIAN_CONSENT_MISSING: (
        "« {cat} » refusé : personne mineure, le consentement du parent ou tuteur manque.",
        "'{cat}' denied: the subject is a minor and the guardian's consent is missing.",
    ),
    CHILD_ASSENT_MISSING: (
        "« {cat} » refusé : personne mineure, l'assentiment de l'enfant manque.",
        "'{cat}' denied: the subject is a minor and the child's assent is missing.",
    ),
    UNKNOWN_CATEGORY: (
        "« {cat} » refusé : catégorie de données inconnue.",
        "'{cat}' denied: unknown data category.",
    ),
    UNKNOWN_PURPOSE: (
        "« {cat} » refusé : finalité inconnue « {purpose} ».",
        "'{cat}' denied: unknown purpose '{purpose}'.",
    ),
    NO_CATEGORY_REQUESTED: (
        "Refusé : aucune catégorie de données demandée.",
        "Denied: no data category requested.",
    ),
    DATA_SOURCE: (
        "« {cat} » : l'agence relit les données qu'elle a elle-même transmises.",
        "'{cat}': the agency reads back data it sent itself.",
    ),
    CONSENT_NOTICE: (
        "Avis de consentement transmis : l'agence détient des données sur cette personne et "
        "doit appliquer le retrait (effacer ses copies, confirmer par un accusé de purge).",
        "Consent notice delivered: the agency holds data about this person and must apply "
        "the withdrawal (delete its copies, confirm with a purge receipt).",
    ),
    UNKNOWN_REFERRAL: (
        "Refusé : l'orientation de cet événement est introuvable.",
        "Denied: the referral of this event cannot be found.",
    ),
}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one category was permitted or denied; ``rule`` names the flow or deny rule."""

    code: str
    fr: str
    en: str
    category: str | None = None
    rule: str | None = None

    @property
    def permits(self) -> bool:
        return self.code in PERMIT_CODES

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "fr": self.fr,
            "en": self.en,
            "category": self.category,
            "rule": self.rule,
        }


def build_reason(
    code: str,
    category: str | None,
    rule: str | None,
    purpose: str,
    *,
    rule_text: tuple[str, str] | None = None,
) -> Reason:
    """Render a reason; deny rules bring their own text from the policy file."""
    if code == DENIED_BY_RULE:
        text_fr, text_en = rule_text or ("", "")
        cat_fr, cat_en = fr(CATEGORY_LABELS, category or ""), en(CATEGORY_LABELS, category or "")
        return Reason(
            code,
            f"« {cat_fr} » refusé par l'interdiction « {rule} » : {text_fr}",
            f"'{cat_en}' denied by prohibition '{rule}': {text_en}",
            category,
            rule,
        )
    template_fr, template_en = _TEMPLATES[code]
    return Reason(
        code,
        template_fr.format(
            cat=fr(CATEGORY_LABELS, category or ""),
            rule=rule or "",
            purpose=fr(PURPOSE_LABELS, purpose),
        ),
        template_en.format(
            cat=en(CATEGORY_LABELS, category or ""),
            rule=rule or "",
            purpose=en(PURPOSE_LABELS, purpose),
        ),
        category,
        rule,
    )
