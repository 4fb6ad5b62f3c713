"""Queries of the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.chain import GENESIS
from gateway.audit.models import AuditEntry, AuditHead


async def lock_head(session: AsyncSession, lane: int) -> AuditHead:
    """The lane's head row, locked until the transaction ends (created on first use).

    One statement once the lane exists (the common case): the insert runs only when the
    locking select finds no row.
    """
    locking = select(AuditHead).where(AuditHead.lane == lane).with_for_update()
    found = (await session.execute(locking)).scalar_one_or_none()
    if found is not None:
        return found
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    # Two first writers of a lane must not both start a chain: create the head row (or find
    # it) atomically, then lock it.
    await session.execute(
        insert(AuditHead)
        .values(lane=lane, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["lane"])
    )
    return (await session.execute(locking)).scalar_one()


async def ensure_heads(session: AsyncSession, lanes: int) -> None:
    """Create every lane's head row that is missing (one statement), so appends find them."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(AuditHead).on_conflict_do_nothing(index_elements=["lane"]),
        [{"lane": lane, "seq": 0, "hash": GENESIS} for lane in range(lanes)],
    )


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
