"""The router's Kafka loop (``mno router``).

Consume-transform-produce in one Kafka transaction: the inbox copies and the consumed offsets
commit together, so a crash never leaves a copy without its offset or the reverse. Events
already routed (the relay delivers at least once) are skipped by event id. Poison messages go
to the dead-letter topic with the reason, and the router carries on.

Every copy passes the MoU policy decision point: the consent facts of the batch's subjects are
loaded once per batch (so a retry or a replay is decided on the consents of now), each recipient
is decided, and every decision (permit or deny) is audited with the policy version.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consumers.offsets import rewind
from consumers.router.service import (
    CONSENT_WITHDRAWN_TYPE,
    Decide,
    PoisonEvent,
    policy_decide,
    route,
)
from gateway.audit.service import AuditRecord, append
from gateway.consent import repository as consent_repository
from gateway.db.base import utcnow
from gateway.events.cloudevents import CloudEventDecodeError, from_kafka, to_kafka
from gateway.events.topics import (
    CONSENT_EVENTS,
    DEADLETTER,
    REFERRAL_EVENTS,
    ensure_topics,
    inbox_topic,
)
from gateway.outbox.processed import already_processed, mark_processed
from gateway.policy.service import (
    CONSENT_TYPE_PREFIX,
    REFERRAL_TYPE_PREFIX,
    PolicyDecisionPoint,
    default_decision_point,
)

logger = logging.getLogger("mno.router")
CONSUMER_NAME = "router"


class Router:
    def __init__(
        self,
        bootstrap: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        point: PolicyDecisionPoint | None = None,
        group_id: str = "mno-router",
        transactional_id: str = "mno-router-1",
        batch_size: int = 200,
    ) -> None:
        self.bootstrap = bootstrap
        self.sessionmaker = sessionmaker
        # Each router has its own caches: they hold facts of one database.
        self.point = point or default_decision_point()
        self.group_id = group_id
        self.transactional_id = transactional_id
        self.batch_size = batch_size
        self.routed = 0
        self.dead_lettered = 0
        self._known_inboxes: set[str] = set()
        self._ready = asyncio.Event()

    async def wait_ready(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def _ensure_inbox(self, agency: str) -> None:
        if agency not in self._known_inboxes:
            await ensure_topics(self.bootstrap, [agency])
            self._known_inboxes.add(agency)

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            REFERRAL_EVENTS,
            CONSENT_EVENTS,
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            transactional_id=self.transactional_id,
            enable_idempotence=True,
            acks="all",
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
            except Exception as exc:  # retriable (broker, database): rewind and try again
                logger.warning(
                    "routing batch failed, retrying",
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
        parsed: list[tuple[ConsumerRecord[bytes, bytes], dict[str, Any] | None, str | None]] = []
        for record in records:
            try:
                parsed.append((record, from_kafka(record.value, list(record.headers or ())), None))
            except CloudEventDecodeError as exc:
                parsed.append((record, None, str(exc)[:200]))
        ids = [env["id"] for _r, env, _e in parsed if env is not None]
        async with self.sessionmaker() as session:
            seen = await already_processed(session, CONSUMER_NAME, ids)
            fresh = [env for _r, env, _e in parsed if env is not None and env["id"] not in seen]
            decide, notify = await self._context(session, fresh)
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        handled: list[str] = []
        audits: list[AuditRecord] = []
        async with producer.transaction():
            for record, envelope, error in parsed:
                tp = TopicPartition(record.topic, record.partition)
                offsets[tp] = OffsetAndMetadata(record.offset + 1, "")
                if envelope is not None and envelope["id"] in seen:
                    continue
                if envelope is not None:
                    try:
                        copies, denials = route(
                            envelope, decide, notify=notify.get(_consent_id(envelope), ())
                        )
                    except PoisonEvent as exc:
                        error = str(exc)
                    else:
                        for copy in copies:
                            await self._ensure_inbox(copy.recipient)
                            value, headers = to_kafka(copy.envelope)
                            await producer.send(
                                inbox_topic(copy.recipient),
                                value=value,
                                key=record.key,
                                headers=headers,
                            )
                            audits.append(
                                _audit(
                                    envelope, copy.recipient, "permit", copy.decision.policy_version
                                )
                            )
                        for denial in denials:
                            audits.append(
                                _audit(
                                    envelope,
                                    denial.recipient,
                                    "deny",
                                    denial.decision.policy_version,
                                    ",".join(denial.decision.reasons),
                                )
                            )
                        seen.add(envelope["id"])
                        handled.append(envelope["id"])
                        self.routed += 1
                        continue
                await self._dead_letter(producer, record, error or "invalid event")
            await producer.send_offsets_to_transaction(offsets, self.group_id)
        if handled or audits:
            async with self.sessionmaker() as session:
                now = utcnow()
                for event_id in handled:
                    mark_processed(session, CONSUMER_NAME, event_id, now)
                for audit in audits:
                    await append(session, audit)
                await session.commit()

    async def _context(
        self, session: AsyncSession, envelopes: Sequence[dict[str, Any]]
    ) -> tuple[Decide, dict[str, tuple[str, ...]]]:
        """Preload what the batch's decisions need: consent facts, agency kinds, and the
        agencies each withdrawal must reach (those asked for a purge receipt)."""
        subjects: set[str] = set()
        agencies: set[str] = set()
        withdrawals: set[str] = set()
        for envelope in envelopes:
            event_type = str(envelope.get("type", ""))
            data = envelope.get("data")
            if not isinstance(data, dict):
                continue
            if event_type.startswith(REFERRAL_TYPE_PREFIX):
                subject = data.get("subject")
                if isinstance(subject, dict) and isinstance(subject.get("pseudonym"), str):
                    subjects.add(subject["pseudonym"])
                agencies.update(
                    a
                    for a in (data.get("referring_agency"), data.get("receiving_agency"))
                    if isinstance(a, str)
                )
            elif event_type == CONSENT_WITHDRAWN_TYPE:
                withdrawals.add(_consent_id(envelope))
        facts = await self.point.facts(session, subjects)
        kinds = await consent_repository.agency_kinds(session, agencies)
        notify: dict[str, list[str]] = {}
        for receipt in await consent_repository.receipts_of(session, withdrawals - {""}):
            notify.setdefault(receipt.consent_id, []).append(receipt.agency)
        return policy_decide(self.point, facts, kinds), {k: tuple(v) for k, v in notify.items()}

    async def _dead_letter(
        self, producer: AIOKafkaProducer, record: ConsumerRecord[bytes, bytes], reason: str
    ) -> None:
        headers = [
            *(record.headers or ()),
            ("mno_dlq_reason", reason.encode()),
            ("mno_dlq_source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        await producer.send(DEADLETTER, value=record.value, key=record.key, headers=headers)
        self.dead_lettered += 1
        logger.warning(
            "dead-lettered",
            extra={"topic": record.topic, "offset": record.offset, "reason": reason[:120]},
        )


def _consent_id(envelope: dict[str, Any]) -> str:
    if not str(envelope.get("type", "")).startswith(CONSENT_TYPE_PREFIX):
        return ""
    data = envelope.get("data")
    return str(data.get("id", "")) if isinstance(data, dict) else ""


def _audit(
    envelope: dict[str, Any],
    recipient: str | None,
    decision: str,
    policy_version: str,
    detail: str | None = None,
) -> AuditRecord:
    return AuditRecord(
        action="route." + str(envelope.get("type", ""))[:50],
        object_type="event",
        object_id=str(envelope.get("subject") or envelope["id"])[:64],
        decision=decision,
        agency=recipient,
        detail=(detail or str(envelope["id"]))[:128],
        policy_version=policy_version,
    )
