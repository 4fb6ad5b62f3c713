"""The linkage worker's Kafka loop (``mno linkage-worker``, started by ``mno run``).

It reads ``ReferralSubmitted`` from the canonical referral topic and links each referral staged
by the submission (``linkage_pending``) to the pseudonymous subjects of the assistance ledger,
writing the ledger and, for a suspected repeat, a ``DuplicateAssistanceSuspected`` event to the
outbox, in one database transaction per batch; the offsets are committed after it. A
redelivered event finds nothing waiting and changes nothing, so no ``processed_events`` entry is
needed. At start, and whenever it has been idle for a while, the worker also links what is still
waiting (events it missed while it was not deployed, or a referral that failed before).

Records it cannot read are left to the router, which dead-letters them; a referral whose
linking fails again on its own is logged by id and left waiting for the next catch-up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consumers.offsets import next_offsets, rewind
from gateway.events.cloudevents import CloudEventDecodeError, from_kafka
from gateway.events.topics import REFERRAL_EVENTS, ensure_topics
from gateway.linkage.service import DuplicateRule, link_pending, link_referral
from schemas.events import ReferralSubmitted

logger = logging.getLogger("mno.linkage")

DEFAULT_GROUP = "mno-linkage"
SUBMITTED = ReferralSubmitted.event_type
CATCH_UP_EVERY_S = 60.0


def submitted_ids(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[str]:
    """The referral ids of the ``ReferralSubmitted`` events among the records, in order."""
    ids: list[str] = []
    for record in records:
        try:
            envelope = from_kafka(record.value, list(record.headers or ()))
        except CloudEventDecodeError:
            continue  # the router dead-letters it
        if envelope.get("type") != SUBMITTED:
            continue
        data = envelope.get("data")
        referral_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(referral_id, str) and len(referral_id) <= 36:
            ids.append(referral_id)
    return list(dict.fromkeys(ids))


class LinkageWorker:
    def __init__(
        self,
        bootstrap: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        secret: bytes,
        rule: DuplicateRule | None = None,
        group_id: str = DEFAULT_GROUP,
        batch_size: int = 200,
    ) -> None:
        self.bootstrap = bootstrap
        self.sessionmaker = sessionmaker
        self.secret = secret
        self.rule = rule or DuplicateRule()
        self.group_id = group_id
        self.batch_size = batch_size
        self.linked = 0
        self.failed = 0
        self._ready = asyncio.Event()

    async def wait_ready(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def catch_up(self) -> int:
        """Link every referral still waiting, oldest first, a batch per transaction."""
        total = 0
        while True:
            async with self.sessionmaker() as session:
                done = await link_pending(
                    session, secret=self.secret, rule=self.rule, limit=self.batch_size
                )
                await session.commit()
            total += done
            if done < self.batch_size:
                break
        self.linked += total
        return total

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_topics(self.bootstrap, [])
        consumer = AIOKafkaConsumer(
            REFERRAL_EVENTS,
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        await consumer.start()
        try:
            await self.catch_up()
            self._ready.set()
            await self._loop(consumer, stop)
        finally:
            await consumer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        backoff = 0.2
        idle_since = time.monotonic()
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=self.batch_size)
            records = [r for tp_records in batches.values() for r in tp_records]
            if not records:
                if time.monotonic() - idle_since > CATCH_UP_EVERY_S:
                    await self.catch_up()
                    idle_since = time.monotonic()
                continue
            idle_since = time.monotonic()
            try:
                await self._handle(records)
            except Exception as exc:  # retriable (database): rewind and try again
                logger.warning(
                    "linkage batch failed, retrying",
                    extra={"error_type": type(exc).__name__, "records": len(records)},
                )
                rewind(consumer, records)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.2
            await consumer.commit(next_offsets(records))

    async def _handle(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        ids = submitted_ids(records)
        if not ids:
            return
        try:
            async with self.sessionmaker() as session:
                done = [await self._link(session, referral_id) for referral_id in ids]
                await session.commit()
            self.linked += sum(done)
            return
        except Exception as exc:
            logger.warning(
                "linkage batch failed, linking one by one",
                extra={"error_type": type(exc).__name__, "records": len(ids)},
            )
        for referral_id in ids:  # one failing referral must not hold the others back
            try:
                async with self.sessionmaker() as session:
                    self.linked += await self._link(session, referral_id)
                    await session.commit()
            except Exception as exc:
                self.failed += 1
                logger.error(
                    "linkage failed, left waiting",
                    extra={"referral_id": referral_id, "error_type": type(exc).__name__},
                )

    async def _link(self, session: AsyncSession, referral_id: str) -> int:
        found = await link_referral(session, referral_id, secret=self.secret, rule=self.rule)
        return 0 if found is None else 1
