"""Subscription rules: URL and event-type checks, the verification ping, deliveries, replay.

Every function works in the caller's transaction and never commits.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.service import AuditRecord, append
from gateway.auth.dependencies import Principal
from gateway.db.base import utcnow
from gateway.errors import Conflict, NotFound, ValidationFailed
from gateway.settings import Settings
from gateway.subscriptions import repository
from gateway.subscriptions.models import WebhookDelivery, WebhookEndpoint
from gateway.subscriptions.policy import DeliveryPolicy
from gateway.subscriptions.signing import SecretBox, new_secret
from gateway.subscriptions.webhooks import event_body, post_webhook
from schemas.events import EVENT_TYPES

SOURCE = "/mno/gateway/subscriptions"
PING_TYPE = "gn.mno.webhook.ping.v1"
ALL_EVENTS = "*"
MAX_ENDPOINTS_PER_AGENCY = 20
MAX_REPLAY_EVENTS = 10_000


@dataclass(frozen=True)
class CreatedSubscription:
    endpoint: WebhookEndpoint
    secret: str  # shown once


@dataclass(frozen=True)
class ReplayResult:
    queued: int
    denied: int
    skipped: int  # another type, or already waiting in the queue
    truncated: bool


def _invalid_url(fr: str, en: str) -> ValidationFailed:
    return ValidationFailed(
        f"URL de webhook refusée : {fr}.",
        f"Webhook URL refused: {en}.",
        code="invalid_webhook_url",
        errors=[{"field": "body.url", "type": "invalid", "message": en}],
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_internal_ip(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast


def check_url(url: str, env: str) -> str:
    """HTTPS, except plain HTTP to loopback in development; never internal addresses in prod."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        _ = parts.port  # raises on a bad port
    except ValueError:
        raise _invalid_url("adresse mal formée", "malformed address") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise _invalid_url("https://… attendu", "https://… expected")
    if parts.username is not None or parts.password is not None:
        raise _invalid_url("identifiants interdits dans l'URL", "no credentials in the URL")
    if parts.fragment:
        raise _invalid_url("fragment (#…) interdit", "no fragment (#…)")
    if env == "dev":
        if scheme == "http" and not _is_loopback(host):
            raise _invalid_url(
                "HTTP n'est permis qu'en boucle locale (développement)",
                "plain HTTP is allowed to loopback only (development)",
            )
        return url
    if scheme != "https":
        raise _invalid_url("HTTPS obligatoire", "HTTPS is required")
    if host == "localhost" or host.endswith(".localhost") or _is_internal_ip(host):
        raise _invalid_url("adresse interne interdite", "internal address not allowed")
    return url


def check_event_types(event_types: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(event_types))
    unknown = [t for t in unique if t != ALL_EVENTS and t not in EVENT_TYPES]
    if unknown or not unique:
        listed = ", ".join(unknown[:5]) or "—"
        raise ValidationFailed(
            f"Types d'événement inconnus : {listed} (voir la liste des événements ou « * »).",
            f"Unknown event types: {listed} (see the event list, or '*').",
            code="invalid_event_types",
            errors=[{"field": "body.event_types", "type": "invalid", "message": listed}],
        )
    return [ALL_EVENTS] if ALL_EVENTS in unique else unique


def wants(endpoint_types: Iterable[str], event_type: str) -> bool:
    types = list(endpoint_types)
    return ALL_EVENTS in types or event_type in types


def ordering_key(envelope: Mapping[str, Any]) -> str:
    """Events with the same partition key (a referral) are delivered in order; hashed, so the
    column holds no pseudonym and has a fixed width."""
    key = envelope.get("partitionkey") or envelope.get("subject") or envelope["id"]
    return hashlib.sha256(str(key).encode()).hexdigest()[:40]


def new_delivery(
    endpoint_id: str, envelope: Mapping[str, Any], now: datetime, *, replay: bool = False
) -> WebhookDelivery:
    return WebhookDelivery(
        endpoint_id=endpoint_id,
        event_id=str(envelope["id"]),
        event_type=str(envelope["type"]),
        ordering_key=ordering_key(envelope),
        body=event_body(envelope),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        replay=replay,
        created_at=now,
    )


def ping_envelope(endpoint_id: str, agency: str, event_types: Sequence[str]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"ping-{uuid.uuid4()}",
        "source": SOURCE,
        "type": PING_TYPE,
        "subject": endpoint_id,
        "time": utcnow().isoformat(),
        "datacontenttype": "application/json",
        "data": {"subscription_id": endpoint_id, "agency": agency, "event_types": event_types},
    }


async def verify_endpoint(
    http: httpx.AsyncClient,
    *,
    endpoint_id: str,
    agency: str,
    url: str,
    secret: str,
    event_types: Sequence[str],
    timeout: float,
) -> None:
    """The verification ping: the endpoint must answer 2xx, or nothing is registered."""
    envelope = ping_envelope(endpoint_id, agency, event_types)
    result = await post_webhook(
        http,
        url=url,
        secret=secret,
        msg_id=envelope["id"],
        body=event_body(envelope),
        timeout=timeout,
    )
    if not result.ok:
        what = result.error or "?"
        raise ValidationFailed(
            f"Le point de terminaison n'a pas accepté le ping de vérification ({what}) : "
            "il doit répondre 2xx.",
            f"The endpoint did not accept the verification ping ({what}): it must answer 2xx.",
            code="subscription_verification_failed",
            errors=[{"field": "body.url", "type": "unreachable", "message": what}],
        )


def _audit(
    principal: Principal, action: str, endpoint_id: str, detail: str | None = None
) -> AuditRecord:
    return AuditRecord(
        action=action,
        object_type="subscription",
        object_id=endpoint_id,
        client_id=principal.client_id,
        agency=principal.agency,
        detail=detail,
    )


async def create_subscription(
    session: AsyncSession,
    http: httpx.AsyncClient,
    box: SecretBox,
    settings: Settings,
    principal: Principal,
    *,
    url: str,
    event_types: Sequence[str],
) -> CreatedSubscription:
    url = check_url(url, settings.env)
    types = check_event_types(event_types)
    endpoint_id = str(uuid.uuid4())
    secret = new_secret()
    # Ping before any query: no row for an endpoint nobody answers at, and no transaction (on
    # SQLite, a write lock) held during a network call.
    await verify_endpoint(
        http,
        endpoint_id=endpoint_id,
        agency=principal.agency,
        url=url,
        secret=secret,
        event_types=types,
        timeout=settings.webhook_timeout_seconds,
    )
    existing = await repository.agency_endpoints(session, principal.agency)
    if len(existing) >= MAX_ENDPOINTS_PER_AGENCY:
        raise Conflict(
            f"Trop d'abonnements pour cette agence (maximum {MAX_ENDPOINTS_PER_AGENCY}).",
            f"Too many subscriptions for this agency (at most {MAX_ENDPOINTS_PER_AGENCY}).",
            code="too_many_subscriptions",
        )
    now = utcnow()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        agency=principal.agency,
        url=url,
        event_types=types,
        secret=box.seal(secret, endpoint_id),
        status="active",
        created_by=principal.client_id,
        created_at=now,
        updated_at=now,
        consecutive_failures=0,
    )
    repository.add_endpoint(session, endpoint)
    await append(session, _audit(principal, "subscription.create", endpoint_id))
    return CreatedSubscription(endpoint, secret)


def _not_found(endpoint_id: str) -> NotFound:
    # The same answer for another agency's subscription: ids are not disclosed.
    return NotFound(
        f"Abonnement introuvable : {endpoint_id}",
        f"Subscription not found: {endpoint_id}",
        code="subscription_not_found",
    )


async def get_subscription(
    session: AsyncSession, principal: Principal, endpoint_id: str
) -> WebhookEndpoint:
    endpoint = await repository.agency_endpoint(session, principal.agency, endpoint_id)
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint


async def list_subscriptions(
    session: AsyncSession, principal: Principal
) -> Sequence[WebhookEndpoint]:
    return await repository.agency_endpoints(session, principal.agency)


async def delete_subscription(
    session: AsyncSession, principal: Principal, endpoint_id: str
) -> None:
    endpoint = await get_subscription(session, principal, endpoint_id)
    endpoint.status = "deleted"
    endpoint.updated_at = utcnow()
    await repository.cancel_pending(session, endpoint.id, "subscription_deleted")
    await append(session, _audit(principal, "subscription.delete", endpoint.id))


async def enable_subscription(
    session: AsyncSession,
    http: httpx.AsyncClient,
    box: SecretBox,
    settings: Settings,
    principal: Principal,
    endpoint_id: str,
) -> WebhookEndpoint:
    """Re-enable a disabled endpoint after a new ping; its waiting deliveries resume in order."""
    endpoint = await get_subscription(session, principal, endpoint_id)
    if endpoint.status == "active":
        return endpoint
    url, types = endpoint.url, list(endpoint.event_types)
    secret = box.open(endpoint.secret, endpoint.id)
    # No transaction (on SQLite, a write lock) is held during the network call.
    await session.rollback()
    await verify_endpoint(
        http,
        endpoint_id=endpoint_id,
        agency=principal.agency,
        url=url,
        secret=secret,
        event_types=types,
        timeout=settings.webhook_timeout_seconds,
    )
    endpoint = await get_subscription(session, principal, endpoint_id)
    now = utcnow()
    endpoint.status = "active"
    endpoint.consecutive_failures = 0
    endpoint.retry_at = None
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    endpoint.updated_at = now
    await append(session, _audit(principal, "subscription.enable", endpoint.id))
    return endpoint


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: str,
    status: str | None,
    limit: int,
) -> Sequence[WebhookDelivery]:
    endpoint = await get_subscription(session, principal, endpoint_id)
    return await repository.endpoint_deliveries(session, endpoint.id, status, limit)


async def replay(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: str,
    events: Sequence[Mapping[str, Any]],
    policy: DeliveryPolicy,
    *,
    truncated: bool = False,
) -> ReplayResult:
    """Queue again the inbox events read since ``from``, each one re-checked by the policy."""
    endpoint = await get_subscription(session, principal, endpoint_id)
    if endpoint.status != "active":
        raise Conflict(
            "Abonnement désactivé : réactivez-le avant de rejouer.",
            "Subscription disabled: enable it before a replay.",
            code="subscription_disabled",
        )
    wanted = [e for e in events if wants(endpoint.event_types, str(e.get("type")))]
    waiting = await repository.pending_event_ids(session, endpoint.id, (e["id"] for e in wanted))
    now = utcnow()
    queued = denied = 0
    for envelope in wanted:
        if envelope["id"] in waiting:
            continue
        verdict = await policy(session, recipient=endpoint.agency, envelope=envelope)
        await append(
            session,
            AuditRecord(
                action="webhook.replay",
                object_type="event",
                object_id=str(envelope.get("subject") or envelope["id"])[:64],
                decision="permit" if verdict.permit else "deny",
                client_id=principal.client_id,
                agency=endpoint.agency,
                detail=(",".join(verdict.reasons) or str(envelope["id"]))[:128],
                policy_version=verdict.policy_version[:64],
            ),
        )
        if not verdict.permit:
            denied += 1
            continue
        copy = verdict.envelope if verdict.envelope is not None else envelope
        repository.add_delivery(session, new_delivery(endpoint.id, copy, now, replay=True))
        waiting.add(str(envelope["id"]))
        queued += 1
    skipped = len(events) - queued - denied
    return ReplayResult(queued, denied, skipped, truncated)
