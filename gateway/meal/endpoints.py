"""``/v1/meal``: indicator values for statistical purposes only, suppressed under 5."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from gateway.auth.dependencies import Principal, requires
from gateway.db.base import utcnow
from gateway.deps import RuntimeDep, SessionDep
from gateway.meal import exports, service
from gateway.meal.lifecycle import meal_config
from gateway.meal.periods import month_of, parse_period

router = APIRouter(prefix="/v1/meal", tags=["meal"])

MealReader = Annotated[Principal, requires("meal:read")]
PeriodQuery = Annotated[
    str | None,
    Query(
        description="Period: YYYY-MM, YYYYQn or YYYY (default: this month). / "
        "Période : AAAA-MM, AAAAQn ou AAAA (par défaut : le mois en cours).",
        max_length=10,
    ),
]
RegionQuery = Annotated[
    str | None,
    Query(
        description="Region of residence (ISO 3166-2:GN, e.g. GN-C). / "
        "Région de résidence (ISO 3166-2:GN, ex. GN-C).",
        max_length=8,
    ),
]
NO_STORE = {"Cache-Control": "no-store"}


def _period(value: str | None) -> Any:
    return parse_period(value) if value else month_of(utcnow())


@router.get("/indicators")
async def get_indicators(
    principal: MealReader,
    runtime: RuntimeDep,
    session: SessionDep,
    period: PeriodQuery = None,
    region: RegionQuery = None,
    disaggregate: Annotated[
        list[str],
        Query(
            description="Breakdowns, comma-separated or repeated (sex, age_band, region, "
            "case_category, agency, service, urgency, reason, match_method) or 'all'. / "
            "Ventilations, séparées par des virgules ou répétées, ou « all ».",
        ),
    ] = [],  # noqa: B006 - FastAPI copies query defaults
    indicator: Annotated[
        list[str], Query(description="Only these indicator codes. / Seulement ces indicateurs.")
    ] = [],  # noqa: B006
) -> JSONResponse:
    """MEAL indicators for a period, with small-cell suppression. / Indicateurs MEAL."""
    frame, _mapping = meal_config(runtime)
    body = await service.indicators(
        session,
        frame,
        _period(period),
        disaggregate=disaggregate,
        region=region,
        codes=indicator or None,
    )
    return JSONResponse(body, headers=NO_STORE)


@router.get("/indicators/{code}/export")
async def export_indicator(
    principal: MealReader,
    runtime: RuntimeDep,
    session: SessionDep,
    code: Annotated[str, Path(pattern=r"^[a-z0-9_]{1,64}$")],
    period: PeriodQuery = None,
    region: RegionQuery = None,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv | xlsx")] = "csv",
) -> Response:
    """One indicator, every breakdown, as CSV or XLSX. / Un indicateur en CSV ou XLSX."""
    frame, _mapping = meal_config(runtime)
    chosen = _period(period)
    body = await service.indicators(
        session, frame, chosen, disaggregate=["all"], region=region, codes=[code]
    )
    return export_response(body, code, format)


def export_response(body: dict[str, Any], code: str, format: str) -> Response:
    name = f"mno-{code}-{body['period']['code']}{'-' + body['region'] if body['region'] else ''}"
    if format == "xlsx":
        return Response(
            exports.to_xlsx(body, code),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"', **NO_STORE},
        )
    return Response(
        exports.to_csv(body, code),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', **NO_STORE},
    )


@router.get("/dhis2")
async def export_dhis2(
    principal: MealReader,
    runtime: RuntimeDep,
    session: SessionDep,
    period: PeriodQuery = None,
) -> JSONResponse:
    """DHIS2 dataValueSets for a period (suppressed cells left out). / Export DHIS2."""
    frame, mapping = meal_config(runtime)
    result = await service.dhis2_export(session, frame, mapping, _period(period))
    return JSONResponse(result.body, headers=NO_STORE)


@router.get("/logframe")
async def get_logframe(principal: MealReader, runtime: RuntimeDep) -> JSONResponse:
    """The logical framework: objectives, results, indicators. / Le cadre logique."""
    frame, _mapping = meal_config(runtime)
    return JSONResponse(frame.model_dump(mode="json"))
