"""Enforcing the SOP state machine of ``schemas.referral.TRANSITIONS`` for one actor.

The table itself lives in the shared contract, so the API, the forms and the flow diagram
can never disagree; this module adds who is acting and what the gateway answers.
"""

from __future__ import annotations

from typing import Literal

from gateway.errors import Conflict, Forbidden
from schemas.codes import ReferralAction, ReferralStatus, label
from schemas.referral import TRANSITIONS, Actor

Role = Literal["referrer", "receiver"]


def next_status(status: ReferralStatus, action: ReferralAction, role: Role) -> ReferralStatus:
    """The status after ``action`` by ``role``, or the error that explains the refusal."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise Conflict(
            "L'action « submit » se fait par POST /v1/referrals.",
            "The 'submit' action is done by POST /v1/referrals.",
            code="invalid_transition",
        )
    if rule.actor != Actor.EITHER and rule.actor.value != role:
        if rule.actor == Actor.RECEIVER:
            who_fr, who_en = "l'agence destinataire", "the receiving agency"
        else:
            who_fr, who_en = "l'agence qui a référé", "the referring agency"
        raise Forbidden(
            f"Seule {who_fr} peut faire l'action « {action.value} ».",
            f"Only {who_en} may {action.value} this referral.",
            code="transition_not_allowed_for_role",
        )
    if status not in rule.from_statuses:
        allowed = ", ".join(sorted(s.value for s in rule.from_statuses))
        raise Conflict(
            f"Action « {action.value} » impossible au statut « {label(status)} » "
            f"(statuts permis : {allowed}).",
            f"Cannot {action.value} a referral in status '{status.value}' "
            f"(allowed from: {allowed}).",
            code="invalid_transition",
        )
    return rule.to_status
