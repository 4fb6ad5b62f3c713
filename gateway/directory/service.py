"""Directory rules: search, writes limited to one's own agency, HSDS import, referral check.

Services never commit; the endpoint or the CLI command does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies import repository as agency_repository
from gateway.agencies import service as agency_service
from gateway.db.base import utcnow
from gateway.directory import repository
from gateway.directory.eligibility import (
    CRITERION_FIELDS,
    Profile,
    covers,
    profile_of,
    unmet_criteria,
)
from gateway.directory.entry import DirectoryService, ServiceRecord
from gateway.directory.models import DirectoryServiceRow
from gateway.errors import Conflict, Forbidden, NotFound, ValidationFailed
from schemas.codes import CaseCategory, Language, ServiceCategory, ServiceStatus
from schemas.subject import SubjectRef

OPEN_STATUSES = (ServiceStatus.ACTIVE.value, ServiceStatus.SUSPENDED.value)


@dataclass(frozen=True)
class SearchQuery:
    """Filters of ``GET /v1/directory/services`` and of the directory page; all optional."""

    category: ServiceCategory | None = None
    area: str | None = None
    language: Language | None = None
    eligible_for: Profile | None = None
    agency: str | None = None
    accepting_only: bool = False
    include_closed: bool = False


@dataclass(frozen=True)
class Organization:
    """An HSDS organization to import: an MNO agency."""

    code: str
    name: str
    kind: str = "provider"
    area: str | None = None


@dataclass
class ImportReport:
    agencies_created: list[str] = field(default_factory=list)
    services_created: list[str] = field(default_factory=list)
    services_updated: list[str] = field(default_factory=list)


def record_of(row: DirectoryServiceRow, agency_name: str) -> ServiceRecord:
    return ServiceRecord.of(DirectoryService.model_validate(row.body), agency_name, row.updated_at)


def matches(record: DirectoryService, query: SearchQuery) -> bool:
    """The filters that read the entry itself (areas, language, eligibility)."""
    if query.area is not None and not covers(record.areas_served, query.area):
        return False
    if query.language is not None and query.language not in record.languages:
        return False
    return not (query.eligible_for is not None and unmet_criteria(record, query.eligible_for))


async def search_services(session: AsyncSession, query: SearchQuery) -> list[ServiceRecord]:
    """Services matching every filter given, closed ones only on request."""
    rows = await repository.list_services(
        session,
        category=query.category.value if query.category is not None else None,
        agency=query.agency,
        statuses=None if query.include_closed else OPEN_STATUSES,
        accepting_only=query.accepting_only,
    )
    records = (record_of(row, name) for row, name in rows)
    return [record for record in records if matches(record, query)]


def _not_found(service_id: str) -> NotFound:
    return NotFound(
        f"Service introuvable dans l'annuaire : {service_id}",
        f"Service not found in the directory: {service_id}",
        code="service_not_found",
    )


async def get_service(session: AsyncSession, service_id: str) -> ServiceRecord:
    found = await repository.get_service_with_agency(session, service_id)
    if found is None:
        raise _not_found(service_id)
    row, name = found
    return record_of(row, name)


def _not_own(agency: str, owner: str) -> Forbidden:
    return Forbidden(
        f"L'agence {agency} ne peut modifier que ses propres services (ce service relève de "
        f"{owner}).",
        f"Agency {agency} may only change its own services (this one belongs to {owner}).",
        code="not_own_service",
    )


def _store(row: DirectoryServiceRow, entry: DirectoryService) -> None:
    row.agency_code = entry.agency
    row.category = entry.category.value
    row.status = entry.status.value
    row.accepting_referrals = entry.accepting_referrals
    row.body = entry.model_dump(mode="json")
    row.updated_at = utcnow()


async def _agency_name(session: AsyncSession, code: str) -> str:
    agency = await agency_repository.get_agency(session, code)
    if agency is None:
        raise ValidationFailed(
            f"Agence inconnue : {code}",
            f"Unknown agency: {code}",
            code="unknown_agency",
            errors=[{"field": "body.agency", "type": "unknown", "message": "unknown agency"}],
        )
    return agency.name


async def _insert(session: AsyncSession, entry: DirectoryService) -> ServiceRecord:
    name = await _agency_name(session, entry.agency)
    row = DirectoryServiceRow(id=entry.id, created_at=utcnow())
    _store(row, entry)
    await repository.add_service(session, row)
    return record_of(row, name)


async def create_service(
    session: AsyncSession, agency: str, entry: DirectoryService
) -> ServiceRecord:
    """Publish a new service of the caller's agency."""
    if entry.agency != agency:
        raise _not_own(agency, entry.agency)
    if await repository.get_service(session, entry.id) is not None:
        raise Conflict(
            f"Un service porte déjà l'identifiant {entry.id}.",
            f"A service with id {entry.id} already exists.",
            code="service_exists",
        )
    return await _insert(session, entry)


async def replace_service(
    session: AsyncSession, agency: str, service_id: str, entry: DirectoryService
) -> ServiceRecord:
    """Replace one of the caller's agency's services (availability, eligibility, …)."""
    if entry.id != service_id:
        raise ValidationFailed(
            f"L'identifiant du corps ({entry.id}) diffère de celui de l'URL ({service_id}).",
            f"The body id ({entry.id}) differs from the URL id ({service_id}).",
            code="id_mismatch",
            errors=[{"field": "body.id", "type": "mismatch", "message": "id differs from URL"}],
        )
    row = await repository.get_service(session, service_id)
    if row is None:
        raise _not_found(service_id)
    if row.agency_code != agency:
        raise _not_own(agency, row.agency_code)
    if entry.agency != agency:
        raise _not_own(agency, entry.agency)
    _store(row, entry)
    await session.flush()
    return record_of(row, await _agency_name(session, agency))


async def delete_service(session: AsyncSession, agency: str, service_id: str) -> None:
    """Remove one of the caller's agency's services from the directory."""
    row = await repository.get_service(session, service_id)
    if row is None:
        raise _not_found(service_id)
    if row.agency_code != agency:
        raise _not_own(agency, row.agency_code)
    await repository.delete_service(session, service_id)


# --------------------------------------------------------------------------- import / export


async def import_directory(
    session: AsyncSession,
    organizations: Iterable[Organization],
    entries: Iterable[DirectoryService],
) -> ImportReport:
    """Create missing agencies, then create or replace each service (nothing is deleted)."""
    report = ImportReport()
    for org in organizations:
        if await agency_repository.get_agency(session, org.code) is None:
            await agency_service.add_agency(
                session, code=org.code, name=org.name, kind=org.kind, area=org.area
            )
            report.agencies_created.append(org.code)
    for entry in entries:
        row = await repository.get_service(session, entry.id)
        if row is None:
            await _insert(session, entry)
            report.services_created.append(entry.id)
        else:
            _store(row, entry)
            report.services_updated.append(entry.id)
    await session.flush()
    return report


async def export_directory(
    session: AsyncSession,
) -> tuple[Sequence[Organization], list[ServiceRecord]]:
    """Every agency that publishes a service, and every service (closed ones too)."""
    records = await search_services(session, SearchQuery(include_closed=True))
    codes = sorted({record.agency for record in records})
    agencies = await repository.list_agencies(session, codes)
    organizations = [Organization(a.code, a.name, a.kind, a.area) for a in agencies]
    return organizations, records


# --------------------------------------------------------------------------- referral check


async def check_referral_target(
    session: AsyncSession,
    receiving_agency: str,
    service_id: str | None,
    subject: SubjectRef,
    case_category: CaseCategory | str,
) -> None:
    """Refuse a referral to a service that is unknown, closed, not accepting, or not for them.

    Raises ``ValidationFailed`` (422) with code ``service_not_found``, ``service_closed``,
    ``service_not_accepting`` or ``subject_not_eligible``; the last names every failed
    criterion (age, sex, case category, area, language). Without a service id there is
    nothing to check.
    """
    if service_id is None:
        return
    row = await repository.get_service(session, service_id)
    field_ = "body.receiving_service"
    if row is None or row.agency_code != receiving_agency:
        raise ValidationFailed(
            f"Le service {service_id} n'existe pas dans l'annuaire pour l'agence "
            f"{receiving_agency}.",
            f"Service {service_id} does not exist in the directory for agency {receiving_agency}.",
            code="service_not_found",
            errors=[{"field": field_, "type": "service_not_found", "message": "not found"}],
        )
    entry = DirectoryService.model_validate(row.body)
    if entry.status is ServiceStatus.CLOSED:
        raise ValidationFailed(
            f"Le service « {entry.name} » ({service_id}) est fermé.",
            f"Service '{entry.name}' ({service_id}) is closed.",
            code="service_closed",
            errors=[{"field": field_, "type": "service_closed", "message": "closed"}],
        )
    if entry.status is ServiceStatus.SUSPENDED or not entry.accepting_referrals:
        raise ValidationFailed(
            f"Le service « {entry.name} » ({service_id}) n'accepte pas de nouveaux "
            "référencements pour le moment.",
            f"Service '{entry.name}' ({service_id}) is not accepting new referrals at present.",
            code="service_not_accepting",
            errors=[{"field": field_, "type": "service_not_accepting", "message": "suspended"}],
        )
    unmet = unmet_criteria(entry, profile_of(subject, case_category))
    if unmet:
        raise ValidationFailed(
            f"La personne n'est pas éligible au service « {entry.name} » ({service_id}) : "
            + " ; ".join(u.text("fr") for u in unmet)
            + ".",
            f"The person is not eligible for service '{entry.name}' ({service_id}): "
            + "; ".join(u.text("en") for u in unmet)
            + ".",
            code="subject_not_eligible",
            errors=[
                {
                    "field": CRITERION_FIELDS[u.criterion],
                    "type": "not_eligible",
                    "criterion": u.criterion.value,
                    "message": u.text("en"),
                }
                for u in unmet
            ],
        )
