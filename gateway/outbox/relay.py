"""The outbox relay (``mno relay``): publishes committed events to Kafka, at least once.

Rows are marked sent only after the broker acknowledged them (idempotent producer,
``acks=all``). While the broker is down the relay keeps retrying with backoff; nothing is lost
because the rows stay in the database. On PostgreSQL several relays may run: rows are claimed
with ``FOR UPDATE SKIP LOCKED`` and a lease. On SQLite run a single relay.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Sequence
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.base import utcnow
from gateway.events.cloudevents import to_kafka
from gateway.outbox import repository
from gateway.outbox.models import OutboxEvent

logger = logging.getLogger("mno.relay")


class Relay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bootstrap: str,
        *,
        batch_size: int = 500,
        lease_seconds: float = 30.0,
        idle_sleep: float = 0.05,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bootstrap = bootstrap
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_seconds)
        self.idle_sleep = idle_sleep
        self.relay_id = f"relay-{uuid.uuid4().hex[:12]}"
        self.published = 0
        self._producer: AIOKafkaProducer | None = None

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                enable_idempotence=True,
                acks="all",
                linger_ms=2,
                request_timeout_ms=10_000,
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception:  # a dead broker may fail the flush; the rows are still pending
                logger.warning("producer stop failed", exc_info=True)

    async def _claim(self) -> Sequence[OutboxEvent]:
        async with self.sessionmaker() as session:
            now = utcnow()
            rows = await repository.claim_batch(
                session,
                relay_id=self.relay_id,
                now=now,
                lease_until=now + self.lease,
                limit=self.batch_size,
            )
            await session.commit()
            return rows

    async def publish_once(self) -> int:
        """Claim one batch, publish it, mark it sent. Returns how many were published."""
        rows = await self._claim()
        if not rows:
            return 0
        ids = [row.id for row in rows]
        try:
            producer = await self._ensure_producer()
            futures = []
            for row in rows:
                value, headers = to_kafka(json.loads(row.envelope))
                futures.append(
                    await producer.send(
                        row.topic, value=value, key=row.key.encode(), headers=headers
                    )
                )
            await asyncio.gather(*futures)
        except Exception as exc:
            async with self.sessionmaker() as session:
                await repository.release(session, ids, type(exc).__name__)
                await session.commit()
            await self._drop_producer()
            raise
        async with self.sessionmaker() as session:
            await repository.mark_sent(session, ids, utcnow())
            await session.commit()
        self.published += len(ids)
        return len(ids)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        try:
            while not stop.is_set():
                try:
                    sent = await self.publish_once()
                    backoff = 0.2
                except Exception as exc:  # broker down or unreachable: keep the rows, retry
                    logger.warning(
                        "publish failed, retrying (%s)",
                        type(exc).__name__,
                        extra={"retry_in_s": round(backoff, 2)},
                    )
                    await _sleep_or_stop(stop, backoff * (0.5 + random.random()))  # noqa: S311
                    backoff = min(backoff * 2, 5.0)
                    continue
                if sent == 0:
                    await _sleep_or_stop(stop, self.idle_sleep)
        finally:
            await self._drop_producer()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
