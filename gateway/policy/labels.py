"""French and English labels of the codes a policy summary or a decision reason names.

Kept local until schemas/codes.py is wired in by the lead; the values are the canonical codes.
"""

from __future__ import annotations

PURPOSE_LABELS: dict[str, tuple[str, str]] = {
    "referral": ("orientation (référencement)", "referral"),
    "case_follow_up": ("suivi de cas", "case follow-up"),
    "meal_statistics": ("statistiques de suivi-évaluation (MEAL)", "MEAL statistics"),
    "research": ("recherche", "research"),
}

CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "identity_contact": ("identité et coordonnées", "identity and contact"),
    "health": ("santé", "health"),
    "protection_sensitive": ("protection (données sensibles)", "protection-sensitive"),
    "socio_economic": ("situation socio-économique", "socio-economic"),
    "statistical": ("données statistiques", "statistical data"),
}

KIND_LABELS: dict[str, tuple[str, str]] = {
    "government": ("service gouvernemental", "government"),
    "un": ("agence des Nations unies", "UN agency"),
    "ngo": ("ONG", "NGO"),
    "provider": ("prestataire de services", "service provider"),
}

PARTY_LABELS: dict[str, tuple[str, str]] = {
    "referrer": ("l'agence qui oriente", "the referring agency"),
    "receiver": ("l'agence qui reçoit l'orientation", "the receiving agency"),
}

NOTIFY_LABELS: dict[str, tuple[str, str]] = {
    "data_protection_focal_point": (
        "le point focal protection des données de l'agence",
        "the agency's data-protection focal point",
    ),
    "coordinator": ("le coordinateur national", "the national coordinator"),
    "steering_committee": ("le comité de pilotage", "the steering committee"),
}


def fr(labels: dict[str, tuple[str, str]], code: str) -> str:
    return labels.get(code, (code, code))[0]


def en(labels: dict[str, tuple[str, str]], code: str) -> str:
    return labels.get(code, (code, code))[1]
