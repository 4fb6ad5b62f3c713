"""Every query on referrals and their history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.referrals.models import ReferralHistoryRow, ReferralRow


def add(session: AsyncSession, row: ReferralRow | ReferralHistoryRow) -> None:
    session.add(row)


async def get(
    session: AsyncSession, referral_id: str, *, for_update: bool = False
) -> ReferralRow | None:
    query = select(ReferralRow).where(ReferralRow.id == referral_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def by_idempotency_key(session: AsyncSession, agency: str, key: str) -> ReferralRow | None:
    query = select(ReferralRow).where(
        ReferralRow.referring_agency == agency, ReferralRow.idempotency_key == key
    )
    return (await session.execute(query)).scalar_one_or_none()


async def history(session: AsyncSession, referral_ids: Sequence[str]) -> list[ReferralHistoryRow]:
    if not referral_ids:
        return []
    query = (
        select(ReferralHistoryRow)
        .where(ReferralHistoryRow.referral_id.in_(referral_ids))
        .order_by(ReferralHistoryRow.referral_id, ReferralHistoryRow.seq)
    )
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class ListFilter:
    agency: str
    role: str | None = None  # "sent" | "received" | None for both
    status: str | None = None
    updated_since: datetime | None = None
    overdue_at: datetime | None = None
    after: tuple[datetime, str] | None = None
    limit: int = 50


async def list_for_agency(session: AsyncSession, f: ListFilter) -> list[ReferralRow]:
    query = select(ReferralRow)
    if f.role == "sent":
        query = query.where(ReferralRow.referring_agency == f.agency)
    elif f.role == "received":
        query = query.where(ReferralRow.receiving_agency == f.agency)
    else:
        query = query.where(
            or_(ReferralRow.referring_agency == f.agency, ReferralRow.receiving_agency == f.agency)
        )
    if f.status:
        query = query.where(ReferralRow.status == f.status)
    if f.updated_since:
        query = query.where(ReferralRow.updated_at >= f.updated_since)
    if f.overdue_at:
        query = query.where(
            or_(
                and_(ReferralRow.status == "submitted", ReferralRow.acknowledge_by < f.overdue_at),
                and_(
                    ReferralRow.status.in_(("submitted", "acknowledged")),
                    ReferralRow.respond_by < f.overdue_at,
                ),
            )
        )
    if f.after:
        at, last_id = f.after
        query = query.where(
            or_(
                ReferralRow.updated_at > at,
                and_(ReferralRow.updated_at == at, ReferralRow.id > last_id),
            )
        )
    query = query.order_by(ReferralRow.updated_at, ReferralRow.id).limit(f.limit)
    return list((await session.execute(query)).scalars())
