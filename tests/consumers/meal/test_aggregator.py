"""The aggregator on the real broker: API → outbox → relay → Kafka → MEAL facts; then a rebuild."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from consumers.meal.handler import STATE_GROUP, MealAggregator
from gateway.db.engine import make_sessionmaker
from gateway.meal import repository, service
from gateway.meal.logframe import load_logframe
from gateway.meal.models import MealReferralFact
from gateway.meal.periods import month_of
from tests.consumers.conftest import Pipeline, start_group_at_end

pytestmark = pytest.mark.kafka


async def _facts_for(pipeline: Pipeline, agency: str) -> dict[str, str]:
    async with make_sessionmaker(pipeline.database.engine)() as session:
        query = select(MealReferralFact.referral_id, MealReferralFact.status).where(
            MealReferralFact.receiving_agency == agency
        )
        return {rid: status for rid, status in await session.execute(query)}


async def _wait_for(pipeline: Pipeline, agency: str, want: dict[str, str]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for _ in range(300):
        facts = await _facts_for(pipeline, agency)
        if facts == want:
            break
        await asyncio.sleep(0.1)
    return facts


async def test_referrals_posted_to_the_api_become_facts_and_survive_a_rebuild(
    pipeline: Pipeline,
) -> None:
    group = f"test-meal-{uuid.uuid4().hex[:6]}"
    await start_group_at_end(pipeline.bootstrap, group)
    sessionmaker = make_sessionmaker(pipeline.database.engine)
    pipeline.start_relay()
    aggregator = MealAggregator(pipeline.bootstrap, sessionmaker, group_id=group)
    pipeline._start("meal", aggregator.run)
    await aggregator.wait_ready()
    ids = await pipeline.submit(3)
    for body in ({"action": "acknowledge"}, {"action": "accept"}):
        response = await pipeline.client.post(
            f"/v1/referrals/{ids[0]}/transitions", json=body, headers=pipeline.receiver.auth
        )
        assert response.status_code == 200, response.text
    want = {ids[0]: "accepted", ids[1]: "submitted", ids[2]: "submitted"}
    assert await _wait_for(pipeline, pipeline.receiver.agency, want) == want

    async with sessionmaker() as session:
        report = await service.compute(
            session,
            load_logframe(),
            month_of(datetime.now(UTC)),
            codes=["referrals_made", "accepted_within_sop"],
            disaggregate=["agency"],
        )
    made = dict((c, m.value) for c, m in report.get("referrals_made").breakdowns["agency"])
    assert made[pipeline.referrer.agency] == 3
    assert report.get("accepted_within_sop").total.numerator == 1
    await pipeline.stop("meal")
    assert aggregator.dead_lettered == 0

    # Rebuild: facts forgotten, the topics replayed from the start under a new, remembered group.
    rebuilt = MealAggregator(pipeline.bootstrap, sessionmaker, rebuild=True)
    pipeline._start("meal", rebuilt.run)
    await rebuilt.wait_ready()
    assert await _wait_for(pipeline, pipeline.receiver.agency, want) == want
    async with sessionmaker() as session:
        remembered = await repository.get_state(session, STATE_GROUP)
        total = (
            await session.execute(
                select(func.count()).where(
                    MealReferralFact.receiving_agency == pipeline.receiver.agency
                )
            )
        ).scalar_one()
    assert remembered == rebuilt.group_id
    assert remembered is not None
    assert remembered.startswith("mno-meal-")
    assert total == 3  # replayed once each, no doubles
