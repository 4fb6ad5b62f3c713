"""The public directory page (French) and the referral flow diagram, server-rendered.

The directory holds no personal data, so the page is public and read-only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from gateway.deps import SessionDep, SettingsDep
from gateway.directory import service
from gateway.directory.entry import WEEKDAY_LABELS, ServiceRecord
from gateway.errors import NotFound
from gateway.forms.flow import build_diagram, load_policy_file, render_svg
from schemas.codes import (
    AREA_LABELS,
    REGION_CODES,
    Language,
    ServiceCategory,
    ServiceStatus,
    label,
    labels,
)

WEB = Path(__file__).resolve().parents[1] / "web"
templates = Jinja2Templates(directory=WEB / "templates")
STATIC = {
    "annuaire.css": "text/css; charset=utf-8",
    "annuaire.js": "text/javascript; charset=utf-8",
}
# Pages are not part of the JSON API: keep them out of the OpenAPI document.
router = APIRouter(include_in_schema=False)


def availability(record: ServiceRecord) -> tuple[str, str]:
    """(CSS class, French text) saying whether a referral can be sent now."""
    if record.status is ServiceStatus.CLOSED:
        return "no", "Fermé"
    if record.status is ServiceStatus.SUSPENDED:
        return "no", "Suspendu temporairement"
    if not record.accepting_referrals:
        return "no", "N'accepte pas de nouvelles orientations pour le moment"
    if record.capacity_available == 0:
        return "limit", "Complet : aucune place disponible"
    if record.capacity_available is not None:
        total = f" sur {record.capacity}" if record.capacity is not None else ""
        return "ok", f"Accepte des orientations : {record.capacity_available} place(s){total}"
    return "ok", "Accepte des orientations"


def _card(record: ServiceRecord) -> dict[str, Any]:
    css, text = availability(record)
    rules = record.eligibility
    ages = ""
    if rules.min_age is not None and rules.max_age is not None:
        ages = f"de {rules.min_age} à {rules.max_age} ans"
    elif rules.min_age is not None:
        ages = f"{rules.min_age} ans et plus"
    elif rules.max_age is not None:
        ages = f"jusqu'à {rules.max_age} ans"
    return {
        "record": record,
        "category": label(record.category),
        "availability_class": css,
        "availability": text,
        "areas": [AREA_LABELS[a][0] for a in record.areas_served] or ["Tout le pays"],
        "languages": [label(lang) for lang in record.languages],
        "fees": label(record.fees),
        "ages": ages,
        "sexes": [label(s) for s in rules.sexes],
        "case_categories": [label(c) for c in rules.case_categories],
        "hours": [
            (", ".join(WEEKDAY_LABELS[d][0] for d in h.days), f"{h.opens_at}–{h.closes_at}")
            for h in record.hours
        ],
        "sites": [
            (site.name, AREA_LABELS[site.area][0], site.address) for site in record.locations
        ],
    }


def _area_options() -> list[tuple[str, str]]:
    """Regions first, each followed by its prefectures."""
    from schemas.codes import AREA_PARENT

    options: list[tuple[str, str]] = []
    for region in sorted(REGION_CODES, key=lambda c: AREA_LABELS[c][0]):
        options.append((region, AREA_LABELS[region][0]))
        prefectures = [p for p, r in AREA_PARENT.items() if r == region]
        for prefecture in sorted(prefectures, key=lambda c: AREA_LABELS[c][0]):
            options.append((prefecture, "— " + AREA_LABELS[prefecture][0]))
    return options


def _choice(value: str | None, allowed: type[ServiceCategory] | type[Language]) -> Any:
    """A query value if it is a known code, else None (a page ignores bad filters)."""
    if value and value in {code.value for code in allowed}:
        return allowed(value)
    return None


async def _directory_page(
    request: Request,
    session: SessionDep,
    categorie: str | None,
    zone: str | None,
    langue: str | None,
    disponible: bool,
) -> HTMLResponse:
    category = _choice(categorie, ServiceCategory)
    language = _choice(langue, Language)
    area = zone if zone in AREA_LABELS else None
    records = await service.search_services(
        session,
        service.SearchQuery(
            category=category, area=area, language=language, accepting_only=disponible
        ),
    )
    return templates.TemplateResponse(
        request,
        "directory/annuaire.html",
        {
            "cards": [_card(r) for r in records],
            "categories": sorted(
                ((code, fr) for code, (fr, _en) in labels(ServiceCategory).items()),
                key=lambda item: item[1],
            ),
            "areas": _area_options(),
            "languages": sorted(
                ((code, fr) for code, (fr, _en) in labels(Language).items()),
                key=lambda item: item[1],
            ),
            "selected": {
                "categorie": category.value if category else "",
                "zone": area or "",
                "langue": language.value if language else "",
                "disponible": disponible,
            },
        },
        headers={"Content-Language": "fr"},
    )


CategoryQuery = Annotated[str | None, Query(max_length=40)]
AreaQuery = Annotated[str | None, Query(max_length=5)]
LanguageQuery = Annotated[str | None, Query(max_length=3)]


@router.get("/annuaire", response_class=HTMLResponse)
async def directory_page(
    request: Request,
    session: SessionDep,
    categorie: CategoryQuery = None,
    zone: AreaQuery = None,
    langue: LanguageQuery = None,
    disponible: bool = False,
) -> HTMLResponse:
    """Annuaire des prestataires : recherche par catégorie, zone et langue."""
    return await _directory_page(request, session, categorie, zone, langue, disponible)


@router.get("/directory", response_class=HTMLResponse)
async def directory_page_alias(
    request: Request,
    session: SessionDep,
    categorie: CategoryQuery = None,
    zone: AreaQuery = None,
    langue: LanguageQuery = None,
    disponible: bool = False,
    category: CategoryQuery = None,
    area: AreaQuery = None,
    language: LanguageQuery = None,
) -> HTMLResponse:
    """English alias of /annuaire (same French page; English parameter names accepted)."""
    return await _directory_page(
        request, session, categorie or category, zone or area, langue or language, disponible
    )


@lru_cache(maxsize=4)
def _flow_svg(policy_file: Path | None) -> str:
    return render_svg(build_diagram(load_policy_file(policy_file)))


@router.get("/annuaire/flux.svg")
@router.get("/directory/flow.svg")
async def flow_diagram(settings: SettingsDep) -> Response:
    """Diagramme de flux d'orientation (SVG), from the state machine and the MoU policy."""
    return Response(
        _flow_svg(settings.policy_file),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/annuaire/static/{name}")
async def static_file(name: str) -> Response:
    """The page's own CSS and JavaScript (no CDN)."""
    if name not in STATIC:
        raise NotFound("Fichier introuvable.", "File not found.")
    return Response(
        (WEB / "static" / "directory" / name).read_bytes(),
        media_type=STATIC[name],
        headers={"Cache-Control": "public, max-age=300"},
    )
