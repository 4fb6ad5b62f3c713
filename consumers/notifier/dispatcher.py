"""Webhook dispatch: per-endpoint lanes over the durable delivery queue.

Each pass takes, for every active endpoint with free capacity, the deliveries that may go now
(due, and first of their referral) and leases them; each attempt runs as its own task. An
endpoint's lane has its own capacity, so a slow or failing endpoint only ever holds its own
slots. A failing endpoint is paused and then probed one delivery at a time with backoff; after
``webhook_disable_after_failures`` consecutive failures (or one 410) it is disabled and the
agency's focal points get an e-mail. Attempts, outcomes and the next attempt time are in the
database, so a restart resumes where the last process stopped.

Outcomes are recorded in batches by one recorder task (one transaction for all the attempts
that finished meanwhile); a slot is freed only once its outcome is committed, so the next event
of the same referral is never sent before the previous one is recorded as delivered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from consumers.notifier.service import backoff_seconds
from consumers.notifier.sessions import SessionFactory, bookkeeping
from gateway.audit.service import AuditRecord, append
from gateway.db.base import utcnow
from gateway.notify.service import NoticeKind, NoticeRequest, queue_notices
from gateway.settings import Settings
from gateway.subscriptions import repository
from gateway.subscriptions.models import WebhookEndpoint
from gateway.subscriptions.policy import DeliveryPolicy
from gateway.subscriptions.repository import ClaimedDelivery
from gateway.subscriptions.signing import SecretBox
from gateway.subscriptions.webhooks import AttemptResult, event_body, post_webhook

logger = logging.getLogger("mno.notifier.webhooks")


@dataclass(frozen=True)
class Target:
    endpoint_id: str
    agency: str
    url: str
    secret: str
    failing: bool  # when claimed: a success must then reset the endpoint's failure count


@dataclass(frozen=True)
class Outcome:
    target: Target
    claimed: ClaimedDelivery
    result: AttemptResult


class Dispatcher:
    def __init__(
        self,
        sessionmaker: SessionFactory,
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
        self.lease = timedelta(seconds=settings.webhook_timeout_seconds + 3.0)
        self._inflight: dict[str, set[int]] = defaultdict(set)
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: list[Outcome] = []
        self._outcome_ready = asyncio.Event()
        self._closing = False
        self._wake = asyncio.Event()
        self._dirty: set[str] | None = None  # endpoints to look at on the next pass; None: all
        self.delivered = 0
        self.failed_attempts = 0
        self.on_notices: list[asyncio.Event] = []  # woken when a disable queues an e-mail

    def wake(self, endpoint_ids: Iterable[str] | None = None) -> None:
        """Look again at these endpoints (new deliveries, a freed slot), or at all of them."""
        if endpoint_ids is None:
            self._dirty = None
        elif self._dirty is not None:
            self._dirty.update(endpoint_ids)
        self._wake.set()

    def _capacity(self, endpoint: WebhookEndpoint) -> int:
        # A failing endpoint is probed with one delivery at a time, not hammered.
        if endpoint.consecutive_failures > 0:
            return 1
        return self.settings.webhook_concurrency_per_endpoint

    async def run(self, stop: asyncio.Event) -> None:
        recorder = asyncio.create_task(self._recorder(), name="webhook-recorder")
        try:
            while not stop.is_set():
                self._wake.clear()
                dirty, self._dirty = self._dirty, set()
                try:
                    claimed = await self._pass(dirty)
                    woken = await self._sleep(stop, idle=claimed == 0)
                except Exception as exc:  # the database: look at everything again shortly
                    logger.warning("dispatch pass failed", extra={"error_type": type(exc).__name__})
                    woken = False
                    await asyncio.sleep(self.settings.notifier_poll_seconds)
                if not woken:
                    self._dirty = None  # a timer: backoffs, pauses or leases may have ended
        except BaseException:
            # A crash or a kill: attempts in flight stop now; their leases run out and the
            # next pass (of this process or another) sends them again.
            for task in [*self._tasks, recorder]:
                task.cancel()
            raise
        # Stopping: attempts in flight finish (bounded by their timeout) and are recorded.
        if self._tasks:
            _done, pending = await asyncio.wait(
                self._tasks, timeout=self.settings.webhook_timeout_seconds + 1
            )
            for task in pending:
                task.cancel()
        self._closing = True
        self._outcome_ready.set()
        await recorder

    async def _sleep(self, stop: asyncio.Event, *, idle: bool) -> bool:
        """Wait for a wake-up (``True``) or the next timer (``False``)."""
        timeout = self.settings.notifier_poll_seconds
        if idle and not self._tasks:
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
        return self._wake.is_set() or stop.is_set()

    async def _pass(self, dirty: set[str] | None) -> int:
        """Claim what may go now for the endpoints to look at (``None``: all of them)."""
        if dirty is not None and not dirty:
            return 0
        now = utcnow()
        batches: list[tuple[Target, list[ClaimedDelivery]]] = []
        async with self.sessionmaker() as session:
            await bookkeeping(session)
            for endpoint in await repository.dispatchable_endpoints(session, now):
                if dirty is not None and endpoint.id not in dirty:
                    continue
                mine = self._inflight[endpoint.id]
                free = self._capacity(endpoint) - len(mine)
                if free <= 0:
                    continue
                heads = await repository.due_heads(session, endpoint.id, now, free + len(mine))
                heads = [h for h in heads if h not in mine][:free]
                claimed = await repository.claim(
                    session, heads, self.worker_id, now, now + self.lease
                )
                if claimed:
                    target = Target(
                        endpoint.id,
                        endpoint.agency,
                        endpoint.url,
                        self.box.open(endpoint.secret, endpoint.id),
                        endpoint.consecutive_failures > 0 or endpoint.retry_at is not None,
                    )
                    batches.append((target, claimed))
            await session.commit()
        count = 0
        for target, claimed_rows in batches:
            for one in claimed_rows:
                self._inflight[target.endpoint_id].add(one.delivery_id)
                task = asyncio.create_task(self._attempt(target, one))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                count += 1
        return count

    async def _attempt(self, target: Target, claimed: ClaimedDelivery) -> None:
        recorded = False
        try:
            body = claimed.body
            if claimed.attempts > 0:
                permitted = await self._recheck(target, claimed)
                if permitted is None:
                    return
                body = permitted
            result = await post_webhook(
                self.http,
                url=target.url,
                secret=target.secret,
                msg_id=claimed.event_id,
                body=body,
                timeout=self.settings.webhook_timeout_seconds,
            )
            self._outcomes.append(Outcome(target, claimed, result))
            self._outcome_ready.set()
            recorded = True  # the recorder frees the slot once the outcome is committed
        except Exception as exc:  # a database hiccup: the lease runs out and it is retried
            logger.warning(
                "webhook attempt failed before sending",
                extra={"endpoint": target.endpoint_id, "error_type": type(exc).__name__},
            )
        finally:
            if not recorded:
                self._inflight[target.endpoint_id].discard(claimed.delivery_id)
                self.wake([target.endpoint_id])

    def _take_outcomes(self) -> list[Outcome]:
        batch, self._outcomes = self._outcomes, []
        self._outcome_ready.clear()
        return batch

    async def _recorder(self) -> None:
        while True:
            await self._outcome_ready.wait()
            await self._record(self._take_outcomes())
            if self._closing and not self._outcomes:
                return

    async def _record(self, batch: list[Outcome]) -> None:
        if not batch:
            return
        try:
            await self._record_batch(batch)
        except Exception as exc:  # the leases run out and these are sent again
            logger.warning(
                "webhook outcomes not recorded",
                extra={"error_type": type(exc).__name__, "outcomes": len(batch)},
            )
        finally:
            for outcome in batch:
                self._inflight[outcome.target.endpoint_id].discard(outcome.claimed.delivery_id)
            self.wake({outcome.target.endpoint_id for outcome in batch})

    async def _recheck(self, target: Target, claimed: ClaimedDelivery) -> str | None:
        """A retry is a new copy leaving: a consent withdrawn meanwhile stops it, and a copy
        the policy now permits less of goes out (and stays) redacted. The body to send, or
        None when refused."""
        envelope = json.loads(claimed.body)
        async with self.sessionmaker() as session:
            verdict = await self.policy(session, recipient=target.agency, envelope=envelope)
            if verdict.permit:
                if verdict.envelope is None:
                    return claimed.body
                body = event_body(verdict.envelope)
                if body != claimed.body:
                    delivery = await repository.get_delivery(session, claimed.delivery_id)
                    if delivery is not None and delivery.status == "pending":
                        delivery.body = body
                        await session.commit()
                return body
            delivery = await repository.get_delivery(session, claimed.delivery_id)
            if delivery is not None and delivery.status == "pending":
                delivery.status = "cancelled"
                delivery.last_error = "policy_denied"
                delivery.claimed_by = None
                delivery.claimed_until = None
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
        return None

    async def _record_batch(self, batch: list[Outcome]) -> None:
        now = utcnow()
        succeeded = [o for o in batch if o.result.ok]
        failed = [o for o in batch if not o.result.ok]
        disabled: list[tuple[Target, str]] = []
        async with self.sessionmaker() as session:
            await bookkeeping(session)
            if succeeded:
                await repository.mark_delivered(
                    session,
                    [(o.claimed.delivery_id, o.result.status_code or 200) for o in succeeded],
                    now,
                )
                recovered = {o.target.endpoint_id for o in succeeded if o.target.failing}
                for endpoint_id in sorted(recovered):
                    await repository.count_success(session, endpoint_id)
            for outcome in failed:
                reason = await self._record_failure(session, outcome, now)
                if reason is not None:
                    disabled.append((outcome.target, reason))
            for target, reason in disabled:
                await self._disabled(session, target, reason, now.isoformat())
            await session.commit()
        self.delivered += len(succeeded)
        self.failed_attempts += len(failed)
        for outcome in failed:
            logger.info(
                "webhook attempt failed",
                extra={
                    "endpoint": outcome.target.endpoint_id,
                    "status_code": outcome.result.status_code,
                    "error": outcome.result.error,
                    "attempt": outcome.claimed.attempts + 1,
                },
            )
        if disabled:
            for event in self.on_notices:
                event.set()

    async def _record_failure(
        self, session: AsyncSession, outcome: Outcome, now: datetime
    ) -> str | None:
        """Record one failed attempt; the reason if it disabled the endpoint."""
        settings = self.settings
        target, result = outcome.target, outcome.result
        delivery = await repository.get_delivery(session, outcome.claimed.delivery_id)
        if delivery is None or delivery.status != "pending":
            return None  # cancelled meanwhile (subscription deleted)
        delivery.attempts += 1
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error
        delivery.claimed_by = None
        delivery.claimed_until = None
        disabled_for: str | None = None
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
        return disabled_for

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
