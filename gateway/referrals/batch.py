"""``POST /v1/referrals:batch``: up to 500 submissions in one request, one result per item.

Each item is the body of ``POST /v1/referrals`` with its own idempotency key, submitted by the
same service function inside its own savepoint: an item refused (invalid, unknown receiver,
key reused with another body) rolls back alone and the others are kept. One commit at the end;
if the request fails as a whole (5xx, lost connection) nothing of it was kept, and the client
sends the same batch again: items already stored are then answered as replays.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.auth.dependencies import Principal, requires
from gateway.deps import SessionDep, SettingsDep
from gateway.errors import MnoError, preferred_language, validation_errors
from gateway.linkage.rekey import linkage_secret
from gateway.referrals import service
from gateway.referrals.endpoints import _check_idempotency_key
from schemas.referral import ReferralCreate

router = APIRouter(tags=["referrals"])

MAX_ITEMS = 500


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idempotency_key: str = Field(
        description="As the Idempotency-Key header of POST /v1/referrals. / "
        "Comme l'en-tête Idempotency-Key de POST /v1/referrals.",
    )
    referral: dict[str, Any] = Field(
        description="A referral (the body of POST /v1/referrals), validated item by item. / "
        "Un référencement (le corps de POST /v1/referrals), validé élément par élément.",
    )


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[BatchItem] = Field(min_length=1, max_length=MAX_ITEMS)


class ItemResult(BaseModel):
    index: int = Field(description="Position in the request. / Position dans la requête.")
    idempotency_key: str
    status: int = Field(
        description="201 created, 200 replayed, or the error status the single call would "
        "have returned. / 201 créé, 200 rejoué, ou le statut d'erreur de l'appel unitaire."
    )
    referral_id: str | None = None
    code: str | None = None
    message_fr: str | None = None
    message_en: str | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class BatchOut(BaseModel):
    created: int
    replayed: int
    failed: int
    results: list[ItemResult]


@router.post("/v1/referrals:batch", response_model=BatchOut)
async def submit_referrals_batch(
    body: BatchIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, requires("referrals:write")],
) -> BatchOut:
    """Submit up to 500 referrals, each with its own idempotency key; one result per item.
    / Soumettre jusqu'à 500 référencements, chacun avec sa clé d'idempotence."""
    secret = linkage_secret(settings)
    lang = preferred_language(request.headers.get("accept-language"))
    results: list[ItemResult] = []
    for index, item in enumerate(body.items):
        try:
            key = _check_idempotency_key(item.idempotency_key)
            referral = _parse(item.referral, lang)
            async with session.begin_nested():
                submitted = await service.submit_referral(
                    session, principal, referral, idempotency_key=key, linkage_secret=secret
                )
        except MnoError as exc:
            results.append(
                ItemResult(
                    index=index,
                    idempotency_key=item.idempotency_key,
                    status=exc.status,
                    code=exc.code,
                    message_fr=exc.message_fr,
                    message_en=exc.message_en,
                    errors=exc.errors,
                )
            )
            continue
        results.append(
            ItemResult(
                index=index,
                idempotency_key=item.idempotency_key,
                status=200 if submitted.replayed else 201,
                referral_id=str(submitted.referral.id),
            )
        )
    await session.commit()
    return BatchOut(
        created=sum(r.status == 201 for r in results),
        replayed=sum(r.status == 200 for r in results),
        failed=sum(r.status >= 400 for r in results),
        results=results,
    )


def _parse(data: dict[str, Any], lang: str) -> ReferralCreate:
    try:
        return ReferralCreate.model_validate(data)
    except ValidationError as exc:
        errors = validation_errors(exc.errors(), lang)
        for error in errors:
            error["field"] = "referral." + error["field"]
        fields = ", ".join(e["field"] for e in errors[:5])
        raise MnoError(
            f"Données invalides : {fields}",
            f"Invalid data: {fields}",
            status=422,
            code="validation_failed",
            errors=errors,
        ) from None
