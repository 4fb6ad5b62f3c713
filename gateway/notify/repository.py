"""Queries on focal points, notices, and the overdue referrals they are about."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.notify.models import AgencyContact, Notice
from gateway.referrals.models import ReferralRow


def add_contact(session: AsyncSession, contact: AgencyContact) -> None:
    session.add(contact)


def add_notice(session: AsyncSession, notice: Notice) -> None:
    session.add(notice)


async def agency_contacts(session: AsyncSession, agency: str) -> Sequence[AgencyContact]:
    query = (
        select(AgencyContact)
        .where(AgencyContact.agency == agency)
        .order_by(AgencyContact.channel, AgencyContact.address)
    )
    return (await session.scalars(query)).all()


async def contacts_of(session: AsyncSession, agencies: Iterable[str]) -> Sequence[AgencyContact]:
    codes = sorted(set(agencies))
    if not codes:
        return []
    query = select(AgencyContact).where(AgencyContact.agency.in_(codes))
    return (await session.scalars(query)).all()


async def get_contact(session: AsyncSession, contact_id: str) -> AgencyContact | None:
    return await session.get(AgencyContact, contact_id)


async def find_contact(
    session: AsyncSession, agency: str, channel: str, address: str
) -> AgencyContact | None:
    query = select(AgencyContact).where(
        AgencyContact.agency == agency,
        AgencyContact.channel == channel,
        AgencyContact.address == address,
    )
    return (await session.scalars(query)).first()


async def delete_contact(session: AsyncSession, contact: AgencyContact) -> None:
    await session.delete(contact)


async def existing_dedup_keys(session: AsyncSession, keys: Iterable[str]) -> set[tuple[str, str]]:
    """(contact id, dedup key) pairs already queued for these keys."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    query = select(Notice.contact_id, Notice.dedup_key).where(Notice.dedup_key.in_(wanted))
    return {(row[0], row[1]) for row in (await session.execute(query)).all()}


async def due_notices(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    query = (
        select(Notice.id)
        .where(
            Notice.status == "pending",
            Notice.next_attempt_at <= now,
            or_(Notice.claimed_until.is_(None), Notice.claimed_until < now),
        )
        .order_by(Notice.id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def claim_notices(
    session: AsyncSession, ids: Sequence[int], worker: str, now: datetime, until: datetime
) -> list[int]:
    if not ids:
        return []
    statement = (
        update(Notice)
        .where(
            Notice.id.in_(list(ids)),
            Notice.status == "pending",
            or_(Notice.claimed_until.is_(None), Notice.claimed_until < now),
        )
        .values(claimed_by=worker, claimed_until=until)
        .returning(Notice.id)
        .execution_options(synchronize_session=False)
    )
    return sorted((await session.scalars(statement)).all())


async def notices_with_contacts(
    session: AsyncSession, ids: Sequence[int]
) -> list[tuple[Notice, AgencyContact]]:
    if not ids:
        return []
    query = (
        select(Notice, AgencyContact)
        .join(AgencyContact, AgencyContact.id == Notice.contact_id)
        .where(Notice.id.in_(list(ids)))
        .order_by(Notice.id)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def next_notice_at(session: AsyncSession, now: datetime) -> datetime | None:
    query = select(Notice.next_attempt_at).where(
        Notice.status == "pending", Notice.next_attempt_at > now
    )
    first: datetime | None = (
        await session.execute(query.order_by(Notice.next_attempt_at).limit(1))
    ).scalar_one_or_none()
    return first


@dataclass(frozen=True)
class OverdueReferral:
    referral_id: str
    receiving_agency: str
    deadline: str  # "acknowledge" | "respond"
    due_at: datetime
    urgency: str


async def overdue_referrals(
    session: AsyncSession, now: datetime, after_id: str, limit: int
) -> list[OverdueReferral]:
    """Open referrals past a SOP deadline, by id from ``after_id`` (keyset pages)."""
    r = ReferralRow
    query = (
        select(r.id, r.receiving_agency, r.status, r.acknowledge_by, r.respond_by, r.urgency)
        .where(
            r.id > after_id,
            or_(
                and_(r.status == "submitted", r.acknowledge_by < now),
                and_(r.status.in_(("submitted", "acknowledged")), r.respond_by < now),
            ),
        )
        .order_by(r.id)
        .limit(limit)
    )
    found: list[OverdueReferral] = []
    for referral_id, agency, status, ack_by, respond_by, urgency in (
        await session.execute(query)
    ).all():
        if status == "submitted" and ack_by < now:
            found.append(OverdueReferral(referral_id, agency, "acknowledge", ack_by, urgency))
        if respond_by < now:
            found.append(OverdueReferral(referral_id, agency, "respond", respond_by, urgency))
    return found
