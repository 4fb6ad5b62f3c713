"""The MoU (protocole d'accord) as data: the pydantic model of a policy file.

The model validates shape and single fields; cross-field checks (unknown roles, overlaps,
contradictions) live in :mod:`gateway.policy.checks` so that they can report every problem at once
with its location in the YAML file.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# The canonical code lists of the common brief. schemas/codes.py is being written in parallel;
# until the lead switches these aliases to schemas.codes they are spelled out here, with exactly
# the agreed values.
AgencyKind = Literal["government", "un", "ngo", "provider"]
Purpose = Literal["referral", "case_follow_up", "meal_statistics", "research"]
DataCategory = Literal[
    "identity_contact", "health", "protection_sensitive", "socio_economic", "statistical"
]

AGENCY_KINDS: tuple[AgencyKind, ...] = get_args(AgencyKind)
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)
DATA_CATEGORIES: tuple[DataCategory, ...] = get_args(DataCategory)

ConsentCondition = Literal["required", "explicit", "not_required_for_statistical"]
"""How a flow is conditioned on consent.

``required``: an active consent covering the purpose, the category and the recipient (by agency
code or agency kind). ``explicit``: the same, but the consent must name the recipient agency by
its code (a consent given to a kind of agency is not enough). ``not_required_for_statistical``:
the ``statistical`` category (aggregated, non-identifying) needs no consent; any other category of
the flow still needs one.
"""

PartyRelation = Literal["referrer", "receiver"]
SubjectScope = Literal["any", "minor", "adult"]
NotifyTarget = Literal["data_protection_focal_point", "coordinator", "steering_committee"]

RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
AgencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
RecordName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Version = Annotated[
    str, StringConstraints(pattern=r"^\d+\.\d+(\.\d+)?(-[0-9A-Za-z.-]+)?$", max_length=40)
]


_REFERRAL_ONLY: list[Purpose] = ["referral"]


class _Strict(BaseModel):
    # Typos in a policy file must fail loudly: an ignored key would silently change who gets data.
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleDefinition(_Strict):
    """A role an agency may hold under the MoU."""

    label_fr: Text
    label_en: Text
    description_fr: str = ""


class CategoryNote(_Strict):
    """What a data category covers, in the words of the MoU."""

    description_fr: Text
    description_en: str = ""


class MemberRule(_Strict):
    """Agencies (by kind and/or by code) that hold the given roles."""

    kinds: list[AgencyKind] = Field(default_factory=list)
    agencies: list[AgencyCode] = Field(default_factory=list)
    roles: list[RoleName] = Field(min_length=1)
    note_fr: str = ""

    @model_validator(mode="after")
    def _names_someone(self) -> MemberRule:
        if not self.kinds and not self.agencies:
            raise ValueError("kinds or agencies must name at least one member")
        return self


class Flow(_Strict):
    """A permitted flow: for one purpose, from roles to roles, these categories, on a condition."""

    id: RuleId
    purpose: Purpose
    from_roles: list[RoleName] | None = Field(
        default=None,
        description="Roles the source agency must hold; absent = any source.",
    )
    to_roles: list[RoleName] = Field(min_length=1)
    categories: list[DataCategory] = Field(min_length=1)
    consent: ConsentCondition = "required"
    parties: list[PartyRelation] | None = Field(
        default=None,
        description="If set, the recipient must be this party of the referral.",
    )
    description_fr: str = ""


class DenyRule(_Strict):
    """An explicit prohibition; it overrides any flow. Absent selectors match everything."""

    id: RuleId
    purposes: list[Purpose] | None = None
    categories: list[DataCategory] | None = None
    to_roles: list[RoleName] | None = None
    to_kinds: list[AgencyKind] | None = None
    to_agencies: list[AgencyCode] | None = None
    subject: SubjectScope = "any"
    reason_fr: Text
    reason_en: Text


class MinorsRule(_Strict):
    """Consent rules for children."""

    age_of_majority: int = Field(default=18, ge=1, le=25)
    guardian_consent_required: bool = True
    child_assent_from_age: int | None = Field(
        default=12, ge=0, le=25, description="Absent (null) = the child's assent is never required."
    )
    unknown_age: Literal["treat_as_minor", "treat_as_adult"] = "treat_as_minor"
    note_fr: str = ""


class Retention(_Strict):
    """Retention periods in days: records kept by the gateway, copies kept by recipients."""

    gateway_records: dict[RecordName, Annotated[int, Field(gt=0, le=36500)]] = Field(
        default_factory=dict
    )
    recipient_copies: dict[DataCategory, Annotated[int, Field(gt=0, le=36500)]] = Field(
        default_factory=dict
    )


class BreakGlass(_Strict):
    """Emergency access without consent: who, for what, how long, who is told."""

    enabled: bool = True
    roles: list[RoleName] = Field(min_length=1)
    purposes: list[Purpose] = Field(min_length=1)
    categories: list[DataCategory] = Field(min_length=1)
    max_duration_hours: int = Field(default=24, gt=0, le=72)
    notify: list[NotifyTarget] = Field(min_length=1)
    conditions_fr: Text
    conditions_en: Text


class PolicyFile(_Strict):
    """One version of the MoU data-sharing policy. Default deny; deny overrides permit."""

    policy_id: RuleId
    version: Version
    effective_from: date
    title_fr: Text
    title_en: str = ""
    roles: dict[RoleName, RoleDefinition] = Field(min_length=1)
    members: list[MemberRule] = Field(min_length=1)
    categories: dict[DataCategory, CategoryNote] = Field(default_factory=dict)
    explicit_consent_categories: list[DataCategory] = Field(default_factory=list)
    parties_only_purposes: list[Purpose] = Field(
        default_factory=lambda: _REFERRAL_ONLY.copy(),
        description="For these purposes only the parties to the referral may receive.",
    )
    flows: list[Flow] = Field(min_length=1)
    deny: list[DenyRule] = Field(default_factory=list)
    minors: MinorsRule = Field(default_factory=MinorsRule)
    retention: Retention = Field(default_factory=Retention)
    break_glass: BreakGlass | None = None
