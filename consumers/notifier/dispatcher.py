"""Webhook dispatch: per-endpoint lanes over the durable delivery queue.

Each pass takes, for every active endpoint with free capacity, the deliveries that may go now
(due, and first of their referral) and leases them; each attempt runs as its own task. An
endpoint's lane has its own capacity, so a slow or failing endpoint only ever holds its own
slots. A failing endpoint is paused and then probed one delivery at a time with backoff; after
``webhook_disable_after_failures`` consecutive failures (or one 410) it is disabled and the
agency's focal points get an e-mail. Attempts, outcomes and the next attempt time are in the
database, so a restart resumes where the last process stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consumers.notifier.service import backoff_seconds
from gateway.audit.service import AuditRecord, append
from gateway.db.base import utcnow
from gateway.notify.service import NoticeKind, NoticeRequest, queue_notices
from gateway.settings import Settings
from gateway.subscriptions import repository
from gateway.subscriptions.models import WebhookEndpoint
from gateway.subscriptions.policy import DeliveryPolicy
from gateway.subscriptions.signing import SecretBox
from gateway.subscriptions.webhooks import AttemptResult, post_webhook

logger = logging.getLogger("mno.notifier.webhooks")


@dataclass(frozen=True)
class Target:
    endpoint_id: str
    agency: str
    url: str
    secret: str


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    event_id: str
    body: str
    attempts: int


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        http: httpx.AsyncClient,
        policy: DeliveryPolicy,
        *,
        worker_id: str | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.http = http
        self.policy = policy
        self.box = SecretBox(settings.secret_key.get_secret_value())
        self.worker_id = worker_id or f"notifier-{uuid.uuid4().hex[:12]}"
        self.lease = timedelta(seconds=settings.webhook_timeout_seconds + 2.0)
        self._inflight: dict[str, set[int]] = defaultdict(set)
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self.delivered = 0
        self.failed_attempts = 0
        self.on_notices: list[asyncio.Event] = []  # woken when a disable queues an e-mail

    def wake(self) -> None:
        self._wake.set()

    def _capacity(self, endpoint: WebhookEndpoint) -> int:
        # A failing endpoint is probed with one delivery at a time, not hammered.
        if endpoint.consecutive_failures > 0:
            return 1
        return self.settings.webhook_concurrency_per_endpoint

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                self._wake.clear()
                await self._pass()
                await self._sleep(stop)
        except BaseException:
            # A crash or a kill: attempts in flight stop now; their leases run out and the
            # next pass (of this process or another) sends them again.
            for task in list(self._tasks):
                task.cancel()
            raise
        await self._drain()

    async def _drain(self) -> None:
        """Let attempts in flight finish (bounded by their timeout), then give up on the rest:
        their leases expire and another pass sends them again."""
        if self._tasks:
            _done, pending = await asyncio.wait(
                self._tasks, timeout=self.settings.webhook_timeout_seconds + 1
            )
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _sleep(self, stop: asyncio.Event) -> None:
        timeout = self.settings.notifier_poll_seconds
        async with self.sessionmaker() as session:
            now = utcnow()
            wake_at = await repository.next_wake_at(session, now)
        if wake_at is not None:
            timeout = min(timeout, max(0.0, (wake_at - now).total_seconds()) + 0.005)
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _pass(self) -> None:
        now = utcnow()
        batches: list[tuple[Target, list[Claimed]]] = []
        async with self.sessionmaker() as session:
            for endpoint in await repository.dispatchable_endpoints(session, now):
                mine = self._inflight[endpoint.id]
                free = self._capacity(endpoint) - len(mine)
                if free <= 0:
                    continue
                heads = await repository.due_heads(session, endpoint.id, now, free + len(mine))
                heads = [h for h in heads if h not in mine][:free]
                claimed_ids = await repository.claim(
                    session, heads, self.worker_id, now, now + self.lease
                )
                if not claimed_ids:
                    continue
                target = Target(
                    endpoint.id,
                    endpoint.agency,
                    endpoint.url,
                    self.box.open(endpoint.secret, endpoint.id),
                )
                rows = await repository.deliveries(session, claimed_ids)
                batches.append(
                    (target, [Claimed(d.id, d.event_id, d.body, d.attempts) for d in rows])
                )
            await session.commit()
        for target, claimed_rows in batches:
            for claimed in claimed_rows:
                self._inflight[target.endpoint_id].add(claimed.delivery_id)
                task = asyncio.create_task(self._attempt(target, claimed))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _attempt(self, target: Target, claimed: Claimed) -> None:
        try:
            if claimed.attempts > 0 and not await self._still_permitted(target, claimed):
                return
            result = await post_webhook(
                self.http,
                url=target.url,
                secret=target.secret,
                msg_id=claimed.event_id,
                body=claimed.body,
                timeout=self.settings.webhook_timeout_seconds,
            )
            await self._record(target, claimed, result)
        except Exception as exc:  # a database hiccup: the lease runs out and it is retried
            logger.warning(
                "webhook attempt not recorded",
                extra={"endpoint": target.endpoint_id, "error_type": type(exc).__name__},
            )
        finally:
            self._inflight[target.endpoint_id].discard(claimed.delivery_id)
            self.wake()

    async def _still_permitted(self, target: Target, claimed: Claimed) -> bool:
        """A retry is a new copy leaving: a consent withdrawn meanwhile stops it."""
        envelope = json.loads(claimed.body)
        async with self.sessionmaker() as session:
            verdict = await self.policy(session, recipient=target.agency, envelope=envelope)
            if verdict.permit:
                return True
            delivery = await repository.get_delivery(session, claimed.delivery_id)
            if delivery is not None and delivery.status == "pending":
                delivery.status = "cancelled"
                delivery.last_error = "policy_denied"
                delivery.claimed_by = delivery.claimed_until = None
            await append(
                session,
                AuditRecord(
                    action="webhook.retry",
                    object_type="event",
                    object_id=str(envelope.get("subject") or claimed.event_id)[:64],
                    decision="deny",
                    agency=target.agency,
                    detail=(",".join(verdict.reasons) or claimed.event_id)[:128],
                    policy_version=verdict.policy_version[:64],
                ),
            )
            await session.commit()
        return False

    async def _record(self, target: Target, claimed: Claimed, result: AttemptResult) -> None:
        settings = self.settings
        now = utcnow()
        disabled_for: str | None = None
        async with self.sessionmaker() as session:
            delivery = await repository.get_delivery(session, claimed.delivery_id)
            if delivery is None or delivery.status != "pending":
                return  # cancelled meanwhile (subscription deleted)
            delivery.attempts += 1
            delivery.last_status_code = result.status_code
            delivery.last_error = result.error
            delivery.claimed_by = None
            delivery.claimed_until = None
            if result.ok:
                delivery.status = "delivered"
                delivery.delivered_at = now
                await repository.count_success(session, target.endpoint_id)
            else:
                if result.gone:
                    # 410: the receiver asks us to stop for good.
                    if await repository.disable(session, target.endpoint_id, "gone", now):
                        disabled_for = "gone"
                else:
                    counted = await repository.count_failure(session, target.endpoint_id)
                    failures, status = counted if counted is not None else (0, "deleted")
                    pause = backoff_seconds(
                        failures,
                        settings.webhook_backoff_base_seconds,
                        settings.webhook_backoff_max_seconds,
                    )
                    await repository.set_retry_at(
                        session, target.endpoint_id, now + timedelta(seconds=pause)
                    )
                    if failures >= settings.webhook_disable_after_failures and status == "active":
                        if await repository.disable(session, target.endpoint_id, "failures", now):
                            disabled_for = "failures"
                if delivery.attempts >= settings.webhook_max_attempts:
                    delivery.status = "dead"
                else:
                    delay = backoff_seconds(
                        delivery.attempts,
                        settings.webhook_backoff_base_seconds,
                        settings.webhook_backoff_max_seconds,
                    )
                    delivery.next_attempt_at = now + timedelta(seconds=delay)
            if disabled_for is not None:
                await self._disabled(session, target, disabled_for, now.isoformat())
            await session.commit()
        if result.ok:
            self.delivered += 1
        else:
            self.failed_attempts += 1
            logger.info(
                "webhook attempt failed",
                extra={
                    "endpoint": target.endpoint_id,
                    "status_code": result.status_code,
                    "error": result.error,
                    "attempt": claimed.attempts + 1,
                },
            )
        if disabled_for is not None:
            for event in self.on_notices:
                event.set()

    async def _disabled(self, session: AsyncSession, target: Target, reason: str, at: str) -> None:
        logger.warning(
            "webhook endpoint disabled", extra={"endpoint": target.endpoint_id, "reason": reason}
        )
        await append(
            session,
            AuditRecord(
                action="subscription.disable",
                object_type="subscription",
                object_id=target.endpoint_id,
                agency=target.agency,
                detail=reason,
            ),
        )
        await queue_notices(
            session,
            [
                NoticeRequest(
                    target.agency,
                    NoticeKind.WEBHOOK_DISABLED,
                    f"webhook_disabled:{target.endpoint_id}:{at}",
                    {"subscription_id": target.endpoint_id, "url": target.url, "reason": reason},
                )
            ],
        )
