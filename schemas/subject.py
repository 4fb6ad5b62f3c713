"""The person referred, as the gateway sees them: pseudonymous only.

No field of this model (nor of any model of the contract) holds a name, a phone number, an
address or a narrative; those travel only inside the encrypted ``protected`` payload.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator

from schemas.codes import (
    MINOR_AGE_BANDS,
    AgeBand,
    DataCategory,
    Language,
    Sex,
    age_band_for_birth_year,
)
from schemas.common import (
    UNIQUE,
    UNIQUE_ITEMS,
    AreaCode,
    BloomFilter,
    MnoModel,
    Nationality,
    Pseudonym,
    category,
)

STATISTICAL = category(DataCategory.STATISTICAL)
IDENTITY = category(DataCategory.IDENTITY_CONTACT)


def _birth_year_or_age_band(schema: dict[str, Any]) -> None:
    # ``age_band`` is always present once validated, but a sender may give only ``birth_year``.
    schema["required"] = [name for name in schema.get("required", []) if name != "age_band"]
    schema["anyOf"] = [{"required": ["age_band"]}, {"required": ["birth_year"]}]


class SubjectRef(MnoModel):
    """Pseudonymous reference to the person referred, with coarse demographics."""

    model_config = ConfigDict(json_schema_extra=_birth_year_or_age_band)

    pseudonym: Pseudonym = Field(
        description="Primary linkage token: base64url HMAC-SHA256 of the normalised "
        "identifiers (43 characters). / Jeton de liaison principal : HMAC-SHA256 en base64url "
        "des identifiants normalisés (43 caractères).",
        json_schema_extra=STATISTICAL,
    )
    tokens: Annotated[list[Pseudonym], UNIQUE, UNIQUE_ITEMS] = Field(
        default_factory=list,
        max_length=8,
        description="Extra exact linkage tokens (other identifier combinations). / "
        "Jetons de liaison exacts supplémentaires (autres combinaisons d'identifiants).",
        json_schema_extra=IDENTITY,
    )
    bloom: BloomFilter | None = Field(
        default=None,
        description="Bloom-filter encoding for fuzzy matching (base64). / "
        "Encodage en filtre de Bloom pour l'appariement approximatif (base64).",
        json_schema_extra=IDENTITY,
    )
    birth_year: int | None = Field(
        default=None,
        ge=1900,
        le=2100,
        description="Year of birth (optional if age_band is given). / "
        "Année de naissance (facultative si age_band est donné).",
        json_schema_extra=IDENTITY,
    )
    age_band: AgeBand = Field(
        description="Age band (derived from birth_year when absent). / "
        "Tranche d'âge (déduite de birth_year si absente).",
        json_schema_extra=STATISTICAL,
    )
    sex: Sex = Field(description="Sex. / Sexe.", json_schema_extra=STATISTICAL)
    nationality: Nationality | None = Field(
        default=None,
        description="Nationality (ISO 3166-1 alpha-2). / Nationalité (ISO 3166-1 alpha-2).",
        json_schema_extra=STATISTICAL,
    )
    area_code: AreaCode | None = Field(
        default=None,
        description="Area of current residence (ISO 3166-2:GN). / "
        "Zone de résidence actuelle (ISO 3166-2:GN).",
        json_schema_extra=STATISTICAL,
    )
    languages: Annotated[list[Language], UNIQUE, UNIQUE_ITEMS] = Field(
        default_factory=list,
        max_length=8,
        description="Languages spoken (ISO 639-3). / Langues parlées (ISO 639-3).",
        json_schema_extra=STATISTICAL,
    )
    is_minor: bool = Field(
        description="Under 18 years. / Moins de 18 ans.", json_schema_extra=STATISTICAL
    )
    is_unaccompanied: bool = Field(
        default=False,
        description="Child without parent or usual caregiver. / "
        "Enfant sans parent ni personne qui en a habituellement la charge.",
        json_schema_extra=STATISTICAL,
    )

    @model_validator(mode="before")
    @classmethod
    def _derive_age_band(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("age_band") is None:
            birth_year = data.get("birth_year")
            if isinstance(birth_year, int) and 1900 <= birth_year <= 2100:
                try:
                    return {**data, "age_band": age_band_for_birth_year(birth_year).value}
                except ValueError:
                    return data  # the field validators report the bad year
        return data

    @model_validator(mode="after")
    def _coherent(self) -> SubjectRef:
        if (self.age_band in MINOR_AGE_BANDS) != self.is_minor:
            raise ValueError(
                "is_minor ne correspond pas à age_band / is_minor does not match age_band"
            )
        if self.is_unaccompanied and not self.is_minor:
            raise ValueError(
                "seul un mineur peut être non accompagné / only a minor can be unaccompanied"
            )
        return self
