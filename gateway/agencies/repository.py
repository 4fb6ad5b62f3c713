"""Queries on agencies and their OAuth2 clients."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies.models import Agency, OAuthClient


async def get_agency(session: AsyncSession, code: str) -> Agency | None:
    return await session.get(Agency, code)


async def list_agencies(session: AsyncSession) -> Sequence[Agency]:
    result = await session.scalars(select(Agency).order_by(Agency.code))
    return result.all()


async def add_agency(session: AsyncSession, agency: Agency) -> None:
    session.add(agency)
    await session.flush()


async def get_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    return await session.get(OAuthClient, client_id)


async def list_clients(
    session: AsyncSession, agency_code: str | None = None
) -> Sequence[OAuthClient]:
    stmt = select(OAuthClient).order_by(OAuthClient.agency_code, OAuthClient.created_at)
    if agency_code is not None:
        stmt = stmt.where(OAuthClient.agency_code == agency_code)
    result = await session.scalars(stmt)
    return result.all()


async def add_client(session: AsyncSession, client: OAuthClient) -> None:
    session.add(client)
    await session.flush()
