"""Queueing notices: one per focal point and key, however often it is asked."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies import service as agency_service
from gateway.db.base import utcnow
from gateway.db.engine import make_sessionmaker
from gateway.notify import service
from gateway.notify.models import Notice
from gateway.notify.service import NoticeKind, NoticeRequest
from gateway.referrals.models import ReferralRow
from tests.conftest import Database


async def _setup(session: AsyncSession) -> None:
    await agency_service.add_agency(session, code="AGENCE-A", name="Agence A", kind="un")
    await agency_service.add_agency(session, code="AGENCE-B", name="Agence B", kind="provider")
    await service.add_contact(
        session, agency="AGENCE-B", channel="email", address="orientation@b.example.org"
    )
    await service.add_contact(
        session,
        agency="AGENCE-B",
        channel="sms",
        address="+224620000002",
        events=["referral_overdue"],
    )


def _referral(status: str, ack_hours: float, respond_hours: float) -> ReferralRow:
    now = utcnow()
    return ReferralRow(
        id=str(uuid.uuid4()),
        referring_agency="AGENCE-A",
        referring_client="client-a",
        receiving_agency="AGENCE-B",
        status=status,
        urgency="high",
        subject_key="k" * 16,
        body="{}",
        created_at=now - timedelta(days=5),
        updated_at=now,
        acknowledge_by=now + timedelta(hours=ack_hours),
        respond_by=now + timedelta(hours=respond_hours),
        version=1,
        idempotency_key=uuid.uuid4().hex,
        request_hash="0" * 64,
    )


async def test_a_notice_goes_once_to_each_focal_point_that_wants_it(database: Database) -> None:
    async with make_sessionmaker(database.engine)() as session:
        await _setup(session)
        request = NoticeRequest(
            "AGENCE-B", NoticeKind.REFERRAL_RECEIVED, "event:e1", {"referral_id": "r1"}
        )
        assert await service.queue_notices(session, [request, request]) == 1
        await session.commit()
        assert await service.queue_notices(session, [request]) == 0
        await session.commit()
        notices = (await session.scalars(select(Notice))).all()
    assert [(n.kind, n.dedup_key, n.status) for n in notices] == [
        ("referral_received", "event:e1", "pending")
    ]


async def test_overdue_check_queues_one_notice_per_missed_deadline_whatever_the_runs(
    database: Database,
) -> None:
    sessionmaker = make_sessionmaker(database.engine)
    async with sessionmaker() as session:
        await _setup(session)
        late_ack = _referral("submitted", -1, 48)  # acknowledgement missed
        late_both = _referral("submitted", -30, -2)  # both missed
        late_response = _referral("acknowledged", -30, -1)  # response missed
        on_time = _referral("submitted", 5, 48)
        closed = _referral("completed", -30, -2)  # done: nothing to chase
        session.add_all([late_ack, late_both, late_response, on_time, closed])
        await session.commit()
    for _ in range(3):
        async with sessionmaker() as session:
            await service.queue_overdue_notices(session, utcnow(), page=2)
            await session.commit()
    async with sessionmaker() as session:
        notices = (await session.scalars(select(Notice))).all()
    keys = sorted(n.dedup_key for n in notices)
    expected = sorted(
        [
            f"overdue:acknowledge:{late_ack.id}",
            f"overdue:acknowledge:{late_both.id}",
            f"overdue:respond:{late_both.id}",
            f"overdue:respond:{late_response.id}",
        ]
        * 2  # e-mail and SMS focal points both asked for overdue notices
    )
    assert keys == expected
    assert {n.kind for n in notices} == {"referral_overdue"}
    assert all(set(n.context) == {"referral_id", "deadline", "due_at", "urgency"} for n in notices)
