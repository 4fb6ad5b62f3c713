"""Harnesses for the notifier.

``lanes``: the webhook dispatcher and the notice sender alone, on the parametrised database,
fed delivery rows directly, with real local receivers and a real SMTP server.
``hub``: the whole chain on the real broker (app → relay → router → inbox → notifier).
Backoffs are tiny so that retries, disabling and dead letters show within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from sqlalchemy import select

from consumers.notifier.dispatcher import Dispatcher
from consumers.notifier.handler import Notifier
from consumers.notifier.messages import NoticeSender
from gateway.agencies import service as agency_service
from gateway.db.base import utcnow
from gateway.db.engine import make_sessionmaker
from gateway.events.topics import ensure_topics
from gateway.notify import service as notify_service
from gateway.settings import Settings
from gateway.subscriptions.models import WebhookDelivery, WebhookEndpoint
from gateway.subscriptions.policy import as_routed
from gateway.subscriptions.service import new_delivery
from gateway.subscriptions.signing import SecretBox, new_secret
from tests.conftest import Database
from tests.consumers.conftest import Pipeline
from tests.gateway.notify.smtp import Mailbox, running_mailbox
from tests.gateway.referrals.conftest import Party, make_party
from tests.gateway.subscriptions.receiver import Receiver

FAST = {
    "webhook_timeout_seconds": 1.0,
    "webhook_max_attempts": 5,
    "webhook_backoff_base_seconds": 0.05,
    "webhook_backoff_max_seconds": 0.3,
    "webhook_disable_after_failures": 50,
    "notifier_poll_seconds": 0.2,
    "notifier_overdue_interval_seconds": 0.3,
    "notify_max_attempts": 3,
    "public_base_url": "https://mno.example.gov.gn",
}


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 15.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(0.05)


def envelope(
    referral_id: str, n: int, event_type: str = "gn.mno.referral.acknowledged.v1"
) -> dict[str, Any]:
    """A minimal inbox copy: the dispatcher sends bodies as they are."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/mno/gateway/referrals",
        "type": event_type,
        "subject": referral_id,
        "partitionkey": referral_id,
        "time": utcnow().isoformat(),
        "datacontenttype": "application/json",
        "data": {"id": referral_id, "seq": n},
    }


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    yield from running_mailbox()


@dataclass
class Lanes:
    database: Database
    mailbox: Mailbox
    overrides: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = field(default_factory=dict)
    http: httpx.AsyncClient | None = None
    dispatcher: Dispatcher | None = None
    sender: NoticeSender | None = None
    agency: str = "AGENCE-W"

    @property
    def settings(self) -> Settings:
        values = {**FAST, "smtp_host": "127.0.0.1", "smtp_port": self.mailbox.port}
        return self.database.settings(**{**values, **self.overrides})

    @property
    def sessionmaker(self):  # type: ignore[no-untyped-def]
        return make_sessionmaker(self.database.engine)

    async def setup(self) -> None:
        async with self.sessionmaker() as session:
            await agency_service.add_agency(session, code=self.agency, name="Agence W", kind="ngo")
            await notify_service.add_contact(
                session,
                agency=self.agency,
                channel="email",
                address="webhooks@agence-w.example.org",
            )
            await session.commit()

    async def endpoint(self, url: str) -> tuple[str, str]:
        endpoint_id, secret = str(uuid.uuid4()), new_secret()
        now = utcnow()
        async with self.sessionmaker() as session:
            session.add(
                WebhookEndpoint(
                    id=endpoint_id,
                    agency=self.agency,
                    url=url,
                    event_types=["*"],
                    secret=SecretBox(self.settings.secret_key.get_secret_value()).seal(
                        secret, endpoint_id
                    ),
                    status="active",
                    created_by="test",
                    created_at=now,
                    updated_at=now,
                    consecutive_failures=0,
                )
            )
            await session.commit()
        return endpoint_id, secret

    async def enqueue(self, endpoint_id: str, envelopes: Sequence[dict[str, Any]]) -> None:
        async with self.sessionmaker() as session:
            for env in envelopes:
                session.add(new_delivery(endpoint_id, env, utcnow()))
            await session.commit()
        if self.dispatcher is not None:
            self.dispatcher.wake()

    def start(self) -> None:
        settings = self.settings
        self.http = self.http or httpx.AsyncClient(follow_redirects=False)
        self.dispatcher = Dispatcher(self.sessionmaker, settings, self.http, as_routed)
        self.sender = NoticeSender(self.sessionmaker, settings, self.http)
        self.dispatcher.on_notices.append(self.sender.wake_event)
        for name, run in (("webhooks", self.dispatcher.run), ("notices", self.sender.run)):
            stop = asyncio.Event()
            self.tasks[name] = (asyncio.create_task(run(stop)), stop)

    async def stop(self) -> None:
        for name in list(self.tasks):
            task, stop = self.tasks.pop(name)
            stop.set()
            await asyncio.wait_for(task, 30)

    async def deliveries(self, endpoint_id: str) -> list[WebhookDelivery]:
        async with self.sessionmaker() as session:
            query = (
                select(WebhookDelivery)
                .where(WebhookDelivery.endpoint_id == endpoint_id)
                .order_by(WebhookDelivery.id)
            )
            return list((await session.scalars(query)).all())

    async def endpoint_row(self, endpoint_id: str) -> WebhookEndpoint:
        async with self.sessionmaker() as session:
            row = await session.get(WebhookEndpoint, endpoint_id)
            assert row is not None
            return row

    async def wait_statuses(
        self, endpoint_id: str, done: Callable[[list[str]], bool], timeout: float = 15.0
    ) -> list[WebhookDelivery]:
        async def check() -> bool:
            return done([d.status for d in await self.deliveries(endpoint_id)])

        await eventually(check, timeout, "delivery statuses")
        return await self.deliveries(endpoint_id)


@pytest.fixture
async def lanes(database: Database, mailbox: Mailbox) -> AsyncIterator[Lanes]:
    harness = Lanes(database, mailbox)
    await harness.setup()
    try:
        yield harness
    finally:
        for name in list(harness.tasks):
            task, _stop = harness.tasks.pop(name)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if harness.http is not None:
            await harness.http.aclose()


# --------------------------------------------------------------------------- whole chain


async def start_notifier_group_at_end(bootstrap: str, group_id: str) -> None:
    """Earlier tests' inbox events are not this test's: the new group starts after them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith("mno.inbox.")]
    finally:
        await admin.close()
    if not topics:
        return
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(t, 0) for t in topics]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: OffsetAndMetadata(end, "") for tp, end in ends.items()})
    finally:
        await consumer.stop()


@dataclass
class Hub:
    pipeline: Pipeline
    mailbox: Mailbox
    sms: Receiver
    subscriber: Party
    group_id: str
    notifier: Notifier | None = None

    @property
    def settings(self) -> Settings:
        return self.pipeline.database.settings(
            **FAST,
            kafka_bootstrap=self.pipeline.bootstrap,
            smtp_host="127.0.0.1",
            smtp_port=self.mailbox.port,
            sms_url=self.sms.url,
        )

    def start_notifier(self, **overrides: Any) -> Notifier:
        settings = self.settings.model_copy(update=overrides)
        self.notifier = Notifier(
            self.pipeline.bootstrap,
            make_sessionmaker(self.pipeline.database.engine),
            settings,
            group_id=self.group_id,
        )
        self.pipeline._start("notifier", self.notifier.run)  # noqa: SLF001
        return self.notifier

    async def subscribe(self, url: str, types: Sequence[str] = ("*",)) -> tuple[str, str]:
        response = await self.pipeline.client.post(
            "/v1/subscriptions",
            json={"url": url, "event_types": list(types)},
            headers=self.subscriber.auth,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"], response.json()["secret"]

    async def contact(
        self, channel: str, address: str, events: Sequence[str] | None = None
    ) -> None:
        async with make_sessionmaker(self.pipeline.database.engine)() as session:
            await notify_service.add_contact(
                session,
                agency=self.pipeline.receiver.agency,
                channel=channel,
                address=address,
                events=events,
            )
            await session.commit()


@pytest.fixture
async def hub(pipeline: Pipeline, mailbox: Mailbox) -> AsyncIterator[Hub]:
    receiver = pipeline.receiver.agency
    subscriber = await make_party(
        pipeline.client, pipeline.database, receiver, "subscriptions:write referrals:read"
    )
    await ensure_topics(
        pipeline.bootstrap,
        [pipeline.referrer.agency, receiver, pipeline.third.agency],
    )
    group_id = f"test-notifier-{uuid.uuid4().hex[:8]}"
    await start_notifier_group_at_end(pipeline.bootstrap, group_id)
    async with Receiver() as sms:
        yield Hub(pipeline, mailbox, sms, subscriber, group_id)
