"""Exclusion signals: referred but not served, declined without another referral in time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from connectors.pseudonym.encoder import Pseudonymiser
from gateway.db.base import utcnow
from gateway.linkage.service import (
    DECLINED_NO_ALTERNATIVE,
    NO_RESPONSE,
    NOT_SERVED,
    ExclusionCount,
    declined_without_alternative,
    exclusion_signals,
    referred_not_served,
)
from gateway.referrals.models import ReferralRow
from tests.gateway.linkage.conftest import ADULTS, Ledger, encode, register, subject_of


async def _set(ledger: Ledger, referral_id: str, **values: Any) -> None:
    async with ledger.sessionmaker() as session:
        await session.execute(
            update(ReferralRow).where(ReferralRow.id == referral_id).values(**values)
        )
        await session.commit()


def _month(at: datetime) -> str:
    return at.strftime("%Y-%m")


async def test_signals_count_each_way_a_person_was_left_out(
    ledger: Ledger, kit: Pseudonymiser
) -> None:
    await ledger.agencies("AGENCE-A", "AGENCE-B", "PRESTA-P", "PRESTA-Q")
    people = ADULTS[:5]
    by_a = [subject_of(encode(kit, r)) for r in register("A", people, 1)]
    by_b = [subject_of(encode(kit, r)) for r in register("B", people, 2)]
    now = utcnow()
    long_ago = now - timedelta(days=70)
    declined = {"status": "declined", "decline_reason": "no_capacity", "created_at": long_ago}

    unanswered = await ledger.refer("AGENCE-A", "PRESTA-P", by_a[0], ["shelter"])
    await _set(ledger, unanswered, respond_by=now - timedelta(hours=1))
    not_served = await ledger.refer("AGENCE-A", "PRESTA-P", by_a[1], ["medical"])
    await _set(ledger, not_served, status="completed", outcome="not_served_capacity")
    # Declined 40 days ago, nobody referred the person since: left out.
    alone = await ledger.refer("AGENCE-A", "PRESTA-Q", by_a[2], ["legal_aid"])
    await _set(ledger, alone, **declined, responded_at=now - timedelta(days=40))
    # Declined 40 days ago, then B referred the same person (other spelling) 5 days later.
    helped = await ledger.refer("AGENCE-A", "PRESTA-Q", by_a[3], ["legal_aid"])
    await _set(ledger, helped, **declined, responded_at=now - timedelta(days=40))
    alternative = await ledger.refer("AGENCE-B", "PRESTA-P", by_b[3], ["legal_aid"])
    await _set(ledger, alternative, created_at=now - timedelta(days=35))
    # Declined 5 days ago: there is still time for another referral.
    recent = await ledger.refer("AGENCE-A", "PRESTA-Q", by_a[4], ["legal_aid"])
    await _set(ledger, recent, status="declined", decline_reason="no_capacity", responded_at=now)

    async with ledger.sessionmaker() as session:
        waiting = await referred_not_served(session)
        assert [f.id for f in waiting[NO_RESPONSE]] == [unanswered]
        assert [f.id for f in waiting[NOT_SERVED]] == [not_served]
        assert [f.id for f in await declined_without_alternative(session, days=30)] == [alone]
        # With a 3-day allowance, B's referral came too late to count as the alternative.
        late = await declined_without_alternative(session, days=3)
        assert sorted(f.id for f in late) == sorted([alone, helped])
        counts = await exclusion_signals(session, days=30)
        assert sorted(counts, key=lambda c: c.reason) == [
            ExclusionCount(DECLINED_NO_ALTERNATIVE, "PRESTA-Q", _month(long_ago), 1),
            ExclusionCount(NO_RESPONSE, "PRESTA-P", _month(now), 1),
            ExclusionCount(NOT_SERVED, "PRESTA-P", _month(now), 1),
        ]
        recent_only = await exclusion_signals(session, since=now - timedelta(days=1))
        assert {c.reason for c in recent_only} == {NO_RESPONSE, NOT_SERVED}
