"""A directory entry: the contract's ``Service`` plus where, when and whom to contact.

Sites, opening hours and role contacts are what Open Referral HSDS adds to a service for people
who refer. They live here rather than in ``schemas/`` because the shared contract holds no
contact field at all (its tests forbid them); a role contact is an organisation's mailbox or
switchboard, never a person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from schemas.common import (
    UNIQUE,
    UNIQUE_ITEMS,
    AreaCode,
    DisplayName,
    MnoModel,
    ServiceId,
    ShortText,
)
from schemas.service import Service

Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAYS: tuple[Weekday, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_LABELS: dict[str, tuple[str, str]] = {
    "MO": ("lundi", "Monday"),
    "TU": ("mardi", "Tuesday"),
    "WE": ("mercredi", "Wednesday"),
    "TH": ("jeudi", "Thursday"),
    "FR": ("vendredi", "Friday"),
    "SA": ("samedi", "Saturday"),
    "SU": ("dimanche", "Sunday"),
}

TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,180}\.[A-Za-z]{2,24}$"
PHONE_PATTERN = r"^\+?[0-9][0-9 ]{5,19}$"

# Guinea's bounding box, with a margin: a coordinate outside it is a typing error.
LATITUDE_RANGE = (7.0, 12.8)
LONGITUDE_RANGE = (-15.2, -7.5)

ClockTime = Annotated[str, StringConstraints(pattern=TIME_PATTERN, min_length=5, max_length=5)]
RoleEmail = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]
RolePhone = Annotated[str, StringConstraints(pattern=PHONE_PATTERN, max_length=20)]


class ServiceLocation(MnoModel):
    """A site where the service is delivered (HSDS ``location`` with its address)."""

    id: ServiceId = Field(description="Site id, unique in the agency. / Identifiant du site.")
    name: DisplayName = Field(description="Site name. / Nom du site.")
    area: AreaCode = Field(
        description="Prefecture or region of the site (ISO 3166-2:GN). / "
        "Préfecture ou région du site (ISO 3166-2:GN)."
    )
    address: ShortText | None = Field(
        default=None,
        description="Street address of the site; leave empty for a protected shelter. / "
        "Adresse du site ; à laisser vide pour un hébergement protégé.",
    )
    latitude: float | None = Field(
        default=None,
        ge=LATITUDE_RANGE[0],
        le=LATITUDE_RANGE[1],
        description="WGS 84 latitude (optional). / Latitude WGS 84 (facultative).",
    )
    longitude: float | None = Field(
        default=None,
        ge=LONGITUDE_RANGE[0],
        le=LONGITUDE_RANGE[1],
        description="WGS 84 longitude (optional). / Longitude WGS 84 (facultative).",
    )

    @model_validator(mode="after")
    def _both_coordinates(self) -> ServiceLocation:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError(
                "latitude et longitude vont ensemble / latitude and longitude go together"
            )
        return self


class OpeningHours(MnoModel):
    """Weekly opening hours, Guinea time (UTC+0 all year); HSDS ``schedule`` (WEEKLY)."""

    days: Annotated[list[Weekday], UNIQUE, UNIQUE_ITEMS] = Field(
        min_length=1,
        max_length=7,
        description="Days (RFC 5545 BYDAY codes). / Jours (codes BYDAY RFC 5545).",
    )
    opens_at: ClockTime = Field(description="Opening time HH:MM. / Heure d'ouverture HH:MM.")
    closes_at: ClockTime = Field(description="Closing time HH:MM. / Heure de fermeture HH:MM.")

    @model_validator(mode="after")
    def _opens_before_closing(self) -> OpeningHours:
        if self.opens_at >= self.closes_at:
            raise ValueError("opens_at doit précéder closes_at / opens_at must precede closes_at")
        return self


class RoleContact(MnoModel):
    """A contact point by role (e.g. « Point focal référencement »), never a named person."""

    role: DisplayName = Field(
        description="Role or desk, not a person's name. / Fonction ou bureau, pas un nom de "
        "personne.",
        examples=["Point focal référencement"],
    )
    email: RoleEmail | None = Field(
        default=None,
        description="Shared role mailbox. / Adresse de messagerie de la fonction.",
    )
    phone: RolePhone | None = Field(
        default=None,
        description="Desk or hotline number. / Numéro du bureau ou de la permanence.",
    )

    @model_validator(mode="after")
    def _reachable(self) -> RoleContact:
        if self.email is None and self.phone is None:
            raise ValueError("e-mail ou téléphone requis / email or phone required")
        return self


class DirectoryService(Service):
    """Body of ``POST``/``PUT /v1/directory/services``: a service with sites, hours, contacts."""

    locations: list[ServiceLocation] = Field(
        default_factory=list,
        max_length=16,
        description="Sites. / Sites.",
    )
    hours: list[OpeningHours] = Field(
        default_factory=list,
        max_length=14,
        description="Opening hours (empty: ask the contact). / Horaires (vide : se renseigner).",
    )
    contacts: list[RoleContact] = Field(
        default_factory=list,
        max_length=8,
        description="Role contacts for referrals. / Contacts par fonction pour les orientations.",
    )

    @model_validator(mode="after")
    def _unique_sites(self) -> DirectoryService:
        ids = [location.id for location in self.locations]
        if len(ids) != len(set(ids)):
            raise ValueError("identifiant de site répété / duplicate site id")
        return self

    def contract(self) -> Service:
        """The shared-contract view of this entry (no sites, hours or contacts)."""
        return Service.model_validate(self.model_dump(exclude={"locations", "hours", "contacts"}))


class ServiceRecord(DirectoryService):
    """A directory entry as published, with its agency's name and last update."""

    agency_name: DisplayName = Field(description="Agency name. / Nom de l'agence.")
    updated_at: AwareDatetime = Field(
        description="Last update of the entry. / Dernière mise à jour de la fiche."
    )

    @classmethod
    def of(cls, entry: DirectoryService, agency_name: str, updated_at: datetime) -> ServiceRecord:
        return cls.model_validate(
            {**entry.model_dump(), "agency_name": agency_name, "updated_at": updated_at}
        )

    def entry(self) -> DirectoryService:
        return DirectoryService.model_validate(
            self.model_dump(exclude={"agency_name", "updated_at"})
        )
