"""The notifier's Kafka loop (``mno notifier``) and the parts it runs.

It subscribes to every agency inbox by pattern, and for each batch writes, in one database
transaction, the webhook deliveries and e-mail/SMS notices the events call for, together with
the ids of the events handled; the Kafka offsets are committed only after that. A crash at any
point therefore loses nothing, and an event read twice is skipped by its id. Sending happens
from the database queue (``dispatcher``, ``messages``), never from this loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import CommitFailedError, KafkaError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consumers.notifier.dispatcher import Dispatcher
from consumers.notifier.messages import NoticeSender, OverdueCheck
from consumers.notifier.service import INBOX_PATTERN, agency_of_topic, plan_event
from consumers.notifier.sessions import SessionFactory, notifier_sessions
from consumers.offsets import next_offsets, rewind
from gateway.db.base import utcnow
from gateway.events.cloudevents import CloudEventDecodeError, from_kafka
from gateway.events.topics import DEADLETTER
from gateway.notify.service import NoticeRequest, queue_notices
from gateway.outbox.processed import already_processed, mark_processed
from gateway.settings import Settings
from gateway.subscriptions import repository as subscription_repository
from gateway.subscriptions.policy import DeliveryPolicy, resolve_delivery_policy
from gateway.subscriptions.webhooks import new_http_client

logger = logging.getLogger("mno.notifier")
CONSUMER_PREFIX = "notifier:"  # + agency: the router gives each agency a copy with the same id

MAX_EVENT_ID = 64  # processed_events.event_id


class Notifier:
    def __init__(
        self,
        bootstrap: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        group_id: str = "mno-notifier",
        policy: DeliveryPolicy | None = None,
        batch_size: int = 500,
    ) -> None:
        self.bootstrap = bootstrap
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.group_id = group_id
        self.policy = policy or resolve_delivery_policy()
        self.batch_size = batch_size
        self.intaken = 0
        self.dead_lettered = 0
        self.dispatcher: Dispatcher | None = None
        self.sender: NoticeSender | None = None
        self.overdue: OverdueCheck | None = None
        self._ready = asyncio.Event()
        self._sessions: SessionFactory = sessionmaker

    async def wait_ready(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            metadata_max_age_ms=int(self.settings.notifier_topic_refresh_seconds * 1000),
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        consumer.subscribe(pattern=INBOX_PATTERN)
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all"
        )
        http = new_http_client()
        sessions = self._sessions = notifier_sessions(self.sessionmaker)
        self.dispatcher = Dispatcher(sessions, self.settings, http, self.policy)
        self.sender = NoticeSender(sessions, self.settings, http)
        self.dispatcher.on_notices.append(self.sender.wake_event)
        self.overdue = OverdueCheck(sessions, self.settings, self.sender)
        parts = {
            "webhooks": self.dispatcher.run,
            "notices": self.sender.run,
            "overdue": self.overdue.run,
        }
        tasks: list[asyncio.Task[None]] = []
        try:
            await consumer.start()
            await producer.start()
            # The senders work from the database and need no broker: they run beside intake.
            tasks = [asyncio.create_task(run(stop), name=name) for name, run in parts.items()]
            tasks.append(asyncio.create_task(self._loop(consumer, producer, stop), name="intake"))
            self._ready.set()
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a part that crashed: raise, and the supervisor restarts us
            # Stopping: every part sees the event and finishes its work in hand.
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await http.aclose()
            with contextlib.suppress(KafkaError):
                await producer.stop()
            with contextlib.suppress(KafkaError):
                await consumer.stop()

    async def _loop(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, stop: asyncio.Event
    ) -> None:
        backoff = 0.2
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
            records = [r for tp_records in batches.values() for r in tp_records]
            if not records:
                continue
            try:
                await self._handle(records, producer)
                backoff = 0.2
            except Exception as exc:  # retriable (database, broker): read the batch again
                logger.warning(
                    "notifier batch failed, retrying",
                    extra={"error_type": type(exc).__name__, "records": len(records)},
                )
                rewind(consumer, records)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            try:
                await consumer.commit(next_offsets(records))
            except (CommitFailedError, KafkaError) as exc:
                # A rebalance or the broker: the batch is read again and what was handled is
                # skipped, by event id.
                logger.info(
                    "offset commit failed",
                    extra={"records": len(records), "error_type": type(exc).__name__},
                )

    async def _handle(
        self, records: list[ConsumerRecord[bytes, bytes]], producer: AIOKafkaProducer
    ) -> None:
        by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            agency = agency_of_topic(record.topic)
            try:
                if agency is None:
                    raise CloudEventDecodeError("topic inconnu", "unknown topic")
                envelope = from_kafka(record.value, list(record.headers or ()))
                if len(envelope["id"]) > MAX_EVENT_ID:
                    raise CloudEventDecodeError("id trop long", "id too long")
            except CloudEventDecodeError as exc:
                await self._dead_letter(producer, record, str(exc)[:200])
                continue
            by_agency[agency].append(envelope)
        if not by_agency:
            return
        now = utcnow()
        async with self._sessions() as session:
            endpoints = await subscription_repository.active_endpoints_of(session, by_agency)
            notices: list[NoticeRequest] = []
            woken: set[str] = set()
            for agency, envelopes in by_agency.items():
                consumer_name = CONSUMER_PREFIX + agency
                seen = await already_processed(session, consumer_name, (e["id"] for e in envelopes))
                for envelope in envelopes:
                    if envelope["id"] in seen:
                        continue
                    plan = plan_event(agency, envelope, endpoints, now)
                    for delivery in plan.deliveries:
                        subscription_repository.add_delivery(session, delivery)
                        woken.add(delivery.endpoint_id)
                    notices.extend(plan.notices)
                    mark_processed(session, consumer_name, str(envelope["id"]), now)
                    seen.add(envelope["id"])
                    self.intaken += 1
            queued = await queue_notices(session, notices)
            await session.commit()
        if woken and self.dispatcher is not None:
            self.dispatcher.wake(woken)
        if queued and self.sender is not None:
            self.sender.wake()

    async def _dead_letter(
        self, producer: AIOKafkaProducer, record: ConsumerRecord[bytes, bytes], reason: str
    ) -> None:
        headers = [
            *(record.headers or ()),
            ("mno_dlq_reason", reason.encode()),
            ("mno_dlq_source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ("mno_dlq_consumer", b"notifier"),
        ]
        await producer.send_and_wait(
            DEADLETTER, value=record.value, key=record.key, headers=headers
        )
        self.dead_lettered += 1
        logger.warning(
            "dead-lettered",
            extra={"topic": record.topic, "offset": record.offset, "reason": reason[:120]},
        )
