"""Directory API v1: public search; writes by an agency on its own services only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from gateway.auth.dependencies import Principal, requires
from gateway.deps import SessionDep
from gateway.directory import hsds, service
from gateway.directory.eligibility import known_area, parse_eligible_for
from gateway.directory.entry import DirectoryService, ServiceRecord
from schemas.codes import Language, ServiceCategory
from schemas.common import AGENCY_CODE_PATTERN, SERVICE_ID_PATTERN

router = APIRouter(prefix="/v1/directory", tags=["directory"])

Writer = Annotated[Principal, requires("directory:write")]
ServiceIdPath = Path(
    pattern=SERVICE_ID_PATTERN,
    description="Service id. / Identifiant du service.",
)


class ServicePage(BaseModel):
    count: int = Field(description="Number of services. / Nombre de services.")
    items: list[ServiceRecord] = Field(description="Services. / Services.")


@router.get("/services", response_model=ServicePage)
async def search_services(
    session: SessionDep,
    category: Annotated[
        ServiceCategory | None, Query(description="Service category. / Catégorie de service.")
    ] = None,
    area: Annotated[
        str | None,
        Query(
            max_length=5,
            description="ISO 3166-2:GN area the service must cover (a region covers its "
            "prefectures). / Zone ISO 3166-2:GN que le service doit couvrir.",
        ),
    ] = None,
    language: Annotated[
        Language | None,
        Query(description="ISO 639-3 language offered. / Langue proposée (ISO 639-3)."),
    ] = None,
    eligible_for: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Who must be eligible: comma-separated case category, `sex:<code>`, "
            "`age:<years>` or `age_band:<band>`, e.g. `victim_of_trafficking,sex:female,age:16`."
            " / Profil qui doit être éligible : catégorie de cas, sexe, âge ou tranche d'âge.",
        ),
    ] = None,
    agency: Annotated[
        str | None,
        Query(pattern=AGENCY_CODE_PATTERN, description="Agency code. / Code de l'agence."),
    ] = None,
    accepting: Annotated[
        bool,
        Query(
            description="Only services accepting referrals now. / Seulement ceux qui "
            "acceptent des orientations."
        ),
    ] = False,
    include_closed: Annotated[
        bool, Query(description="Include closed services. / Inclure les services fermés.")
    ] = False,
) -> ServicePage:
    """Search the service directory (public, no personal data). / Chercher dans l'annuaire."""
    query = service.SearchQuery(
        category=category,
        area=known_area(area) if area is not None else None,
        language=language,
        eligible_for=parse_eligible_for(eligible_for) if eligible_for else None,
        agency=agency,
        accepting_only=accepting,
        include_closed=include_closed,
    )
    items = await service.search_services(session, query)
    return ServicePage(count=len(items), items=items)


@router.get("/services/{service_id}", response_model=ServiceRecord)
async def get_service(
    service_id: Annotated[str, ServiceIdPath], session: SessionDep
) -> ServiceRecord:
    """Read one service of the directory. / Lire un service de l'annuaire."""
    return await service.get_service(session, service_id)


@router.post("/services", status_code=201, response_model=ServiceRecord)
async def create_service(
    body: DirectoryService, response: Response, session: SessionDep, principal: Writer
) -> ServiceRecord:
    """Publish a service of one's own agency. / Publier un service de son agence."""
    record = await service.create_service(session, principal.agency, body)
    await session.commit()
    response.headers["Location"] = f"/v1/directory/services/{record.id}"
    return record


@router.put("/services/{service_id}", response_model=ServiceRecord)
async def replace_service(
    service_id: Annotated[str, ServiceIdPath],
    body: DirectoryService,
    session: SessionDep,
    principal: Writer,
) -> ServiceRecord:
    """Replace one of one's own services (e.g. availability). / Mettre à jour son service."""
    record = await service.replace_service(session, principal.agency, service_id, body)
    await session.commit()
    return record


@router.delete("/services/{service_id}", status_code=204)
async def delete_service(
    service_id: Annotated[str, ServiceIdPath], session: SessionDep, principal: Writer
) -> Response:
    """Remove one of one's own services. / Retirer un de ses services de l'annuaire."""
    await service.delete_service(session, principal.agency, service_id)
    await session.commit()
    return Response(status_code=204)


@router.get("/hsds")
async def export_hsds(session: SessionDep) -> dict[str, Any]:
    """The whole directory as Open Referral HSDS 3.0 JSON. / L'annuaire au format HSDS 3.0."""
    organizations, records = await service.export_directory(session)
    return hsds.to_hsds(organizations, records)
