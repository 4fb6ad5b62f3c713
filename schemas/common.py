"""Base model and bounded types shared by every model of the contract.

Every string is bounded and, when it is a code, pattern-validated: nothing in the contract can
carry a narrative except the encrypted ``protected`` payload of a referral.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from schemas.codes import AREA_CODE_PATTERN, AREA_CODES, NATIONALITY_PATTERN, DataCategory

SCHEMA_VERSION: Final = "1.0"
SchemaVersion = Literal["1.0"]

SCHEMA_BASE_URI: Final = "https://mno.gov.gn/schemas/1.0/"
"""``$id`` prefix of the exported JSON Schemas (one per public model)."""


class MnoModel(BaseModel):
    """Base of every contract model: unknown fields are refused, instances are immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_default=True,
        use_attribute_docstrings=False,
    )


def category(value: DataCategory) -> dict[str, Any]:
    """``json_schema_extra`` tagging a field with its data category (read by the policy)."""
    return {"x-data-category": value.value}


# --------------------------------------------------------------------------- strings

AGENCY_CODE_PATTERN: Final = r"^[A-Z][A-Z0-9-]{1,31}$"
AgencyCode = Annotated[
    str,
    StringConstraints(pattern=AGENCY_CODE_PATTERN, min_length=2, max_length=32),
    Field(examples=["OIM-GN"]),
]

PSEUDONYM_PATTERN: Final = r"^[A-Za-z0-9_-]{43}$"
Pseudonym = Annotated[
    str,
    StringConstraints(pattern=PSEUDONYM_PATTERN, min_length=43, max_length=43),
]
"""base64url (no padding) of an HMAC-SHA256: 43 characters."""

BLOOM_PATTERN: Final = r"^[A-Za-z0-9+/_-]+={0,2}$"
BLOOM_MAX_LENGTH: Final = 1368  # base64 of 1024 bytes: far above a 1000-bit CLK
BloomFilter = Annotated[
    str, StringConstraints(pattern=BLOOM_PATTERN, min_length=4, max_length=BLOOM_MAX_LENGTH)
]

# Header, encrypted key (empty for ``dir``), IV, ciphertext, tag: RFC 7516 §7.1.
JWE_COMPACT_PATTERN: Final = (
    r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$"
)
JWE_MAX_LENGTH: Final = 262_144
JweCompact = Annotated[
    str, StringConstraints(pattern=JWE_COMPACT_PATTERN, min_length=9, max_length=JWE_MAX_LENGTH)
]

SHORT_REFERENCE_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
ShortReference = Annotated[
    str, StringConstraints(pattern=SHORT_REFERENCE_PATTERN, min_length=1, max_length=64)
]
"""A case or document reference code: letters, digits and ``._:/-``, never a name or a sentence."""

SERVICE_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ServiceId = Annotated[
    str, StringConstraints(pattern=SERVICE_ID_PATTERN, min_length=1, max_length=64)
]

CLIENT_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
ClientId = Annotated[
    str, StringConstraints(pattern=CLIENT_ID_PATTERN, min_length=1, max_length=128)
]

# Organisation and service names: one line, no control characters.
DISPLAY_NAME_PATTERN: Final = r"^[^\x00-\x1f\x7f]+$"
DisplayName = Annotated[
    str, StringConstraints(pattern=DISPLAY_NAME_PATTERN, min_length=1, max_length=160)
]
ShortText = Annotated[
    str, StringConstraints(pattern=DISPLAY_NAME_PATTERN, min_length=1, max_length=500)
]
"""Organisational text (a service description), never about a person."""


def _known_area(value: str) -> str:
    if value not in AREA_CODES:
        raise ValueError(f"zone inconnue / unknown area: {value}")
    return value


AreaCode = Annotated[
    str,
    StringConstraints(pattern=AREA_CODE_PATTERN, min_length=4, max_length=5),
    AfterValidator(_known_area),
    Field(json_schema_extra={"enum": sorted(AREA_CODES)}),
]
"""ISO 3166-2:GN region or prefecture code (``GN-C`` is Conakry)."""

Nationality = Annotated[
    str,
    StringConstraints(pattern=NATIONALITY_PATTERN, min_length=2, max_length=2),
    Field(examples=["GN", "SL", "CI"]),
]
"""ISO 3166-1 alpha-2 country code."""


# --------------------------------------------------------------------------- lists

H = TypeVar("H", bound=Hashable)


def no_duplicates(values: Sequence[H]) -> Sequence[H]:
    """Lists of codes are sets with a stable order: a repeated code is an error."""
    seen: set[H] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"valeur répétée / duplicate value: {value}")
        seen.add(value)
    return values


UNIQUE: Final = AfterValidator(no_duplicates)
UNIQUE_ITEMS: Final = Field(json_schema_extra={"uniqueItems": True})
