"""Queries of the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.outbox.models import OutboxEvent


def add(session: AsyncSession, event: OutboxEvent) -> None:
    session.add(event)


async def claim_batch(
    session: AsyncSession, *, relay_id: str, now: datetime, lease_until: datetime, limit: int
) -> Sequence[OutboxEvent]:
    """Claim unsent rows in id order; on PostgreSQL several relays skip each other's rows."""
    query = (
        select(OutboxEvent)
        .where(OutboxEvent.sent_at.is_(None))
        .where(or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.execute(query)).scalars().all()
    if not rows:
        return rows
    # Keep per-key order across relays: publish a key's rows only when its oldest unsent row
    # is ours. Another relay holding (or claiming) an older row of that key goes first.
    keys = {row.key for row in rows}
    oldest = dict(
        (
            await session.execute(
                select(OutboxEvent.key, func.min(OutboxEvent.id))
                .where(OutboxEvent.sent_at.is_(None), OutboxEvent.key.in_(keys))
                .group_by(OutboxEvent.key)
            )
        )
        .tuples()
        .all()  # a Result has .keys(): dict() would treat it as a mapping
    )
    mine = {row.id for row in rows}
    kept = [row for row in rows if oldest.get(row.key) in mine]
    for row in kept:
        row.claimed_by = relay_id
        row.claimed_until = lease_until
    return kept


async def mark_sent(session: AsyncSession, ids: Sequence[int], at: datetime) -> None:
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(ids))
        .values(sent_at=at, claimed_by=None, claimed_until=None)
    )


async def release(session: AsyncSession, ids: Sequence[int], error: str) -> None:
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(ids))
        .values(
            claimed_by=None,
            claimed_until=None,
            attempts=OutboxEvent.attempts + 1,
            last_error=error[:200],
        )
    )


async def pending_count(session: AsyncSession) -> int:
    result = await session.execute(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.sent_at.is_(None))
    )
    return int(result.scalar_one())
