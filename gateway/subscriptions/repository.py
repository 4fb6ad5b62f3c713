"""Queries on webhook endpoints and their deliveries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from gateway.subscriptions.models import WebhookDelivery, WebhookEndpoint


def add_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    session.add(endpoint)


def add_delivery(session: AsyncSession, delivery: WebhookDelivery) -> None:
    session.add(delivery)


async def get_endpoint(session: AsyncSession, endpoint_id: str) -> WebhookEndpoint | None:
    return await session.get(WebhookEndpoint, endpoint_id)


async def agency_endpoint(
    session: AsyncSession, agency: str, endpoint_id: str
) -> WebhookEndpoint | None:
    """The agency's own endpoint, not deleted; ``None`` for anybody else's."""
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id,
        WebhookEndpoint.agency == agency,
        WebhookEndpoint.status != "deleted",
    )
    return (await session.scalars(query)).first()


async def agency_endpoints(session: AsyncSession, agency: str) -> Sequence[WebhookEndpoint]:
    query = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.agency == agency, WebhookEndpoint.status != "deleted")
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return (await session.scalars(query)).all()


async def active_endpoints_of(
    session: AsyncSession, agencies: Iterable[str]
) -> Sequence[WebhookEndpoint]:
    codes = sorted(set(agencies))
    if not codes:
        return []
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.agency.in_(codes), WebhookEndpoint.status == "active"
    )
    return (await session.scalars(query)).all()


async def dispatchable_endpoints(session: AsyncSession, now: datetime) -> Sequence[WebhookEndpoint]:
    """Active endpoints not paused by a recent failure."""
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.status == "active",
        or_(WebhookEndpoint.retry_at.is_(None), WebhookEndpoint.retry_at <= now),
    )
    return (await session.scalars(query)).all()


async def due_heads(
    session: AsyncSession, endpoint_id: str, now: datetime, limit: int
) -> list[int]:
    """Pending deliveries of one endpoint that may go now: due, not claimed by a live worker,
    and first of their ordering key (no earlier pending delivery of the same referral)."""
    d = WebhookDelivery
    earlier = aliased(WebhookDelivery)
    blocked = (
        select(earlier.id)
        .where(
            earlier.endpoint_id == d.endpoint_id,
            earlier.ordering_key == d.ordering_key,
            earlier.status == "pending",
            earlier.id < d.id,
        )
        .exists()
    )
    query = (
        select(d.id)
        .where(
            d.endpoint_id == endpoint_id,
            d.status == "pending",
            d.next_attempt_at <= now,
            or_(d.claimed_until.is_(None), d.claimed_until < now),
            ~blocked,
        )
        .order_by(d.id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def claim(
    session: AsyncSession, ids: Sequence[int], worker: str, now: datetime, until: datetime
) -> list[int]:
    """Take a lease on these deliveries; another notifier process skips them until it ends."""
    if not ids:
        return []
    d = WebhookDelivery
    statement = (
        update(d)
        .where(
            d.id.in_(list(ids)),
            d.status == "pending",
            or_(d.claimed_until.is_(None), d.claimed_until < now),
        )
        .values(claimed_by=worker, claimed_until=until)
        .returning(d.id)
        .execution_options(synchronize_session=False)
    )
    return sorted((await session.scalars(statement)).all())


async def deliveries(session: AsyncSession, ids: Sequence[int]) -> Sequence[WebhookDelivery]:
    if not ids:
        return []
    query = select(WebhookDelivery).where(WebhookDelivery.id.in_(list(ids)))
    return (await session.scalars(query.order_by(WebhookDelivery.id))).all()


async def get_delivery(session: AsyncSession, delivery_id: int) -> WebhookDelivery | None:
    return await session.get(WebhookDelivery, delivery_id)


async def next_wake_at(session: AsyncSession, now: datetime) -> datetime | None:
    """The next future moment a backoff, a pause or a lease ends (completions wake the
    dispatcher themselves, so only timers matter here)."""
    e = WebhookEndpoint
    d = WebhookDelivery
    pending_of_active = (
        select(d.next_attempt_at, d.claimed_until, e.retry_at)
        .join(e, e.id == d.endpoint_id)
        .where(d.status == "pending", e.status == "active")
        .subquery()
    )
    columns = (
        pending_of_active.c.next_attempt_at,
        pending_of_active.c.claimed_until,
        pending_of_active.c.retry_at,
    )
    row = (await session.execute(select(*(func.min(case((c > now, c))) for c in columns)))).one()
    moments = [moment for moment in row if moment is not None]
    return min(moments) if moments else None


async def count_failure(session: AsyncSession, endpoint_id: str) -> tuple[int, str] | None:
    """One more consecutive failure; returns (count, status) as they are now."""
    e = WebhookEndpoint
    statement = (
        update(e)
        .where(e.id == endpoint_id)
        .values(consecutive_failures=e.consecutive_failures + 1)
        .returning(e.consecutive_failures, e.status)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(statement)).first()
    return (int(row[0]), str(row[1])) if row is not None else None


async def set_retry_at(session: AsyncSession, endpoint_id: str, at: datetime | None) -> None:
    e = WebhookEndpoint
    await session.execute(
        update(e)
        .where(e.id == endpoint_id)
        .values(retry_at=at)
        .execution_options(synchronize_session=False)
    )


async def count_success(session: AsyncSession, endpoint_id: str) -> None:
    e = WebhookEndpoint
    await session.execute(
        update(e)
        .where(e.id == endpoint_id, or_(e.consecutive_failures != 0, e.retry_at.is_not(None)))
        .values(consecutive_failures=0, retry_at=None)
        .execution_options(synchronize_session=False)
    )


async def disable(session: AsyncSession, endpoint_id: str, reason: str, now: datetime) -> bool:
    """Disable an active endpoint; ``True`` only for the call that did it (notify once)."""
    e = WebhookEndpoint
    statement = (
        update(e)
        .where(e.id == endpoint_id, e.status == "active")
        .values(status="disabled", disabled_at=now, disabled_reason=reason, updated_at=now)
        .returning(e.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).first() is not None


async def cancel_pending(session: AsyncSession, endpoint_id: str, reason: str) -> None:
    d = WebhookDelivery
    await session.execute(
        update(d)
        .where(d.endpoint_id == endpoint_id, d.status == "pending")
        .values(status="cancelled", last_error=reason)
        .execution_options(synchronize_session=False)
    )


async def pending_event_ids(
    session: AsyncSession, endpoint_id: str, event_ids: Iterable[str]
) -> set[str]:
    ids = list(set(event_ids))
    if not ids:
        return set()
    query = select(WebhookDelivery.event_id).where(
        WebhookDelivery.endpoint_id == endpoint_id,
        WebhookDelivery.status == "pending",
        WebhookDelivery.event_id.in_(ids),
    )
    return set((await session.scalars(query)).all())


async def endpoint_deliveries(
    session: AsyncSession, endpoint_id: str, status: str | None, limit: int
) -> Sequence[WebhookDelivery]:
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return (await session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit))).all()
