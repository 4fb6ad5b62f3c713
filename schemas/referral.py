"""Referral: the body a partner submits, the stored record, its history and its transitions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.codes import (
    CaseCategory,
    DataCategory,
    DeclineReason,
    Outcome,
    ReferralAction,
    ReferralStatus,
    ServiceCategory,
    Urgency,
    VulnerabilityCriterion,
)
from schemas.common import (
    SCHEMA_VERSION,
    UNIQUE,
    UNIQUE_ITEMS,
    AgencyCode,
    ClientId,
    JweCompact,
    MnoModel,
    SchemaVersion,
    ServiceId,
    ShortReference,
    category,
)
from schemas.subject import SubjectRef

STATISTICAL = category(DataCategory.STATISTICAL)
PROTECTION = category(DataCategory.PROTECTION_SENSITIVE)
IDENTITY = category(DataCategory.IDENTITY_CONTACT)


class ReferralCreate(MnoModel):
    """The body a referring agency POSTs to ``/v1/referrals``."""

    schema_version: SchemaVersion = Field(
        default=SCHEMA_VERSION,
        description="Contract version. / Version du contrat.",
        json_schema_extra=STATISTICAL,
    )
    receiving_agency: AgencyCode = Field(
        description="Receiving agency code. / Code de l'agence destinataire.",
        json_schema_extra=STATISTICAL,
    )
    receiving_service: ServiceId | None = Field(
        default=None,
        description="Directory id of the service requested, if known. / "
        "Identifiant annuaire du service demandé, s'il est connu.",
        json_schema_extra=STATISTICAL,
    )
    subject: SubjectRef = Field(
        description="The person referred, pseudonymous. / La personne référée, pseudonymisée.",
        json_schema_extra=STATISTICAL,
    )
    case_category: CaseCategory = Field(
        description="Case category. / Catégorie de cas.", json_schema_extra=PROTECTION
    )
    vulnerabilities: Annotated[list[VulnerabilityCriterion], UNIQUE, UNIQUE_ITEMS] = Field(
        default_factory=list,
        max_length=len(VulnerabilityCriterion),
        description="Vulnerability criteria. / Critères de vulnérabilité.",
        json_schema_extra=PROTECTION,
    )
    services_requested: Annotated[list[ServiceCategory], UNIQUE, UNIQUE_ITEMS] = Field(
        min_length=1,
        max_length=len(ServiceCategory),
        description="Categories of service requested (at least one). / "
        "Catégories de service demandées (au moins une).",
        json_schema_extra=STATISTICAL,
    )
    urgency: Urgency = Field(
        default=Urgency.NORMAL,
        description="Urgency; sets the SOP deadlines. / Urgence ; fixe les délais des POS.",
        json_schema_extra=STATISTICAL,
    )
    consent_id: UUID | None = Field(
        default=None,
        description="Id of the consent record covering this referral. / "
        "Identifiant du consentement couvrant ce référencement.",
        json_schema_extra=STATISTICAL,
    )
    protected: JweCompact | None = Field(
        default=None,
        description="Identity, contact and narrative, encrypted for the receiving agency "
        "(JWE compact serialisation; the gateway checks only its shape). / Identité, contact "
        "et récit, chiffrés pour l'agence destinataire (JWE compact ; la passerelle n'en "
        "vérifie que la forme).",
        json_schema_extra=IDENTITY,
    )
    external_reference: ShortReference | None = Field(
        default=None,
        description="The referring agency's own case code (non-identifying). / "
        "Code de dossier propre à l'agence qui réfère (non identifiant).",
        json_schema_extra=IDENTITY,
    )


class StatusChange(MnoModel):
    """One entry of a referral's history."""

    status: ReferralStatus = Field(
        description="Status after the change. / Statut après le changement."
    )
    action: ReferralAction = Field(description="Action taken. / Action effectuée.")
    at: AwareDatetime = Field(description="When (UTC offset required). / Quand (fuseau requis).")
    actor_agency: AgencyCode = Field(
        description="Agency that acted. / Agence qui a agi.",
    )
    actor_client: ClientId = Field(
        description="OAuth2 client that acted. / Client OAuth2 qui a agi.",
    )
    reason_code: DeclineReason | None = Field(
        default=None, description="Decline reason. / Motif de refus."
    )
    outcome: Outcome | None = Field(
        default=None, description="Outcome for the person. / Résultat pour la personne."
    )


class Referral(ReferralCreate):
    """A referral as stored by the gateway and returned to the agencies involved."""

    id: UUID = Field(
        description="Referral id (assigned by the gateway). / "
        "Identifiant du référencement (attribué par la passerelle).",
        json_schema_extra=STATISTICAL,
    )
    referring_agency: AgencyCode = Field(
        description="Referring agency code. / Code de l'agence qui réfère.",
        json_schema_extra=STATISTICAL,
    )
    status: ReferralStatus = Field(
        description="Current status. / Statut actuel.", json_schema_extra=STATISTICAL
    )
    history: list[StatusChange] = Field(
        min_length=1,
        max_length=32,
        description="Status changes, oldest first. / Changements de statut, du plus ancien au "
        "plus récent.",
        json_schema_extra=STATISTICAL,
    )
    created_at: AwareDatetime = Field(
        description="Submission time. / Date de soumission.", json_schema_extra=STATISTICAL
    )
    updated_at: AwareDatetime = Field(
        description="Time of the last change. / Date du dernier changement.",
        json_schema_extra=STATISTICAL,
    )
    acknowledge_by: AwareDatetime = Field(
        description="SOP deadline to acknowledge. / Délai POS pour accuser réception.",
        json_schema_extra=STATISTICAL,
    )
    respond_by: AwareDatetime = Field(
        description="SOP deadline to accept or decline. / Délai POS pour accepter ou refuser.",
        json_schema_extra=STATISTICAL,
    )
    decline_reason: DeclineReason | None = Field(
        default=None,
        description="Decline reason, once declined. / Motif de refus, une fois refusé.",
        json_schema_extra=STATISTICAL,
    )
    outcome: Outcome | None = Field(
        default=None,
        description="Outcome, once completed. / Résultat, une fois terminé.",
        json_schema_extra=STATISTICAL,
    )
    version: int = Field(
        ge=1,
        le=1_000_000,
        description="Optimistic-lock version, +1 on every change. / "
        "Version de verrouillage optimiste, +1 à chaque changement.",
        json_schema_extra=STATISTICAL,
    )

    @model_validator(mode="after")
    def _history_matches_status(self) -> Referral:
        if self.history[-1].status != self.status:
            raise ValueError(
                "le dernier historique ne correspond pas au statut / "
                "last history entry does not match status"
            )
        return self


class ReferralTransition(MnoModel):
    """The body of ``POST /v1/referrals/{id}/transitions``."""

    schema_version: SchemaVersion = Field(
        default=SCHEMA_VERSION, description="Contract version. / Version du contrat."
    )
    action: ReferralAction = Field(description="Action (not 'submit'). / Action (pas « submit »).")
    reason_code: DeclineReason | None = Field(
        default=None,
        description="Decline reason, required to decline. / Motif de refus, requis pour refuser.",
    )
    outcome: Outcome | None = Field(
        default=None,
        description="Outcome, required to complete. / Résultat, requis pour terminer.",
    )
    alternative_referral_id: UUID | None = Field(
        default=None,
        description="Referral that replaces this one (decline or cancel). / "
        "Référencement qui remplace celui-ci (refus ou annulation).",
    )

    @model_validator(mode="after")
    def _fields_fit_action(self) -> ReferralTransition:
        rule = TRANSITIONS.get(self.action)
        if rule is None:
            raise ValueError("action « submit » interdite ici / action 'submit' not allowed here")
        if rule.requires_reason != (self.reason_code is not None):
            raise ValueError(
                "reason_code est requis pour decline et seulement pour decline / "
                "reason_code is required for decline and only for decline"
            )
        if rule.requires_outcome != (self.outcome is not None):
            raise ValueError(
                "outcome est requis pour complete et seulement pour complete / "
                "outcome is required for complete and only for complete"
            )
        if self.alternative_referral_id is not None and self.action not in (
            ReferralAction.DECLINE,
            ReferralAction.CANCEL,
        ):
            raise ValueError(
                "alternative_referral_id seulement pour decline ou cancel / "
                "alternative_referral_id only for decline or cancel"
            )
        return self


class Actor(StrEnum):
    """Which side of a referral may take an action."""

    RECEIVER = "receiver"
    REFERRER = "referrer"
    EITHER = "either"


@dataclass(frozen=True)
class Transition:
    """One rule of the referral state machine."""

    action: ReferralAction
    from_statuses: frozenset[ReferralStatus]
    to_status: ReferralStatus
    actor: Actor
    requires_reason: bool = False
    requires_outcome: bool = False


_S = ReferralStatus
TRANSITIONS: Mapping[ReferralAction, Transition] = {
    t.action: t
    for t in (
        Transition(
            ReferralAction.ACKNOWLEDGE, frozenset({_S.SUBMITTED}), _S.ACKNOWLEDGED, Actor.RECEIVER
        ),
        Transition(
            ReferralAction.ACCEPT,
            frozenset({_S.SUBMITTED, _S.ACKNOWLEDGED}),
            _S.ACCEPTED,
            Actor.RECEIVER,
        ),
        Transition(
            ReferralAction.DECLINE,
            frozenset({_S.SUBMITTED, _S.ACKNOWLEDGED}),
            _S.DECLINED,
            Actor.RECEIVER,
            requires_reason=True,
        ),
        Transition(
            ReferralAction.COMPLETE,
            frozenset({_S.ACCEPTED}),
            _S.COMPLETED,
            Actor.RECEIVER,
            requires_outcome=True,
        ),
        Transition(
            ReferralAction.CLOSE, frozenset({_S.COMPLETED, _S.DECLINED}), _S.CLOSED, Actor.EITHER
        ),
        Transition(
            ReferralAction.CANCEL,
            frozenset({_S.SUBMITTED, _S.ACKNOWLEDGED, _S.ACCEPTED}),
            _S.CANCELLED,
            Actor.REFERRER,
        ),
    )
}
"""action → allowed from-statuses, resulting status, who may act (the common brief's table)."""

TERMINAL_STATUSES: frozenset[ReferralStatus] = frozenset({_S.CLOSED, _S.CANCELLED})
