"""Open Referral HSDS 3.0: the directory as HSDS JSON (compiled objects) and HSDS CSV tables.

Mapping (MNO profile):
- organization = agency: ``id`` and the ``GN-MNO`` organization identifier are the agency code;
  its kind and area are attributes (taxonomies ``mno-agency-kind``, ``mno-area``).
- service: ``id`` is the MNO service id (HSDS suggests UUIDs; ``format`` is an annotation and
  referrals carry this id). Status: active → ``active``, suspended → ``temporarily closed``,
  closed → ``inactive``. ``minimum_age``/``maximum_age`` are the age limits; category, sexes,
  case categories, fee, capacity and acceptance are attributes on MNO taxonomies whose terms
  are the contract's codes (French names).
- languages: ISO 639-3 ``code``; service areas: ``extent`` = ISO 3166-2:GN code
  (``extent_type`` ``text``); locations: ``state_province`` of the address is the area code,
  latitude/longitude optional; schedules: ``freq`` WEEKLY, ``byday``, ``opens_at``/``closes_at``
  with ``timezone`` 0 (Guinea is UTC+0).
- contacts: by role only: ``title`` is the role, ``name`` stays empty; a contact with a
  ``name`` is refused on import, so that no named person enters the directory.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.directory.entry import (
    WEEKDAY_LABELS,
    DirectoryService,
    OpeningHours,
    ServiceLocation,
)
from gateway.directory.service import ImportReport, Organization, import_directory
from gateway.errors import ValidationFailed
from schemas.codes import (
    AREA_LABELS,
    AgencyKind,
    CaseCategory,
    FeeCode,
    ServiceCategory,
    ServiceStatus,
    Sex,
    label,
    labels,
)
from schemas.common import SCHEMA_VERSION

HSDS_VERSION = "3.0"
PROFILE_URI = "https://mno.gov.gn/hsds/profile/1.0"
IDENTIFIER_SCHEME = "GN-MNO"
JSON_FILE = "directory.json"
# The fictional demo directory that ``mno run`` loads (a repository file, not packaged).
DEMO_FILE = Path(__file__).resolve().parents[2] / "deploy" / "directory" / "demo-directory.json"

STATUS_TO_HSDS = {
    ServiceStatus.ACTIVE: "active",
    ServiceStatus.SUSPENDED: "temporarily closed",
    ServiceStatus.CLOSED: "inactive",
}
STATUS_FROM_HSDS = {
    "active": ServiceStatus.ACTIVE,
    "temporarily closed": ServiceStatus.SUSPENDED,
    "inactive": ServiceStatus.CLOSED,
    "defunct": ServiceStatus.CLOSED,
}

# taxonomy id → (French name, English name, code labels)
TAXONOMIES: dict[str, tuple[str, str, Mapping[str, tuple[str, str]]]] = {
    "mno-service-category": (
        "Catégories de service du MNO",
        "MNO service categories",
        labels(ServiceCategory),
    ),
    "mno-sex": ("Sexe", "Sex", labels(Sex)),
    "mno-case-category": ("Catégories de cas", "Case categories", labels(CaseCategory)),
    "mno-fee": ("Coût pour la personne", "Cost to the person", labels(FeeCode)),
    "mno-agency-kind": ("Types d'agence", "Agency kinds", labels(AgencyKind)),
    "mno-area": ("Zones ISO 3166-2:GN", "ISO 3166-2:GN areas", AREA_LABELS),
    "mno-availability": (
        "Disponibilité",
        "Availability",
        {
            "accepting_referrals": ("Accepte des orientations", "Accepting referrals"),
            "capacity": ("Capacité (places)", "Capacity (places)"),
            "capacity_available": ("Places disponibles", "Places available"),
        },
    ),
}

# attribute link_type → taxonomy
LINK_TAXONOMY = {
    "category": "mno-service-category",
    "eligibility_sex": "mno-sex",
    "eligibility_case_category": "mno-case-category",
    "fee": "mno-fee",
    "agency_kind": "mno-agency-kind",
    "area": "mno-area",
    "accepting_referrals": "mno-availability",
    "capacity": "mno-availability",
    "capacity_available": "mno-availability",
}


class HsdsError(ValidationFailed):
    code = "invalid_hsds"


def _term(taxonomy: str, code: str) -> dict[str, Any]:
    fr, _en = TAXONOMIES[taxonomy][2][code]
    return {
        "id": f"{taxonomy}.{code}",
        "code": code,
        "name": fr,
        "taxonomy": taxonomy,
        "taxonomy_id": taxonomy,
        "language": "fr",
    }


def _attribute(
    link_id: str, entity: str, link_type: str, code: str, value: str | None = None
) -> dict[str, Any]:
    taxonomy = LINK_TAXONOMY[link_type]
    term = _term(taxonomy, code)
    attribute: dict[str, Any] = {
        "id": f"{link_id}.{link_type}.{code}",
        "link_id": link_id,
        "link_type": link_type,
        "link_entity": entity,
        "taxonomy_term_id": term["id"],
        "taxonomy_term": term,
    }
    if value is not None:
        attribute["value"] = value
    return attribute


def _area_name(code: str) -> str:
    return AREA_LABELS[code][0]


def _location(agency: str, site: ServiceLocation) -> dict[str, Any]:
    location_id = f"{agency}.{site.id}"
    location: dict[str, Any] = {
        "id": location_id,
        "location_type": "physical",
        "organization_id": agency,
        "name": site.name,
        "addresses": [
            {
                "id": f"{location_id}.address",
                "location_id": location_id,
                "address_1": site.address or "",
                "city": _area_name(site.area),
                "region": _area_name(site.area),
                "state_province": site.area,
                "postal_code": "",
                "country": "GN",
                "address_type": "physical",
            }
        ],
    }
    if site.latitude is not None:
        location["latitude"] = site.latitude
        location["longitude"] = site.longitude
    return location


def _eligibility_text(entry: DirectoryService) -> str:
    rules = entry.eligibility
    parts: list[str] = []
    if rules.min_age is not None and rules.max_age is not None:
        parts.append(f"de {rules.min_age} à {rules.max_age} ans")
    elif rules.min_age is not None:
        parts.append(f"{rules.min_age} ans et plus")
    elif rules.max_age is not None:
        parts.append(f"jusqu'à {rules.max_age} ans")
    if rules.sexes:
        parts.append("sexe : " + ", ".join(label(s) for s in rules.sexes))
    if rules.case_categories:
        parts.append("cas : " + ", ".join(label(c) for c in rules.case_categories))
    return "; ".join(parts) if parts else "Ouvert à tous les cas orientés par le MNO."


def _hours_text(hours: OpeningHours) -> str:
    days = ", ".join(WEEKDAY_LABELS[d][0] for d in hours.days)
    return f"{days} : {hours.opens_at}–{hours.closes_at} (heure de Conakry, UTC+0)"


def service_to_hsds(entry: DirectoryService) -> dict[str, Any]:
    """One compiled HSDS ``service`` object."""
    sid = entry.id
    attributes = [
        _attribute(sid, "service", "category", entry.category.value),
        _attribute(sid, "service", "fee", entry.fees.value),
        *(_attribute(sid, "service", "eligibility_sex", s.value) for s in entry.eligibility.sexes),
        *(
            _attribute(sid, "service", "eligibility_case_category", c.value)
            for c in entry.eligibility.case_categories
        ),
        _attribute(
            sid,
            "service",
            "accepting_referrals",
            "accepting_referrals",
            "true" if entry.accepting_referrals else "false",
        ),
    ]
    for name, number in (
        ("capacity", entry.capacity),
        ("capacity_available", entry.capacity_available),
    ):
        if number is not None:
            attributes.append(_attribute(sid, "service", name, name, str(number)))
    service: dict[str, Any] = {
        "id": sid,
        "organization_id": entry.agency,
        "name": entry.name,
        "description": entry.description or "",
        "status": STATUS_TO_HSDS[entry.status],
        "fees_description": label(entry.fees),
        "eligibility_description": _eligibility_text(entry),
        "languages": [
            {
                "id": f"{sid}.language.{code.value}",
                "service_id": sid,
                "name": label(code),
                "code": code.value,
            }
            for code in entry.languages
        ],
        "service_areas": [
            {
                "id": f"{sid}.area.{area}",
                "service_id": sid,
                "name": _area_name(area),
                "extent": area,
                "extent_type": "text",
            }
            for area in entry.areas_served
        ],
        "schedules": [
            {
                "id": f"{sid}.schedule.{index}",
                "service_id": sid,
                "freq": "WEEKLY",
                "byday": ",".join(hours.days),
                "opens_at": hours.opens_at,
                "closes_at": hours.closes_at,
                "timezone": 0,
                "description": _hours_text(hours),
            }
            for index, hours in enumerate(entry.hours, start=1)
        ],
        "contacts": [
            {
                "id": f"{sid}.contact.{index}",
                "service_id": sid,
                "title": contact.role,
                **({"email": contact.email} if contact.email else {}),
                "phones": (
                    [{"id": f"{sid}.contact.{index}.phone", "number": contact.phone}]
                    if contact.phone
                    else []
                ),
            }
            for index, contact in enumerate(entry.contacts, start=1)
        ],
        "service_at_locations": [
            {
                "id": f"{sid}@{site.id}",
                "service_id": sid,
                "location_id": f"{entry.agency}.{site.id}",
                "location": _location(entry.agency, site),
            }
            for site in entry.locations
        ],
        "attributes": attributes,
    }
    if entry.eligibility.min_age is not None:
        service["minimum_age"] = entry.eligibility.min_age
    if entry.eligibility.max_age is not None:
        service["maximum_age"] = entry.eligibility.max_age
    return service


def organization_to_hsds(org: Organization, entries: Iterable[DirectoryService]) -> dict[str, Any]:
    """One compiled HSDS ``organization``, with every site its services use."""
    kind = AgencyKind(org.kind)
    description = label(kind)
    attributes = [_attribute(org.code, "organization", "agency_kind", kind.value)]
    if org.area is not None:
        description += f" — {_area_name(org.area)}"
        attributes.append(_attribute(org.code, "organization", "area", org.area))
    locations: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for site in entry.locations:
            location = _location(org.code, site)
            locations.setdefault(location["id"], location)
    return {
        "id": org.code,
        "name": org.name,
        "description": description,
        "organization_identifiers": [
            {
                "id": f"{org.code}.{IDENTIFIER_SCHEME}",
                "organization_id": org.code,
                "identifier_scheme": IDENTIFIER_SCHEME,
                "identifier_type": "Code d'agence du MNO",
                "identifier": org.code,
            }
        ],
        "attributes": attributes,
        "locations": [locations[key] for key in sorted(locations)],
    }


def taxonomies() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The MNO taxonomies and all their terms (the contract's code lists)."""
    taxes: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []
    for taxonomy, (name_fr, name_en, code_labels) in TAXONOMIES.items():
        taxes.append(
            {
                "id": taxonomy,
                "name": name_fr,
                "description": name_en,
                "uri": f"{PROFILE_URI}/taxonomy/{taxonomy}",
                "version": SCHEMA_VERSION,
            }
        )
        for code, (_fr, en) in code_labels.items():
            terms.append(_term(taxonomy, code) | {"description": en})
    return taxes, terms


def to_hsds(
    organizations: Iterable[Organization], entries: Iterable[DirectoryService]
) -> dict[str, Any]:
    """The directory as one HSDS JSON document (organizations, services, taxonomies)."""
    services = sorted(entries, key=lambda e: e.id)
    by_agency: dict[str, list[DirectoryService]] = defaultdict(list)
    for entry in services:
        by_agency[entry.agency].append(entry)
    taxes, terms = taxonomies()
    return {
        "hsds_version": HSDS_VERSION,
        "profile": PROFILE_URI,
        "organizations": [
            organization_to_hsds(org, by_agency.get(org.code, []))
            for org in sorted(organizations, key=lambda o: o.code)
        ],
        "services": [service_to_hsds(entry) for entry in services],
        "taxonomies": taxes,
        "taxonomy_terms": terms,
    }


# --------------------------------------------------------------------------- reading


def _fail(where: str, fr: str, en: str) -> HsdsError:
    return HsdsError(
        f"HSDS invalide ({where}) : {fr}",
        f"Invalid HSDS ({where}): {en}",
        errors=[{"field": where, "type": "invalid_hsds", "message": en}],
    )


def _term_code(attribute: Mapping[str, Any]) -> tuple[str, str]:
    """(taxonomy, code) of an attribute, from its nested term or its term id."""
    term = attribute.get("taxonomy_term") or {}
    term_id = str(attribute.get("taxonomy_term_id") or term.get("id") or "")
    taxonomy, _, code = term_id.partition(".")
    return str(term.get("taxonomy_id") or term.get("taxonomy") or taxonomy), str(
        term.get("code") or code
    )


def _attributes(obj: Mapping[str, Any]) -> dict[str, list[tuple[str, str | None]]]:
    """link_type → [(code, value)] for the MNO attributes of an object (others ignored)."""
    found: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for attribute in obj.get("attributes") or []:
        link_type = str(attribute.get("link_type") or "")
        taxonomy, code = _term_code(attribute)
        if LINK_TAXONOMY.get(link_type) == taxonomy:
            value = attribute.get("value")
            found[link_type].append((code, None if value in (None, "") else str(value)))
    return found


def _first(
    found: Mapping[str, list[tuple[str, str | None]]], link_type: str
) -> tuple[str, str | None] | None:
    values = found.get(link_type) or []
    return values[0] if values else None


def _int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(float(value))


def _clock(value: Any) -> str:
    text = str(value or "").strip().rstrip("Z")
    return text[:5]


def _organization_code(org: Mapping[str, Any]) -> str:
    for identifier in org.get("organization_identifiers") or []:
        if identifier.get("identifier_scheme") == IDENTIFIER_SCHEME and identifier.get(
            "identifier"
        ):
            return str(identifier["identifier"])
    return str(org.get("id") or "")


def _site(location: Mapping[str, Any], agency: str) -> dict[str, Any]:
    location_id = str(location.get("id") or "")
    prefix = f"{agency}."
    site_id = location_id[len(prefix) :] if location_id.startswith(prefix) else location_id
    address = (location.get("addresses") or [{}])[0]
    site: dict[str, Any] = {
        "id": site_id,
        "name": location.get("name"),
        "area": address.get("state_province"),
        "address": address.get("address_1") or None,
    }
    if location.get("latitude") not in (None, ""):
        site["latitude"] = float(location["latitude"])
    if location.get("longitude") not in (None, ""):
        site["longitude"] = float(location["longitude"])
    return site


def _contact(contact: Mapping[str, Any], where: str) -> dict[str, Any]:
    if contact.get("name"):
        raise _fail(
            where,
            "contact nominatif refusé : l'annuaire n'accepte que des contacts par fonction "
            "(title), jamais le nom d'une personne",
            "named contact refused: the directory only takes role contacts (title), never a "
            "person's name",
        )
    phones = contact.get("phones") or []
    return {
        "role": contact.get("title") or contact.get("department"),
        "email": contact.get("email") or None,
        "phone": (phones[0].get("number") if phones else None) or None,
    }


def service_from_hsds(
    service: Mapping[str, Any],
    agency: str,
    locations: Mapping[str, Mapping[str, Any]] | None = None,
) -> DirectoryService:
    """A directory entry from a compiled HSDS service of organization ``agency``."""
    sid = str(service.get("id") or "")
    where = f"services[{sid}]"
    found = _attributes(service)
    category = _first(found, "category")
    if category is None:
        raise _fail(
            where,
            "catégorie de service manquante (attribut « category »)",
            "service category missing ('category' attribute)",
        )
    fee = _first(found, "fee")
    accepting = _first(found, "accepting_referrals")
    capacity = _first(found, "capacity")
    available = _first(found, "capacity_available")
    status = STATUS_FROM_HSDS.get(str(service.get("status") or "active"))
    if status is None:
        raise _fail(where, f"statut inconnu : {service.get('status')}", "unknown status")
    sites = []
    for link in service.get("service_at_locations") or []:
        location = link.get("location") or (locations or {}).get(str(link.get("location_id")))
        if location is None:
            raise _fail(where, "site introuvable", f"location not found: {link.get('location_id')}")
        sites.append(_site(location, agency))
    hours = [
        {
            "days": [d.strip() for d in str(s.get("byday") or "").split(",") if d.strip()],
            "opens_at": _clock(s.get("opens_at")),
            "closes_at": _clock(s.get("closes_at")),
        }
        for s in service.get("schedules") or []
        if (s.get("freq") or "WEEKLY") == "WEEKLY" and s.get("opens_at") and s.get("byday")
    ]
    body: dict[str, Any] = {
        "id": sid,
        "agency": agency,
        "name": service.get("name"),
        "description": service.get("description") or None,
        "category": category[0],
        "eligibility": {
            "min_age": _int(service.get("minimum_age")),
            "max_age": _int(service.get("maximum_age")),
            "sexes": [code for code, _ in found.get("eligibility_sex", [])],
            "case_categories": [code for code, _ in found.get("eligibility_case_category", [])],
        },
        "languages": [
            str(lang.get("code")) for lang in service.get("languages") or [] if lang.get("code")
        ],
        "areas_served": [
            str(area.get("extent"))
            for area in service.get("service_areas") or []
            if area.get("extent") and area.get("extent_type", "text") == "text"
        ],
        "fees": fee[0] if fee else FeeCode.FREE.value,
        "capacity": _int(capacity[1]) if capacity else None,
        "capacity_available": _int(available[1]) if available else None,
        "accepting_referrals": (accepting[1] != "false") if accepting else True,
        "status": status.value,
        "locations": sites,
        "hours": hours,
        "contacts": [
            _contact(c, f"{where}.contacts[{i}]")
            for i, c in enumerate(service.get("contacts") or [])
        ],
    }
    try:
        return DirectoryService.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise _fail(where, problems, problems) from None


def from_hsds(document: Mapping[str, Any]) -> tuple[list[Organization], list[DirectoryService]]:
    """Organizations (agencies) and directory entries of an HSDS JSON document."""
    if not isinstance(document, Mapping):
        raise _fail("document", "objet JSON attendu", "JSON object expected")
    organizations: list[Organization] = []
    code_of: dict[str, str] = {}
    locations: dict[str, Mapping[str, Any]] = {}
    for org in document.get("organizations") or []:
        code = _organization_code(org)
        code_of[str(org.get("id"))] = code
        found = _attributes(org)
        kind = _first(found, "agency_kind")
        area = _first(found, "area")
        organizations.append(
            Organization(
                code=code,
                name=str(org.get("name") or code),
                kind=kind[0] if kind else AgencyKind.PROVIDER.value,
                area=area[0] if area else None,
            )
        )
        for location in org.get("locations") or []:
            locations[str(location.get("id"))] = location
    entries = []
    for service in document.get("services") or []:
        org_id = str(
            service.get("organization_id") or (service.get("organization") or {}).get("id") or ""
        )
        agency = code_of.get(org_id, org_id)
        entries.append(service_from_hsds(service, agency, locations))
    return organizations, entries


# --------------------------------------------------------------------------- CSV tables

# table file → columns (HSDS 3.0 tabular names; only the columns the MNO profile fills)
TABLES: dict[str, tuple[str, ...]] = {
    "organizations.csv": ("id", "name", "description"),
    "organization_identifiers.csv": (
        "id",
        "organization_id",
        "identifier_scheme",
        "identifier_type",
        "identifier",
    ),
    "services.csv": (
        "id",
        "organization_id",
        "name",
        "description",
        "status",
        "fees_description",
        "eligibility_description",
        "minimum_age",
        "maximum_age",
    ),
    "locations.csv": ("id", "location_type", "organization_id", "name", "latitude", "longitude"),
    "addresses.csv": (
        "id",
        "location_id",
        "address_1",
        "city",
        "region",
        "state_province",
        "postal_code",
        "country",
        "address_type",
    ),
    "service_at_locations.csv": ("id", "service_id", "location_id"),
    "service_areas.csv": ("id", "service_id", "name", "extent", "extent_type"),
    "languages.csv": ("id", "service_id", "name", "code"),
    "schedules.csv": (
        "id",
        "service_id",
        "freq",
        "byday",
        "opens_at",
        "closes_at",
        "timezone",
        "description",
    ),
    "contacts.csv": ("id", "service_id", "name", "title", "email"),
    "phones.csv": ("id", "contact_id", "number"),
    "attributes.csv": ("id", "link_id", "link_type", "link_entity", "taxonomy_term_id", "value"),
    "taxonomies.csv": ("id", "name", "description", "uri", "version"),
    "taxonomy_terms.csv": ("id", "code", "name", "description", "taxonomy_id", "language"),
}


def to_tables(document: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Flatten an HSDS JSON document into its CSV tables (rows as dicts)."""
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    seen_locations: set[str] = set()

    def add_location(location: Mapping[str, Any]) -> None:
        if location["id"] in seen_locations:
            return
        seen_locations.add(location["id"])
        tables["locations.csv"].append(dict(location))
        for address in location.get("addresses") or []:
            tables["addresses.csv"].append(dict(address))

    for org in document.get("organizations") or []:
        tables["organizations.csv"].append(dict(org))
        tables["organization_identifiers.csv"].extend(org.get("organization_identifiers") or [])
        tables["attributes.csv"].extend(org.get("attributes") or [])
        for location in org.get("locations") or []:
            add_location(location)
    for service in document.get("services") or []:
        tables["services.csv"].append(dict(service))
        for key, table in (
            ("service_areas", "service_areas.csv"),
            ("languages", "languages.csv"),
            ("schedules", "schedules.csv"),
            ("attributes", "attributes.csv"),
        ):
            tables[table].extend(service.get(key) or [])
        for contact in service.get("contacts") or []:
            tables["contacts.csv"].append(dict(contact))
            for phone in contact.get("phones") or []:
                tables["phones.csv"].append({**phone, "contact_id": contact["id"]})
        for link in service.get("service_at_locations") or []:
            tables["service_at_locations.csv"].append(dict(link))
            if link.get("location"):
                add_location(link["location"])
    tables["taxonomies.csv"].extend(document.get("taxonomies") or [])
    tables["taxonomy_terms.csv"].extend(document.get("taxonomy_terms") or [])
    return tables


def _csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return out.getvalue()


def datapackage() -> dict[str, Any]:
    return {
        "name": "mno-guinee-directory",
        "title": "Annuaire des prestataires du MNO (HSDS 3.0)",
        "profile": "tabular-data-package",
        "hsds_version": HSDS_VERSION,
        "resources": [
            {
                "name": name.removesuffix(".csv"),
                "path": name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": [{"name": c, "type": "string"} for c in columns]},
            }
            for name, columns in TABLES.items()
        ],
    }


def write_export(document: Mapping[str, Any], directory: Path) -> list[Path]:
    """Write ``directory.json`` (HSDS JSON), the HSDS CSV tables and ``datapackage.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / JSON_FILE]
    written[0].write_text(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    for name, rows in to_tables(document).items():
        path = directory / name
        path.write_text(_csv_text(TABLES[name], rows), encoding="utf-8")
        written.append(path)
    package = directory / "datapackage.json"
    package.write_text(json.dumps(datapackage(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    written.append(package)
    return written


def _read_table(directory: Path, name: str) -> list[dict[str, str]]:
    path = directory / name
    if not path.is_file():
        return []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def from_tables(directory: Path) -> dict[str, Any]:
    """Rebuild the HSDS JSON document from the CSV tables of ``directory``."""
    if not (directory / "services.csv").is_file():
        raise _fail(str(directory), "services.csv introuvable", "services.csv not found")
    read = {name: _read_table(directory, name) for name in TABLES}

    def by(table: str, key: str) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in read[table]:
            grouped[row.get(key, "")].append(row)
        return grouped

    terms = {row["id"]: row for row in read["taxonomy_terms.csv"]}
    attributes = by("attributes.csv", "link_id")
    for rows in attributes.values():
        for row in rows:
            if row.get("taxonomy_term_id") in terms:
                row["taxonomy_term"] = terms[row["taxonomy_term_id"]]
    addresses = by("addresses.csv", "location_id")
    locations: dict[str, dict[str, Any]] = {
        row["id"]: {**row, "addresses": addresses.get(row["id"], [])}
        for row in read["locations.csv"]
    }
    org_locations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for location in locations.values():
        org_locations[str(location.get("organization_id", ""))].append(location)
    identifiers = by("organization_identifiers.csv", "organization_id")
    phones = by("phones.csv", "contact_id")
    organizations = [
        {
            **org,
            "organization_identifiers": identifiers.get(org["id"], []),
            "attributes": attributes.get(org["id"], []),
            "locations": org_locations.get(org["id"], []),
        }
        for org in read["organizations.csv"]
    ]
    children = {
        "service_areas": by("service_areas.csv", "service_id"),
        "languages": by("languages.csv", "service_id"),
        "schedules": by("schedules.csv", "service_id"),
        "service_at_locations": by("service_at_locations.csv", "service_id"),
    }
    contacts = by("contacts.csv", "service_id")
    services = []
    for row in read["services.csv"]:
        sid = row["id"]
        service: dict[str, Any] = {k: v for k, v in row.items() if v != ""}
        for key, grouped in children.items():
            service[key] = grouped.get(sid, [])
        service["contacts"] = [
            {**c, "phones": phones.get(c["id"], [])} for c in contacts.get(sid, [])
        ]
        service["attributes"] = attributes.get(sid, [])
        for link in service["service_at_locations"]:
            if link.get("location_id") in locations:
                link["location"] = locations[link["location_id"]]
        services.append(service)
    return {"hsds_version": HSDS_VERSION, "organizations": organizations, "services": services}


def read_document(path: Path) -> dict[str, Any]:
    """An HSDS document from a JSON file, a folder of CSV tables, or a file in that folder."""
    if path.is_dir():
        if (path / JSON_FILE).is_file() and not (path / "services.csv").is_file():
            path = path / JSON_FILE
        else:
            return from_tables(path)
    if path.suffix.lower() == ".csv" or path.name == "datapackage.json":
        return from_tables(path.parent)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(str(path), f"JSON illisible ({type(exc).__name__})", "unreadable JSON") from exc
    if isinstance(document, list):
        # A bare list of compiled services (the HSDS API's /services contents).
        return {"services": document}
    if not isinstance(document, dict):
        raise _fail(str(path), "objet JSON attendu", "JSON object expected")
    return document


async def import_file(session: AsyncSession, path: Path) -> ImportReport:
    """Read an HSDS JSON file or CSV folder and import it (see ``import_directory``)."""
    organizations, entries = from_hsds(read_document(path))
    return await import_directory(session, organizations, entries)
