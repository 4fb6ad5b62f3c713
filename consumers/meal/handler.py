"""The MEAL aggregator's Kafka loop (``mno meal-aggregator``).

Reads the canonical topics, writes the facts and the seen event ids in one database
transaction, then commits the offsets: a crash in between only causes a redelivery, which the
event ids make harmless. Poison messages go to the dead-letter topic with the reason.

``--rebuild`` forgets the facts and replays the topics from the beginning under a new
consumer group, whose name is kept in ``meal_state`` so that later starts continue from there.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consumers.meal.service import CONSUMER_NAME, apply_events, rebuild_facts
from consumers.offsets import next_offsets, rewind
from gateway.db.base import utcnow
from gateway.events.cloudevents import CloudEventDecodeError, from_kafka
from gateway.events.topics import CONSENT_EVENTS, DEADLETTER, REFERRAL_EVENTS, ensure_topics
from gateway.meal import repository

logger = logging.getLogger("mno.meal")

DEFAULT_GROUP = "mno-meal"
STATE_GROUP = "consumer_group"
# Referral and duplicate events travel on the referral topic, consent events on theirs.
# Connector heartbeats (gn.mno.connector.heartbeat.v1): add their topic here when it exists.
MEAL_TOPICS: tuple[str, ...] = (REFERRAL_EVENTS, CONSENT_EVENTS)


def new_group_id() -> str:
    return f"{DEFAULT_GROUP}-{utcnow():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"


class MealAggregator:
    def __init__(
        self,
        bootstrap: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        group_id: str | None = None,
        topics: Sequence[str] = MEAL_TOPICS,
        batch_size: int = 500,
        rebuild: bool = False,
    ) -> None:
        self.bootstrap = bootstrap
        self.sessionmaker = sessionmaker
        self.group_id = group_id
        self.topics = tuple(topics)
        self.batch_size = batch_size
        self.applied = 0
        self.dead_lettered = 0
        self._rebuild_pending = rebuild
        self._ready = asyncio.Event()

    async def wait_ready(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def _resolve_group(self) -> str:
        async with self.sessionmaker() as session:
            if self._rebuild_pending:
                # Once only, even if the supervisor restarts this worker after a crash.
                group = self.group_id or new_group_id()
                await rebuild_facts(session, group)
                await session.commit()
                self._rebuild_pending = False
                logger.info("meal facts reset, replaying topics", extra={"group": group})
                self.group_id = group
                return group
            if self.group_id:
                return self.group_id
            return await repository.get_state(session, STATE_GROUP) or DEFAULT_GROUP

    async def run(self, stop: asyncio.Event) -> None:
        group = await self._resolve_group()
        await ensure_topics(self.bootstrap, [])
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all"
        )
        await consumer.start()
        try:
            await producer.start()
            try:
                self._ready.set()
                await self._loop(consumer, producer, stop)
            finally:
                await producer.stop()
        finally:
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
                await self._handle(records, consumer, producer)
                backoff = 0.2
            except Exception as exc:  # retriable (database, broker): rewind and try again
                logger.warning(
                    "meal batch failed, retrying",
                    extra={"error_type": type(exc).__name__, "records": len(records)},
                )
                rewind(consumer, records)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _handle(
        self,
        records: list[ConsumerRecord[bytes, bytes]],
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
    ) -> None:
        envelopes: list[dict[str, Any]] = []
        owners: list[ConsumerRecord[bytes, bytes]] = []
        poison: list[tuple[ConsumerRecord[bytes, bytes], str]] = []
        for record in records:
            try:
                envelopes.append(from_kafka(record.value, list(record.headers or ())))
                owners.append(record)
            except CloudEventDecodeError as exc:
                poison.append((record, str(exc)[:200]))
        async with self.sessionmaker() as session:
            applied = await apply_events(session, envelopes, consumer=CONSUMER_NAME)
            await session.commit()
        self.applied += applied.applied
        poison += [(owners[index], reason[:200]) for index, reason in applied.poison]
        for record, reason in poison:
            await self._dead_letter(producer, record, reason)
        await consumer.commit(next_offsets(records))

    async def _dead_letter(
        self, producer: AIOKafkaProducer, record: ConsumerRecord[bytes, bytes], reason: str
    ) -> None:
        headers = [
            *(record.headers or ()),
            ("mno_dlq_reason", reason.encode()),
            ("mno_dlq_source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
            ("mno_dlq_consumer", CONSUMER_NAME.encode()),
        ]
        await producer.send_and_wait(
            DEADLETTER, value=record.value, key=record.key, headers=headers
        )
        self.dead_lettered += 1
        logger.warning(
            "dead-lettered",
            extra={"topic": record.topic, "offset": record.offset, "reason": reason[:120]},
        )
