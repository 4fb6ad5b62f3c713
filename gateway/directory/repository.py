"""Queries on the directory table (joined with the agencies for their names)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies.models import Agency
from gateway.directory.models import DirectoryServiceRow


async def get_service(session: AsyncSession, service_id: str) -> DirectoryServiceRow | None:
    return await session.get(DirectoryServiceRow, service_id)


async def get_service_with_agency(
    session: AsyncSession, service_id: str
) -> Row[tuple[DirectoryServiceRow, str]] | None:
    stmt = (
        select(DirectoryServiceRow, Agency.name)
        .join(Agency, Agency.code == DirectoryServiceRow.agency_code)
        .where(DirectoryServiceRow.id == service_id)
    )
    return (await session.execute(stmt)).first()


async def list_services(
    session: AsyncSession,
    *,
    category: str | None = None,
    agency: str | None = None,
    statuses: Collection[str] | None = None,
    accepting_only: bool = False,
) -> Sequence[Row[tuple[DirectoryServiceRow, str]]]:
    """Services with their agency's name, by agency then id; filters on indexed columns."""
    stmt = select(DirectoryServiceRow, Agency.name).join(
        Agency, Agency.code == DirectoryServiceRow.agency_code
    )
    if category is not None:
        stmt = stmt.where(DirectoryServiceRow.category == category)
    if agency is not None:
        stmt = stmt.where(DirectoryServiceRow.agency_code == agency)
    if statuses is not None:
        stmt = stmt.where(DirectoryServiceRow.status.in_(list(statuses)))
    if accepting_only:
        stmt = stmt.where(DirectoryServiceRow.accepting_referrals.is_(True))
    stmt = stmt.order_by(DirectoryServiceRow.agency_code, DirectoryServiceRow.id)
    return (await session.execute(stmt)).all()


async def add_service(session: AsyncSession, row: DirectoryServiceRow) -> None:
    session.add(row)
    await session.flush()


async def delete_service(session: AsyncSession, service_id: str) -> None:
    await session.execute(delete(DirectoryServiceRow).where(DirectoryServiceRow.id == service_id))
    await session.flush()


async def list_agencies(
    session: AsyncSession, codes: Collection[str] | None = None
) -> Sequence[Agency]:
    stmt = select(Agency).order_by(Agency.code)
    if codes is not None:
        stmt = stmt.where(Agency.code.in_(list(codes)))
    return (await session.scalars(stmt)).all()
