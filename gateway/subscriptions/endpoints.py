"""``/v1/subscriptions``: an agency's webhook endpoints, their deliveries and replays."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gateway.auth.dependencies import Principal, requires
from gateway.deps import RuntimeDep, SessionDep
from gateway.errors import ServiceUnavailable
from gateway.subscriptions import service
from gateway.subscriptions.lifecycle import subscription_tools
from gateway.subscriptions.models import WebhookDelivery, WebhookEndpoint
from gateway.subscriptions.policy import resolve_delivery_policy
from gateway.subscriptions.replay import inbox_since

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

Subscriber = Annotated[Principal, requires("subscriptions:write")]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=8,
        max_length=2048,
        examples=["https://sih.example.org/mno/webhooks"],
        description="HTTPS endpoint (HTTP to loopback in development only). / "
        "Point de terminaison HTTPS (HTTP en boucle locale, développement seulement).",
    )
    event_types: list[str] = Field(
        min_length=1,
        max_length=20,
        examples=[["gn.mno.referral.submitted.v1"]],
        description="Event types, or '*' for all. / Types d'événement, ou « * » pour tous.",
    )


class SubscriptionOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    status: str
    created_at: datetime
    disabled_at: datetime | None
    disabled_reason: str | None
    consecutive_failures: int

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> SubscriptionOut:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            event_types=list(endpoint.event_types),
            status=endpoint.status,
            created_at=endpoint.created_at,
            disabled_at=endpoint.disabled_at,
            disabled_reason=endpoint.disabled_reason,
            consecutive_failures=endpoint.consecutive_failures,
        )


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(
        description="Signing secret (whsec_…), shown once: verify webhook-signature with it. / "
        "Secret de signature, affiché une seule fois."
    )


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    replay: bool
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=delivery.status,
            attempts=delivery.attempts,
            replay=delivery.replay,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
        )


class ReplayOut(BaseModel):
    queued: int = Field(description="Events queued again. / Événements remis en file.")
    denied: int = Field(description="Refused by the policy now. / Refusés par la politique.")
    skipped: int = Field(
        description="Other types or already queued. / Autres types ou déjà en file."
    )
    truncated: bool = Field(
        description="More events remain: replay again from a later time. / "
        "D'autres restent : rejouer depuis un moment ultérieur."
    )


@router.post("", status_code=201)
async def create_subscription(
    body: SubscriptionIn, session: SessionDep, runtime: RuntimeDep, principal: Subscriber
) -> SubscriptionCreatedOut:
    """Subscribe an endpoint (after a signed ping). / Abonner un point de terminaison."""
    tools = subscription_tools(runtime)
    created = await service.create_subscription(
        session,
        tools.http,
        tools.box,
        runtime.settings,
        principal,
        url=body.url,
        event_types=body.event_types,
    )
    await session.commit()
    base = SubscriptionOut.of(created.endpoint)
    return SubscriptionCreatedOut(**base.model_dump(), secret=created.secret)


@router.get("")
async def list_subscriptions(session: SessionDep, principal: Subscriber) -> list[SubscriptionOut]:
    """Your agency's subscriptions (no secrets). / Les abonnements de l'agence."""
    return [SubscriptionOut.of(e) for e in await service.list_subscriptions(session, principal)]


@router.get("/{subscription_id}")
async def get_subscription(
    subscription_id: str, session: SessionDep, principal: Subscriber
) -> SubscriptionOut:
    """One subscription. / Un abonnement."""
    return SubscriptionOut.of(await service.get_subscription(session, principal, subscription_id))


@router.delete("/{subscription_id}", status_code=204)
async def delete_subscription(
    subscription_id: str, session: SessionDep, principal: Subscriber
) -> Response:
    """Delete a subscription; waiting deliveries are cancelled. / Supprimer un abonnement."""
    await service.delete_subscription(session, principal, subscription_id)
    await session.commit()
    return Response(status_code=204)


@router.post("/{subscription_id}/enable")
async def enable_subscription(
    subscription_id: str, session: SessionDep, runtime: RuntimeDep, principal: Subscriber
) -> SubscriptionOut:
    """Re-enable a disabled subscription (new ping). / Réactiver un abonnement désactivé."""
    tools = subscription_tools(runtime)
    endpoint = await service.enable_subscription(
        session, tools.http, tools.box, runtime.settings, principal, subscription_id
    )
    await session.commit()
    return SubscriptionOut.of(endpoint)


@router.get("/{subscription_id}/deliveries")
async def list_deliveries(
    subscription_id: str,
    session: SessionDep,
    principal: Subscriber,
    status: Annotated[
        Literal["pending", "delivered", "dead", "cancelled"] | None,
        Query(description="Filter, e.g. dead. / Filtre, ex. dead."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    """Recent deliveries, newest first (dead letters with status=dead). / Livraisons récentes."""
    found = await service.list_deliveries(session, principal, subscription_id, status, limit)
    return [DeliveryOut.of(d) for d in found]


@router.post("/{subscription_id}/replay", status_code=202)
async def replay(
    subscription_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Subscriber,
    since: Annotated[
        AwareDatetime,
        Query(
            alias="from",
            description="Resend inbox events from this time (RFC 3339). / "
            "Renvoyer les événements depuis ce moment.",
        ),
    ],
) -> ReplayOut:
    """Resend events since a time, re-checking the policy. / Rejouer, politique re-vérifiée."""
    agency = (await service.get_subscription(session, principal, subscription_id)).agency
    bootstrap = runtime.settings.kafka_bootstrap
    if not bootstrap:
        raise ServiceUnavailable(
            "Rejeu indisponible : courtier Kafka non configuré.",
            "Replay unavailable: no Kafka broker configured.",
            code="replay_unavailable",
        )
    # End the read transaction: SQLite takes its write lock at BEGIN, and reading the topic
    # may take seconds.
    await session.rollback()
    events, truncated = await inbox_since(bootstrap, agency, since, service.MAX_REPLAY_EVENTS)
    result = await service.replay(
        session,
        principal,
        subscription_id,
        events,
        resolve_delivery_policy(runtime.components),
        truncated=truncated,
    )
    await session.commit()
    return ReplayOut(
        queued=result.queued,
        denied=result.denied,
        skipped=result.skipped,
        truncated=result.truncated,
    )
