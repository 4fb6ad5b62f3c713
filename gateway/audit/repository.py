"""Queries of the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.models import AuditEntry, AuditHead


async def lock_head(session: AsyncSession, lane: int) -> AuditHead | None:
    result = await session.execute(
        select(AuditHead).where(AuditHead.lane == lane).with_for_update()
    )
    return result.scalar_one_or_none()


def add(session: AsyncSession, row: AuditEntry | AuditHead) -> None:
    session.add(row)


async def heads(session: AsyncSession) -> dict[int, AuditHead]:
    result = await session.execute(select(AuditHead))
    return {h.lane: h for h in result.scalars()}


async def lane_entries(session: AsyncSession, lane: int) -> AsyncIterator[AuditEntry]:
    stream = await session.stream_scalars(
        select(AuditEntry).where(AuditEntry.lane == lane).order_by(AuditEntry.seq)
    )
    async for entry in stream:
        yield entry


async def lanes_in_use(session: AsyncSession) -> list[int]:
    result = await session.execute(select(AuditEntry.lane).distinct())
    return sorted(result.scalars())
