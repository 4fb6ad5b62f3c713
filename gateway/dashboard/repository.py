"""Queries on the staff users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.dashboard.models import StaffUser


async def get_by_email(session: AsyncSession, email: str) -> StaffUser | None:
    query = select(StaffUser).where(StaffUser.email == email)
    return (await session.execute(query)).scalar_one_or_none()


async def get_by_id(session: AsyncSession, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)


async def list_staff(session: AsyncSession) -> list[StaffUser]:
    return list((await session.execute(select(StaffUser).order_by(StaffUser.email))).scalars())


def add(session: AsyncSession, user: StaffUser) -> None:
    session.add(user)
