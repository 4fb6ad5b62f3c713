"""The OAuth2 scopes of the gateway, with the French / English text shown in the API docs."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "referrals:write": "Créer et faire avancer des référencements. / Create and move referrals.",
    "referrals:read": "Lire les référencements échangés. / Read sent or received referrals.",
    "consent:write": "Enregistrer et retirer des consentements. / Record and withdraw consents.",
    "consent:read": "Lire les consentements. / Read consents.",
    "directory:write": "Publier des services dans l'annuaire. / Publish directory services.",
    "meal:read": "Lire les indicateurs de suivi-évaluation. / Read MEAL indicators.",
    "admin": "Administrer agences et clients. / Administer agencies and clients.",
    "inbox:read": "Lire la boîte de réception de l'agence. / Read the agency inbox.",
    "subjects:match": "Rapprocher des pseudonymes. / Match subject pseudonyms.",
    "break_glass": "Accès d'urgence motivé et audité. / Audited emergency access.",
    "subscriptions:write": "Gérer les abonnements webhook. / Manage webhook subscriptions.",
}

SCOPES_SUPPORTED: tuple[str, ...] = tuple(SCOPES)


def parse_scopes(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Space-separated (or listed) scopes, deduplicated in first-seen order."""
    items = value.split() if isinstance(value, str) else [s for v in value for s in v.split()]
    return list(dict.fromkeys(items))


def unknown_scopes(scopes: list[str]) -> list[str]:
    return [s for s in scopes if s not in SCOPES]
