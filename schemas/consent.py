"""Consent records: what a person agreed to share, for which purposes, with whom, until when."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from schemas.codes import (
    AgencyKind,
    ConsentMethod,
    ConsentPurpose,
    ConsentStatus,
    DataCategory,
    WithdrawalReason,
)
from schemas.common import (
    SCHEMA_VERSION,
    UNIQUE,
    UNIQUE_ITEMS,
    AgencyCode,
    MnoModel,
    Pseudonym,
    SchemaVersion,
    ShortReference,
)

Recipient = AgencyCode | AgencyKind
"""An agency code (upper case, e.g. ``OIM-GN``) or an agency kind (lower case, e.g. ``ngo``)."""


class ConsentCreate(MnoModel):
    """The body of ``POST /v1/consents``: a consent collected by an agency."""

    schema_version: SchemaVersion = Field(
        default=SCHEMA_VERSION, description="Contract version. / Version du contrat."
    )
    subject_pseudonym: Pseudonym = Field(
        description="Pseudonym of the person (same token as subject.pseudonym in referrals). / "
        "Pseudonyme de la personne (même jeton que subject.pseudonym des référencements).",
    )
    collecting_agency: AgencyCode = Field(
        description="Agency that collected the consent. / Agence qui a recueilli le consentement.",
    )
    purposes: Annotated[list[ConsentPurpose], UNIQUE, UNIQUE_ITEMS] = Field(
        min_length=1,
        max_length=len(ConsentPurpose),
        description="Purposes agreed to. / Finalités acceptées.",
    )
    data_categories: Annotated[list[DataCategory], UNIQUE, UNIQUE_ITEMS] = Field(
        min_length=1,
        max_length=len(DataCategory),
        description="Data categories that may be shared. / Catégories de données partageables.",
    )
    recipients: Annotated[list[Recipient], UNIQUE, UNIQUE_ITEMS] = Field(
        min_length=1,
        max_length=64,
        description="Who may receive the data: agency codes or agency kinds. / "
        "Destinataires autorisés : codes d'agence ou types d'agence.",
    )
    valid_from: AwareDatetime = Field(description="Start of validity. / Début de validité.")
    valid_until: AwareDatetime | None = Field(
        default=None,
        description="End of validity (none: until withdrawn). / "
        "Fin de validité (aucune : jusqu'au retrait).",
    )
    method: ConsentMethod = Field(description="How consent was given. / Mode de recueil.")
    evidence_reference: ShortReference | None = Field(
        default=None,
        description="Code of the signed form or attestation kept by the agency "
        "(non-identifying). / Code du formulaire signé ou de l'attestation conservé par "
        "l'agence (non identifiant).",
    )
    subject_is_minor: bool = Field(
        default=False,
        description="The person is under 18. / La personne a moins de 18 ans.",
    )
    guardian_consent: bool | None = Field(
        default=None,
        description="A parent or guardian consented (required for a minor). / "
        "Un parent ou tuteur a consenti (requis pour un mineur).",
    )
    child_assent: bool | None = Field(
        default=None,
        description="The child assented (required for a minor). / "
        "L'enfant a donné son assentiment (requis pour un mineur).",
    )

    @model_validator(mode="after")
    def _coherent(self) -> ConsentCreate:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError(
                "valid_until doit suivre valid_from / valid_until must follow valid_from"
            )
        if self.subject_is_minor:
            if self.guardian_consent is not True:
                raise ValueError(
                    "un mineur exige le consentement du tuteur / a minor requires guardian consent"
                )
            if self.child_assent is None:
                raise ValueError(
                    "l'assentiment de l'enfant doit être renseigné / child assent must be recorded"
                )
        elif self.guardian_consent is not None or self.child_assent is not None:
            raise ValueError(
                "tuteur et assentiment seulement pour un mineur / "
                "guardian consent and child assent only for a minor"
            )
        return self


class Consent(ConsentCreate):
    """A consent record as held by the consent registry."""

    id: UUID = Field(description="Consent id. / Identifiant du consentement.")
    status: ConsentStatus = Field(default=ConsentStatus.GRANTED, description="Status. / Statut.")
    recorded_at: AwareDatetime = Field(
        description="When the registry recorded it. / Date d'enregistrement au registre."
    )
    withdrawn_at: AwareDatetime | None = Field(
        default=None, description="When it was withdrawn. / Date du retrait."
    )
    withdrawal_reason: WithdrawalReason | None = Field(
        default=None, description="Why it was withdrawn. / Motif du retrait."
    )

    @model_validator(mode="after")
    def _withdrawal(self) -> Consent:
        withdrawn = self.status is ConsentStatus.WITHDRAWN
        if withdrawn != (self.withdrawn_at is not None) or withdrawn != (
            self.withdrawal_reason is not None
        ):
            raise ValueError(
                "withdrawn_at et withdrawal_reason vont avec le statut withdrawn / "
                "withdrawn_at and withdrawal_reason go with status withdrawn"
            )
        return self


class ConsentWithdraw(MnoModel):
    """The body of ``POST /v1/consents/{id}/withdraw``."""

    schema_version: SchemaVersion = Field(
        default=SCHEMA_VERSION, description="Contract version. / Version du contrat."
    )
    reason: WithdrawalReason = Field(description="Why. / Motif.")
    withdrawn_at: AwareDatetime | None = Field(
        default=None,
        description="When the person withdrew (default: now). / "
        "Date du retrait par la personne (par défaut : maintenant).",
    )
