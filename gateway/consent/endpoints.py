"""Consent registry API v1: record, read, withdraw, check, purge receipts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from gateway.auth.dependencies import Principal, requires
from gateway.consent import service
from gateway.consent.service import ConsentCheck, PurgeReceiptView
from gateway.deps import SessionDep, SettingsDep
from gateway.linkage.rekey import linkage_secret
from gateway.policy.engine import Decision
from gateway.policy.service import PolicyDep, refusals_audited
from schemas.common import Pseudonym
from schemas.consent import Consent, ConsentCreate, ConsentWithdraw

router = APIRouter(prefix="/v1/consents", tags=["consents"])

ConsentIdPath = Path(
    pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    description="Consent id (UUID). / Identifiant du consentement (UUID).",
)


class ConsentList(BaseModel):
    items: list[Consent] = Field(description="Consents of the subject. / Consentements.")


class ReasonOut(BaseModel):
    code: str = Field(description="Stable reason code. / Code stable du motif.")
    fr: str = Field(description="Texte en français.")
    en: str = Field(description="English text.")
    category: str | None = Field(description="Data category. / Catégorie de données.")
    rule: str | None = Field(description="MoU flow or prohibition. / Flux ou interdiction.")


class ConsentCheckResult(BaseModel):
    decision: Literal["permit", "deny"] = Field(
        description="permit when at least one category may be shared. / "
        "permit si au moins une catégorie peut être partagée."
    )
    permitted_categories: list[str] = Field(description="May be shared. / Partageables.")
    denied_categories: list[str] = Field(description="May not. / Non partageables.")
    reasons: list[ReasonOut] = Field(description="Per category. / Par catégorie.")
    policy_id: str = Field(description="MoU policy id. / Identifiant de la politique.")
    policy_version: str = Field(description="MoU version that decided. / Version appliquée.")
    consent_ids: list[str] = Field(description="Consents relied on. / Consentements utilisés.")
    break_glass_grant_id: str | None = Field(
        description="Emergency access relied on. / Accès d'urgence utilisé."
    )

    @classmethod
    def of(cls, decision: Decision) -> ConsentCheckResult:
        return cls.model_validate(decision.as_dict())


class PurgeReceiptList(BaseModel):
    items: list[PurgeReceiptView] = Field(description="Receipts. / Accusés de purge.")


@router.post("", status_code=201, response_model=Consent)
async def record_consent(
    body: ConsentCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("consent:write")],
) -> Consent:
    """Record a consent your agency collected. / Enregistrer un consentement recueilli."""
    consent = await service.record_consent(
        session, principal, body, linkage_secret=linkage_secret(settings)
    )
    await session.commit()
    point.invalidate(consent.subject_pseudonym)
    response.headers["Location"] = f"/v1/consents/{consent.id}"
    return consent


@router.get("", response_model=ConsentList)
async def list_consents(
    subject: Annotated[
        Pseudonym, Query(description="Pseudonym of the person. / Pseudonyme de la personne.")
    ],
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, requires("consent:read")],
) -> ConsentList:
    """Consents of a person (legitimate link only). / Consentements d'une personne."""
    async with refusals_audited(session):
        items = await service.consents_of_subject(
            session, principal, subject, linkage_secret=linkage_secret(settings)
        )
    await session.commit()
    return ConsentList(items=items)


@router.post("/check", response_model=ConsentCheckResult)
async def check_consent(
    body: ConsentCheck,
    session: SessionDep,
    settings: SettingsDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("consent:read")],
) -> ConsentCheckResult:
    """May this recipient get these categories, for this purpose? / Partage autorisé ?"""
    decision = await service.check_consent(
        session, principal, point, body, linkage_secret=linkage_secret(settings)
    )
    await session.commit()
    return ConsentCheckResult.of(decision)


@router.get("/purge-receipts", response_model=PurgeReceiptList)
async def pending_purge_receipts(
    session: SessionDep,
    principal: Annotated[Principal, requires("consent:read")],
    limit: Annotated[int, Query(ge=1, le=1000, description="Max. / Nombre max.")] = 200,
) -> PurgeReceiptList:
    """Purge receipts still awaited, owed by or to your agency. / Accusés de purge attendus."""
    agency = None if "admin" in principal.scopes else principal.agency
    return PurgeReceiptList(
        items=await service.pending_receipts(session, agency=agency, limit=limit)
    )


@router.get("/{consent_id}", response_model=Consent)
async def get_consent(
    consent_id: Annotated[str, ConsentIdPath],
    session: SessionDep,
    principal: Annotated[Principal, requires("consent:read")],
) -> Consent:
    """Read one consent (legitimate link only). / Lire un consentement."""
    async with refusals_audited(session):
        consent = await service.get_consent(session, principal, consent_id.lower())
    await session.commit()
    return consent


@router.post("/{consent_id}/withdraw", response_model=Consent)
async def withdraw_consent(
    consent_id: Annotated[str, ConsentIdPath],
    body: ConsentWithdraw,
    session: SessionDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("consent:write")],
) -> Consent:
    """Withdraw a consent, effective at once. / Retirer un consentement (effet immédiat)."""
    async with refusals_audited(session):
        withdrawn = await service.withdraw_consent(session, principal, consent_id.lower(), body)
    await session.commit()
    point.invalidate(withdrawn.subject_key)
    return withdrawn.consent


@router.post("/{consent_id}/purge-receipts", response_model=PurgeReceiptView)
async def confirm_purge(
    consent_id: Annotated[str, ConsentIdPath],
    session: SessionDep,
    principal: Annotated[Principal, requires("consent:write")],
) -> PurgeReceiptView:
    """Confirm your agency deleted its copies. / Confirmer l'effacement des copies."""
    async with refusals_audited(session):
        receipt = await service.confirm_purge(session, principal, consent_id.lower())
    await session.commit()
    return receipt


@router.get("/{consent_id}/purge-receipts", response_model=PurgeReceiptList)
async def purge_receipts(
    consent_id: Annotated[str, ConsentIdPath],
    session: SessionDep,
    principal: Annotated[Principal, requires("consent:read")],
) -> PurgeReceiptList:
    """Receipts of one withdrawal. / Accusés de purge d'un retrait."""
    return PurgeReceiptList(
        items=await service.receipts_of_consent(session, principal, consent_id.lower())
    )
