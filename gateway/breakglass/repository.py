"""Queries on break-glass grants."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.breakglass.models import BreakGlassGrantRow
from gateway.consent.repository import chunks


def add(session: AsyncSession, row: BreakGlassGrantRow) -> None:
    session.add(row)


async def unexpired(
    session: AsyncSession, subject_keys: Iterable[str], at: datetime
) -> list[BreakGlassGrantRow]:
    """Grants of these subjects that have not ended at ``at`` (running or starting later)."""
    wanted = sorted(set(subject_keys))
    rows: list[BreakGlassGrantRow] = []
    for part in chunks(wanted):
        query = select(BreakGlassGrantRow).where(
            BreakGlassGrantRow.subject_key.in_(part), BreakGlassGrantRow.valid_until > at
        )
        rows.extend((await session.execute(query)).scalars())
    return rows


async def for_agency(
    session: AsyncSession, agency: str, *, since: datetime, limit: int = 200
) -> list[BreakGlassGrantRow]:
    query = (
        select(BreakGlassGrantRow)
        .where(BreakGlassGrantRow.agency == agency, BreakGlassGrantRow.created_at >= since)
        .order_by(BreakGlassGrantRow.created_at.desc())
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())
