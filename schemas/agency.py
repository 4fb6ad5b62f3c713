"""Member agency of the MNO, as published in the directory."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from schemas.codes import AgencyKind
from schemas.common import (
    SCHEMA_VERSION,
    AgencyCode,
    AreaCode,
    DisplayName,
    MnoModel,
    SchemaVersion,
)

JwkName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$", max_length=32)]
JwkText = Annotated[str, StringConstraints(max_length=8192)]
JwkValue = JwkText | list[JwkText] | bool

# Members of a private JWK (RFC 7517/7518): never accepted in a directory entry.
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class Agency(MnoModel):
    """A member agency: government body, UN agency, NGO or service provider."""

    schema_version: SchemaVersion = Field(
        default=SCHEMA_VERSION,
        description="Contract version. / Version du contrat.",
    )
    code: AgencyCode = Field(
        description="Agency code, unique in the MNO (e.g. OIM-GN). / "
        "Code de l'agence, unique dans le MNO (ex. OIM-GN).",
    )
    name: DisplayName = Field(
        description="Official name of the organisation (not personal data). / "
        "Nom officiel de l'organisation (pas une donnée personnelle).",
    )
    kind: AgencyKind = Field(description="Kind of agency. / Type d'agence.")
    area: AreaCode = Field(
        description="Area of the head office (ISO 3166-2:GN). / Zone du siège (ISO 3166-2:GN).",
    )
    active: bool = Field(
        default=True,
        description="Whether the agency exchanges referrals. / "
        "Indique si l'agence échange des référencements.",
    )
    public_jwk: Annotated[dict[JwkName, JwkValue], Field(max_length=32)] | None = Field(
        default=None,
        description="Public key (JWK) used to encrypt protected payloads for this agency. / "
        "Clé publique (JWK) servant à chiffrer les données protégées destinées à l'agence.",
    )

    @field_validator("public_jwk")
    @classmethod
    def _public_only(cls, value: dict[str, JwkValue] | None) -> dict[str, JwkValue] | None:
        if value is None:
            return None
        if "kty" not in value:
            raise ValueError("JWK sans « kty » / JWK without 'kty'")
        leaked = PRIVATE_JWK_MEMBERS & set(value)
        if leaked:
            raise ValueError(f"clé privée refusée / private key material refused: {sorted(leaked)}")
        return value
