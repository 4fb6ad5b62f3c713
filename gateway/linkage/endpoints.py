"""``/v1/subjects``: is this the same person, what did they receive, who was left out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.auth.dependencies import Principal, requires
from gateway.auth.ratelimit import SlidingWindowLimiter, retry_after_header
from gateway.deps import RuntimeDep, SessionDep, SettingsDep
from gateway.errors import TooManyRequests, ValidationFailed
from gateway.linkage import service
from gateway.linkage.rekey import linkage_secret
from gateway.policy.service import PolicyDep
from schemas.codes import ConsentPurpose, MatchMethod, Sex
from schemas.common import BloomFilter, Pseudonym

router = APIRouter(prefix="/v1/subjects", tags=["subjects"])

# Counts under this single people out: published as suppressed, as the MEAL indicators are.
SUPPRESSION_THRESHOLD = 5
NO_STORE = {"Cache-Control": "no-store"}
_LIMITER = "linkage.match_limiter"


class SubjectMatchRequest(BaseModel):
    """An agency's own linkage values for one person (from the kit), and why it asks."""

    model_config = ConfigDict(extra="forbid")

    purpose: ConsentPurpose = Field(
        description="Why you ask; meal_statistics and research get counts only. / "
        "Finalité ; meal_statistics et research n'obtiennent que des nombres."
    )
    pseudonym: Pseudonym | None = Field(
        default=None, description="Primary token from the kit. / Jeton principal du kit."
    )
    tokens: list[Pseudonym] = Field(
        default_factory=list,
        max_length=8,
        description="Extra exact tokens from the kit. / Jetons exacts supplémentaires du kit.",
    )
    bloom: BloomFilter | None = Field(
        default=None,
        description="Bloom filter from the kit (base64, 1024 bits). / "
        "Filtre de Bloom du kit (base64, 1024 bits).",
    )
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    sex: Sex | None = None


class MatchedReferralOut(BaseModel):
    referral_id: str
    referring_agency: str
    receiving_agency: str
    service_categories: list[str]
    requested_at: datetime
    status: str
    updated_at: datetime


class SubjectMatchOut(BaseModel):
    subject_id: str = Field(description="Gateway subject id (random). / Identifiant de sujet.")
    score: float
    match_method: MatchMethod
    referrals: list[MatchedReferralOut] = Field(
        description="Earlier referrals the policy lets you read. / "
        "Référencements antérieurs que la politique vous permet de lire."
    )
    other_referrals: int = Field(
        description="Other referrals of this subject, counted only. / "
        "Autres référencements de ce sujet, comptés seulement."
    )
    other_agencies: int = Field(
        description="Other agencies involved in them. / Autres agences concernées."
    )


class SubjectMatchResponse(BaseModel):
    purpose: ConsentPurpose
    counts_only: bool
    matched_subjects: int
    matched_referrals: int
    subjects: list[SubjectMatchOut]


def _throttle(runtime: RuntimeDep, principal: Principal) -> None:
    # A matching oracle is a membership test: bound how fast one client can probe it.
    limiter: SlidingWindowLimiter = runtime.components.setdefault(
        _LIMITER, SlidingWindowLimiter(runtime.settings.match_rate_limit_per_minute)
    )
    wait = limiter.hit([principal.client_id])
    if wait is not None:
        raise TooManyRequests(
            "Trop de demandes d'appariement ; réessayez plus tard.",
            "Too many match requests; retry later.",
            headers={"Retry-After": retry_after_header(wait)},
        )


@router.post("/match", response_model=SubjectMatchResponse)
async def match_subject(
    body: SubjectMatchRequest,
    runtime: RuntimeDep,
    session: SessionDep,
    settings: SettingsDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("subjects:match")],
) -> SubjectMatchResponse:
    """Find the subject your linkage tokens designate, and what it received. /
    Retrouver le sujet désigné par vos jetons de liaison, et ce qu'il a reçu."""
    _throttle(runtime, principal)
    result = await service.match_subject(
        session,
        principal,
        service.MatchQuery(
            purpose=body.purpose,
            pseudonym=body.pseudonym,
            tokens=tuple(body.tokens),
            bloom=body.bloom,
            birth_year=body.birth_year,
            sex=body.sex.value if body.sex else None,
        ),
        secret=linkage_secret(settings),
        point=point,
    )
    await session.commit()  # the audit entry
    return SubjectMatchResponse(
        purpose=result.purpose,
        counts_only=result.counts_only,
        matched_subjects=result.matched_subjects,
        matched_referrals=result.matched_referrals,
        subjects=[
            SubjectMatchOut(
                subject_id=s.subject_id,
                score=s.score,
                match_method=s.method,
                referrals=[
                    MatchedReferralOut(
                        referral_id=r.referral_id,
                        referring_agency=r.referring_agency,
                        receiving_agency=r.receiving_agency,
                        service_categories=list(r.service_categories),
                        requested_at=r.requested_at,
                        status=r.status,
                        updated_at=r.updated_at,
                    )
                    for r in s.referrals
                ],
                other_referrals=s.other_referrals,
                other_agencies=s.other_agencies,
            )
            for s in result.subjects
        ],
    )


def _month_start(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise ValidationFailed(
            "Mois invalide : AAAA-MM attendu.",
            "Invalid month: YYYY-MM expected.",
            code="invalid_month",
            errors=[{"field": "query.since", "type": "invalid", "message": "YYYY-MM"}],
        ) from None


@router.get("/exclusion-signals")
async def exclusion_signals(
    session: SessionDep,
    principal: Annotated[Principal, requires("meal:read")],
    days: Annotated[
        int,
        Query(
            ge=1,
            le=365,
            description="Days a declined person may wait for another referral. / "
            "Jours laissés pour une autre orientation après un refus.",
        ),
    ] = 30,
    since: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-\d{2}$",
            description="First month of submission (YYYY-MM). / Premier mois (AAAA-MM).",
        ),
    ] = None,
) -> JSONResponse:
    """People possibly left out: counts by reason, receiving agency and month. /
    Personnes peut-être exclues : nombres par motif, agence destinataire et mois."""
    signals = await service.exclusion_signals(session, days=days, since=_month_start(since))
    rows: list[dict[str, Any]] = []
    for signal in signals:
        row = service.describe(signal)
        if signal.count < SUPPRESSION_THRESHOLD:
            row["count"] = None
            row["suppressed"] = True
        else:
            row["suppressed"] = False
        rows.append(row)
    body = {
        "alternative_window_days": days,
        "suppression_threshold": SUPPRESSION_THRESHOLD,
        "signals": rows,
    }
    return JSONResponse(body, headers=NO_STORE)
