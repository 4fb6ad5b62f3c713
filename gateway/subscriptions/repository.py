"""Queries on webhook endpoints and their deliveries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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


HEAD_WINDOW = 500


async def due_heads(
    session: AsyncSession, endpoint_id: str, now: datetime, limit: int
) -> list[int]:
    """Pending deliveries of one endpoint that may go now: due, not claimed by a live worker,
    and first of their ordering key (no earlier pending delivery of the same referral).

    The oldest pending deliveries are read in id order (one index range, whatever the
    planner's statistics): the first of each key in that window is the oldest pending one of
    its key, since nothing pending comes before the window. A row in backoff still holds its
    key back. Keys whose first pending row lies beyond the window wait for the window to move.
    """
    d = WebhookDelivery
    seen: set[str] = set()
    heads: list[int] = []
    after, read = 0, 0
    page = max(32, 4 * limit)
    while read < HEAD_WINDOW:
        query = (
            select(d.id, d.ordering_key, d.next_attempt_at, d.claimed_until)
            .where(d.endpoint_id == endpoint_id, d.status == "pending", d.id > after)
            .order_by(d.id)
            .limit(page)
        )
        rows = (await session.execute(query)).all()
        for delivery_id, key, next_attempt_at, claimed_until in rows:
            after = int(delivery_id)
            if key in seen:
                continue
            seen.add(key)
            if next_attempt_at <= now and (claimed_until is None or claimed_until < now):
                heads.append(after)
                if len(heads) >= limit:
                    return heads
        read += len(rows)
        if len(rows) < page:
            break
    return heads


@dataclass(frozen=True)
class ClaimedDelivery:
    delivery_id: int
    event_id: str
    body: str
    attempts: int


async def claim(
    session: AsyncSession, ids: Sequence[int], worker: str, now: datetime, until: datetime
) -> list[ClaimedDelivery]:
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
        .returning(d.id, d.event_id, d.body, d.attempts)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).all()
    claimed = [ClaimedDelivery(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]
    return sorted(claimed, key=lambda c: c.delivery_id)


async def mark_delivered(
    session: AsyncSession, outcomes: Sequence[tuple[int, int]], now: datetime
) -> None:
    """Record successful attempts, (delivery id, HTTP status), in one statement per status."""
    d = WebhookDelivery
    by_status: dict[int, list[int]] = {}
    for delivery_id, status_code in outcomes:
        by_status.setdefault(status_code, []).append(delivery_id)
    for status_code, ids in by_status.items():
        await session.execute(
            update(d)
            .where(d.id.in_(ids), d.status == "pending")
            .values(
                status="delivered",
                attempts=d.attempts + 1,
                last_status_code=status_code,
                last_error=None,
                claimed_by=None,
                claimed_until=None,
                delivered_at=now,
            )
            .execution_options(synchronize_session=False)
        )


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
