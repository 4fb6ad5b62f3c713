"""Break-glass API: ``POST /v1/break-glass`` (emergency access), ``GET`` the agency's grants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.auth.dependencies import Principal, requires
from gateway.breakglass import service
from gateway.breakglass.service import BreakGlassGrant, BreakGlassRequest
from gateway.deps import SessionDep, SettingsDep
from gateway.linkage.rekey import linkage_secret
from gateway.policy.service import PolicyDep, refusals_audited

router = APIRouter(prefix="/v1/break-glass", tags=["break-glass"])


class BreakGlassGrantList(BaseModel):
    items: list[BreakGlassGrant] = Field(description="Grants. / Accès d'urgence.")


@router.post("", status_code=201, response_model=BreakGlassGrant)
async def open_break_glass(
    body: BreakGlassRequest,
    session: SessionDep,
    settings: SettingsDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("break_glass")],
) -> BreakGlassGrant:
    """Emergency access without consent: audited, notified, time-limited. / Bris de glace."""
    async with refusals_audited(session):
        grant = await service.open_break_glass(
            session, principal, point, body, linkage_secret=linkage_secret(settings)
        )
    await session.commit()
    point.invalidate(grant.subject_pseudonym)
    return grant


@router.get("", response_model=BreakGlassGrantList)
async def list_break_glass(
    session: SessionDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("break_glass")],
    days: Annotated[int, Query(ge=1, le=365, description="Look-back. / Période (jours).")] = 30,
) -> BreakGlassGrantList:
    """Your agency's recent emergency accesses. / Accès d'urgence récents de l'agence."""
    return BreakGlassGrantList(
        items=await service.grants_of_agency(session, principal, point, days=days)
    )
