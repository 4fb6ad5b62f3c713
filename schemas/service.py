"""A service offered by an agency: an Open Referral HSDS-aligned subset."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from schemas.codes import CaseCategory, FeeCode, Language, ServiceCategory, ServiceStatus, Sex
from schemas.common import (
    SCHEMA_VERSION,
    UNIQUE,
    UNIQUE_ITEMS,
    AgencyCode,
    AreaCode,
    DisplayName,
    MnoModel,
    SchemaVersion,
    ServiceId,
    ShortText,
)


class Eligibility(MnoModel):
    """Who a service is for; an empty list means no restriction."""

    min_age: int | None = Field(
        default=None, ge=0, le=130, description="Minimum age in years. / Âge minimum en années."
    )
    max_age: int | None = Field(
        default=None, ge=0, le=130, description="Maximum age in years. / Âge maximum en années."
    )
    sexes: Annotated[list[Sex], UNIQUE, UNIQUE_ITEMS] = Field(
        default_factory=list,
        max_length=4,
        description="Sexes served (empty: all). / Sexes pris en charge (vide : tous).",
    )
    case_categories: Annotated[list[CaseCategory], UNIQUE, UNIQUE_ITEMS] = Field(
        default_factory=list,
        max_length=16,
        description="Case categories served (empty: all). / "
        "Catégories de cas prises en charge (vide : toutes).",
    )

    @model_validator(mode="after")
    def _age_range(self) -> Eligibility:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age > max_age")
        return self


class Service(MnoModel):
    """A service of the directory (HSDS ``service`` with its eligibility and coverage)."""

    schema_version: SchemaVersion = Field(
        default=SCHEMA_VERSION, description="Contract version. / Version du contrat."
    )
    id: ServiceId = Field(
        description="Stable service identifier (HSDS service.id). / "
        "Identifiant stable du service (HSDS service.id).",
    )
    agency: AgencyCode = Field(
        description="Code of the agency providing the service. / "
        "Code de l'agence qui fournit le service.",
    )
    name: DisplayName = Field(description="Service name. / Nom du service.")
    description: ShortText | None = Field(
        default=None,
        description="Short description of the service, about the service only (never a "
        "person). / Brève description du service, jamais d'une personne.",
    )
    category: ServiceCategory = Field(description="Service category. / Catégorie de service.")
    eligibility: Eligibility = Field(
        default_factory=Eligibility,
        description="Eligibility rules. / Critères d'éligibilité.",
    )
    languages: Annotated[list[Language], UNIQUE, UNIQUE_ITEMS] = Field(
        default_factory=list,
        max_length=16,
        description="Languages the service is delivered in (ISO 639-3). / "
        "Langues dans lesquelles le service est rendu (ISO 639-3).",
    )
    areas_served: Annotated[list[AreaCode], UNIQUE, UNIQUE_ITEMS] = Field(
        default_factory=list,
        max_length=41,
        description="Areas served (ISO 3166-2:GN; empty: nationwide). / "
        "Zones desservies (ISO 3166-2:GN ; vide : tout le pays).",
    )
    fees: FeeCode = Field(
        default=FeeCode.FREE, description="Cost to the person. / Coût pour la personne."
    )
    capacity: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="Cases the service can hold at once (unknown if absent). / "
        "Nombre de cas pris en charge simultanément (inconnu si absent).",
    )
    capacity_available: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="Places available now (unknown if absent). / "
        "Places disponibles actuellement (inconnu si absent).",
    )
    accepting_referrals: bool = Field(
        default=True,
        description="Whether new referrals are accepted now. / "
        "Indique si de nouveaux référencements sont acceptés.",
    )
    status: ServiceStatus = Field(
        default=ServiceStatus.ACTIVE, description="Service status. / Statut du service."
    )

    @model_validator(mode="after")
    def _capacity(self) -> Service:
        if (
            self.capacity is not None
            and self.capacity_available is not None
            and self.capacity_available > self.capacity
        ):
            raise ValueError("capacity_available > capacity")
        return self
