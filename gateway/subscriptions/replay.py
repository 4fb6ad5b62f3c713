"""Reads an agency's inbox topic from a moment on: the source of a replay.

The inbox topic holds every copy routed to the agency (90 days), already redacted for it, so a
replay resends exactly what the agency was sent, after a fresh policy check.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from gateway.errors import ServiceUnavailable
from gateway.events.cloudevents import CloudEventDecodeError, from_kafka
from gateway.events.topics import ensure_topics, inbox_topic

READ_TIMEOUT_SECONDS = 30.0


async def inbox_since(
    bootstrap: str, agency: str, since: datetime, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Envelopes written to the inbox at or after ``since`` (at most ``limit``; the flag says
    whether more were left)."""
    await ensure_topics(bootstrap, [agency])
    tp = TopicPartition(inbox_topic(agency), 0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        found = (await consumer.offsets_for_times({tp: int(since.timestamp() * 1000)}))[tp]
        start = found.offset if found is not None else end
        consumer.seek(tp, start)
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + READ_TIMEOUT_SECONDS
        while await consumer.position(tp) < end and len(events) < limit:
            if time.monotonic() > deadline:
                raise ServiceUnavailable(
                    "Lecture de la boîte de réception trop lente ; réessayez.",
                    "Reading the inbox took too long; please retry.",
                    code="replay_unavailable",
                )
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=500)
            for record in batch.get(tp, []):
                if record.offset >= end or len(events) >= limit:
                    break
                try:
                    events.append(from_kafka(record.value, list(record.headers or ())))
                except CloudEventDecodeError:
                    continue  # the router never writes these
        truncated = len(events) >= limit and await consumer.position(tp) < end
        return events, truncated
    finally:
        await consumer.stop()
