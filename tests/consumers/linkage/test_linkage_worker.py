"""The linkage worker on the real broker: matching happens off the request path, and
``DuplicateAssistanceSuspected`` still reaches both agencies, once."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from gateway.db.engine import make_sessionmaker
from gateway.linkage.models import LinkagePending, LinkageRecordRow
from gateway.linkage.rekey import linkage_secret
from gateway.linkage.service import link_referral
from tests.conftest import Database
from tests.consumers.conftest import Pipeline

DUPLICATE = "gn.mno.subject.duplicate_suspected.v1"
WATCHED = {"services_requested": ["shelter"]}


async def _count(database: Database, table: type) -> int:
    async with database.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _duplicates(pipeline: Pipeline, party, expected: int, timeout: float) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    events = await pipeline.drain_inbox(party, expected, timeout=timeout)
    return [e for e in events if e["type"] == DUPLICATE]


async def test_the_submission_only_stages_and_the_worker_flags_the_repeat_for_both(
    pipeline: Pipeline,
) -> None:
    # Nothing matches on the request path: the ledger is untouched until the worker runs.
    first = (await pipeline.submit(**WATCHED))[0]
    assert await _count(pipeline.database, LinkageRecordRow) == 0
    assert await _count(pipeline.database, LinkagePending) == 1

    pipeline.start_relay()
    pipeline.start_router()
    worker = pipeline.start_linkage()
    await worker.wait_ready()
    deadline = time.monotonic() + 30
    while await _count(pipeline.database, LinkagePending) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert await _count(pipeline.database, LinkageRecordRow) == 1

    started = time.monotonic()
    second = (await pipeline.submit(**WATCHED))[0]
    # submitted + duplicate for each party (the first referral's events are there too)
    at_receiver = await _duplicates(pipeline, pipeline.receiver, 3, timeout=30)
    elapsed = time.monotonic() - started
    at_referrer = await _duplicates(pipeline, pipeline.referrer, 1, timeout=30)

    assert [e["data"]["referral_id"] for e in at_receiver] == [second]
    assert [e["data"]["referral_id"] for e in at_referrer] == [second]
    assert at_receiver[0]["data"]["matching_referral_ids"] == [first]
    assert at_receiver[0]["data"]["overlapping_services"] == ["shelter"]
    assert elapsed < 10, f"duplicate took {elapsed:.1f} s to reach the receiver"
    assert await _count(pipeline.database, LinkagePending) == 0
    assert worker.failed == 0


async def test_a_redelivered_event_changes_nothing(pipeline: Pipeline) -> None:
    [referral_id] = await pipeline.submit(**WATCHED)
    secret = linkage_secret(pipeline.database.settings())
    sessionmaker = make_sessionmaker(pipeline.database.engine)
    async with sessionmaker() as session:
        first = await link_referral(session, referral_id, secret=secret)
        await session.commit()
    async with sessionmaker() as session:
        again = await link_referral(session, referral_id, secret=secret)
        await session.commit()

    assert first is not None
    assert first.new_subject
    assert again is None
    assert await _count(pipeline.database, LinkageRecordRow) == 1


async def test_referrals_submitted_while_the_worker_was_down_are_linked_at_its_start(
    pipeline: Pipeline,
) -> None:
    # The worker's group starts after these events (as when it is deployed later): its
    # catch-up still links them, in submission order, and flags the repeat.
    ids = await pipeline.submit(2, **WATCHED)
    from tests.consumers.conftest import start_group_at_end

    await start_group_at_end(pipeline.bootstrap, f"{pipeline.group_id}-linkage")
    pipeline.start_relay()
    pipeline.start_router()
    worker = pipeline.start_linkage()
    await worker.wait_ready()

    assert await _count(pipeline.database, LinkagePending) == 0
    assert worker.linked == 2
    at_receiver = await _duplicates(pipeline, pipeline.receiver, 3, timeout=30)
    assert [e["data"]["referral_id"] for e in at_receiver] == [ids[1]]
