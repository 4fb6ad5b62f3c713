"""A running pipeline: the app (with inbox), the relay and the router, on the session broker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import OffsetAndMetadata
from httpx import ASGITransport, AsyncClient

from consumers.linkage.handler import LinkageWorker
from consumers.router.handler import Router
from gateway.app import create_app
from gateway.db.engine import make_sessionmaker
from gateway.events.topics import CONSENT_EVENTS, REFERRAL_EVENTS, ensure_topics
from gateway.linkage.rekey import linkage_secret
from gateway.linkage.service import DuplicateRule
from gateway.outbox.relay import Relay
from tests.conftest import Database
from tests.gateway.referrals.conftest import Party, make_party
from tests.kafka_fixtures import KafkaHandle


async def start_group_at_end(bootstrap: str, group_id: str) -> None:
    """Tests share the canonical topics: a new router group starts after earlier tests' events."""
    consumer = AIOKafkaConsumer(
        REFERRAL_EVENTS,
        CONSENT_EVENTS,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        assigned = list(consumer.assignment())
        ends = await consumer.end_offsets(assigned)
        await consumer.commit({tp: OffsetAndMetadata(end, "") for tp, end in ends.items()})
    finally:
        await consumer.stop()


Factory = Callable[[asyncio.Event], Awaitable[None]]


@dataclass
class Pipeline:
    client: AsyncClient
    database: Database
    bootstrap: str
    referrer: Party
    receiver: Party
    third: Party
    group_id: str
    tasks: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = field(default_factory=dict)
    relay: Relay | None = None
    router: Router | None = None
    linkage: LinkageWorker | None = None

    def start_relay(self) -> Relay:
        self.relay = Relay(make_sessionmaker(self.database.engine), self.bootstrap)
        self._start("relay", self.relay.run)
        return self.relay

    def start_router(self) -> Router:
        self.router = Router(
            self.bootstrap,
            make_sessionmaker(self.database.engine),
            group_id=self.group_id,
            transactional_id=f"{self.group_id}-tx",
        )
        self._start("router", self.router.run)
        return self.router

    def start_linkage(self) -> LinkageWorker:
        settings = self.database.settings()
        self.linkage = LinkageWorker(
            self.bootstrap,
            make_sessionmaker(self.database.engine),
            secret=linkage_secret(settings),
            rule=DuplicateRule.from_settings(settings),
            group_id=f"{self.group_id}-linkage",
        )
        self._start("linkage", self.linkage.run)
        return self.linkage

    def _start(self, name: str, run: Factory) -> None:
        stop = asyncio.Event()
        self.tasks[name] = (asyncio.create_task(run(stop)), stop)

    async def stop(self, name: str) -> None:
        task, stop = self.tasks.pop(name)
        stop.set()
        await asyncio.wait_for(task, 30)

    async def kill(self, name: str) -> None:
        """Cancel the worker mid-flight, as a crash would, without a clean shutdown."""
        task, _stop = self.tasks.pop(name)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def submit(self, n: int = 1, **changes: Any) -> list[str]:
        from tests.gateway.referrals.test_endpoints import body_for

        ids = []
        for _ in range(n):
            response = await self.client.post(
                "/v1/referrals",
                json=body_for(self.receiver.agency, **changes),
                headers={**self.referrer.auth, "Idempotency-Key": uuid.uuid4().hex},
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        return ids

    async def inbox(self, party: Party, *, wait: float = 0, after: int = 0) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/inbox?after={after}&limit=500&wait={wait}", headers=party.auth
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def drain_inbox(
        self, party: Party, expected: int, timeout: float = 60
    ) -> list[dict[str, Any]]:
        """Every event in ``party``'s inbox once ``expected`` have arrived (or the timeout)."""
        events: list[dict[str, Any]] = []
        cursor = 0
        deadline = asyncio.get_running_loop().time() + timeout
        while len(events) < expected and asyncio.get_running_loop().time() < deadline:
            page = await self.inbox(party, wait=1, after=cursor)
            events.extend(item["event"] for item in page["items"])
            cursor = int(page["next_cursor"])
        # one more short read: anything beyond `expected` would be a duplicate
        page = await self.inbox(party, wait=0.5, after=cursor)
        events.extend(item["event"] for item in page["items"])
        return events


@pytest.fixture
async def pipeline(database: Database, kafka: KafkaHandle) -> AsyncIterator[Pipeline]:
    app = create_app(database.settings(kafka_bootstrap=kafka.bootstrap))
    suffix = uuid.uuid4().hex[:6].upper()
    group_id = f"test-router-{suffix}"
    await ensure_topics(kafka.bootstrap, [])
    await start_group_at_end(kafka.bootstrap, group_id)
    await start_group_at_end(kafka.bootstrap, f"{group_id}-linkage")
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            p = Pipeline(
                http,
                database,
                kafka.bootstrap,
                await make_party(http, database, f"REF-{suffix}", kind="un"),
                await make_party(http, database, f"RCV-{suffix}", kind="provider"),
                await make_party(http, database, f"TRD-{suffix}", kind="ngo"),
                group_id,
            )
            from tests.gateway.consent.factories import seed_consent

            # Under the MoU the receiver gets only what the subject consented to share with it.
            await seed_consent(
                database, collecting_agency=p.referrer.agency, recipients=[p.receiver.agency]
            )
            try:
                yield p
            finally:
                for name in list(p.tasks):
                    await p.kill(name)
