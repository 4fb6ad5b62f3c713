"""Reads an agency's inbox topic from a cursor (the Kafka offset), with long polling.

Inbox topics have one partition, so an agency's events are totally ordered and the cursor is
just the next offset. One consumer (no group, manual assignment) per agency is kept and reused;
a lock serialises the reads of one agency.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from gateway.events.cloudevents import CloudEventDecodeError, from_kafka
from gateway.events.topics import ensure_topics, inbox_topic


@dataclass(frozen=True)
class InboxRecord:
    offset: int
    envelope: dict[str, object]


@dataclass(frozen=True)
class InboxPage:
    records: list[InboxRecord]
    next_cursor: int


class InboxReader:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._consumers: dict[str, tuple[AIOKafkaConsumer, asyncio.Lock]] = {}
        self._create_lock = asyncio.Lock()

    async def _consumer(self, agency: str) -> tuple[AIOKafkaConsumer, asyncio.Lock]:
        async with self._create_lock:
            if agency not in self._consumers:
                await ensure_topics(self.bootstrap, [agency])
                consumer = AIOKafkaConsumer(
                    bootstrap_servers=self.bootstrap,
                    enable_auto_commit=False,
                    isolation_level="read_committed",
                    auto_offset_reset="earliest",
                )
                await consumer.start()
                consumer.assign([TopicPartition(inbox_topic(agency), 0)])
                self._consumers[agency] = (consumer, asyncio.Lock())
            return self._consumers[agency]

    async def read(self, agency: str, after: int, limit: int, wait: float) -> InboxPage:
        consumer, lock = await self._consumer(agency)
        tp = TopicPartition(inbox_topic(agency), 0)
        async with lock:
            consumer.seek(tp, after)
            end = (await consumer.end_offsets([tp]))[tp]
            started = time.monotonic()
            # Events already written must come back even with wait=0: allow the fetch round
            # trips they need; otherwise wait for new ones only as long as asked.
            deadline = started + (max(wait, 5.0) if after < end else wait)
            records: list[InboxRecord] = []
            while True:
                remaining = deadline - time.monotonic()
                batch = await consumer.getmany(
                    tp, timeout_ms=int(max(0.0, min(remaining, 0.5)) * 1000), max_records=limit
                )
                for msg in batch.get(tp, []):
                    try:
                        envelope = from_kafka(msg.value, list(msg.headers or ()))
                    except CloudEventDecodeError:
                        continue  # the router never writes these; skip rather than fail a page
                    records.append(InboxRecord(msg.offset, envelope))
                if records or remaining <= 0:
                    break
                caught_up = await consumer.position(tp) >= end
                if caught_up and time.monotonic() >= started + wait:
                    break
            # Transaction markers occupy offsets too: the position is past all that was read.
            next_cursor = max(after, await consumer.position(tp))
            return InboxPage(records, next_cursor)

    async def close(self) -> None:
        for consumer, _lock in self._consumers.values():
            await consumer.stop()
        self._consumers.clear()
