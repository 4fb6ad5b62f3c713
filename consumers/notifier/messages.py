"""E-mail and SMS to focal points, from the durable notice queue; the overdue check.

Notices are rows written in the same transaction as the event that caused them; this loop sends
the due ones, retries failures with backoff and marks the rest dead after
``notify_max_attempts``. A channel that is not configured marks its notices ``skipped``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

import httpx

from consumers.notifier.service import backoff_seconds
from consumers.notifier.sessions import SessionFactory
from gateway.db.base import utcnow
from gateway.notify import repository
from gateway.notify.messages import render_email, render_sms
from gateway.notify.models import AgencyContact, Notice
from gateway.notify.senders import NoticeFailed, send_email, send_sms
from gateway.notify.service import queue_overdue_notices
from gateway.settings import Settings

logger = logging.getLogger("mno.notifier.notices")

BATCH = 50
CONCURRENCY = 8
LEASE = timedelta(seconds=60)
NOT_CONFIGURED = ("smtp_not_configured", "sms_not_configured")


class NoticeSender:
    def __init__(
        self,
        sessionmaker: SessionFactory,
        settings: Settings,
        http: httpx.AsyncClient,
        *,
        worker_id: str | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.http = http
        self.worker_id = worker_id or f"notices-{uuid.uuid4().hex[:12]}"
        self.base_url = settings.public_base_url or settings.issuer
        self.wake_event = asyncio.Event()
        self.sent = 0

    def wake(self) -> None:
        self.wake_event.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake_event.clear()
            try:
                if await self._pass():
                    continue
                await self._sleep(stop)
            except Exception as exc:  # the database: try again after a pause
                logger.warning("notice pass failed", extra={"error_type": type(exc).__name__})
                await asyncio.sleep(self.settings.notifier_poll_seconds)

    async def _sleep(self, stop: asyncio.Event) -> None:
        timeout = self.settings.notifier_poll_seconds
        async with self.sessionmaker() as session:
            now = utcnow()
            wake_at = await repository.next_notice_at(session, now)
        if wake_at is not None:
            timeout = min(timeout, max(0.0, (wake_at - now).total_seconds()) + 0.005)
        waiters = [
            asyncio.ensure_future(self.wake_event.wait()),
            asyncio.ensure_future(stop.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _pass(self) -> bool:
        now = utcnow()
        async with self.sessionmaker() as session:
            due = await repository.due_notices(session, now, BATCH)
            claimed = await repository.claim_notices(session, due, self.worker_id, now, now + LEASE)
            rows = await repository.notices_with_contacts(session, claimed)
            await session.commit()
        if not rows:
            return False
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(notice: Notice, contact: AgencyContact) -> None:
            async with limit:
                await self._send(notice, contact)

        await asyncio.gather(*(one(n, c) for n, c in rows))
        return len(rows) == BATCH

    async def _send(self, notice: Notice, contact: AgencyContact) -> None:
        error: NoticeFailed | None = None
        try:
            if contact.channel == "email":
                subject, body = render_email(
                    notice.kind, notice.context, notice.agency, self.base_url
                )
                await send_email(self.settings, to=contact.address, subject=subject, body=body)
            else:
                text = render_sms(notice.kind, notice.context, notice.agency, self.base_url)
                await send_sms(self.http, self.settings, to=contact.address, text=text)
        except NoticeFailed as exc:
            error = exc
        except Exception as exc:  # a template or context that cannot render: never retried
            error = NoticeFailed(f"render:{type(exc).__name__}", permanent=True)
        await self._record(notice.id, error)

    async def _record(self, notice_id: int, error: NoticeFailed | None) -> None:
        now = utcnow()
        async with self.sessionmaker() as session:
            notice = await session.get(Notice, notice_id)
            if notice is None or notice.status != "pending":
                return
            notice.attempts += 1
            notice.claimed_by = None
            notice.claimed_until = None
            if error is None:
                notice.status = "sent"
                notice.sent_at = now
                notice.last_error = None
            elif error.reason in NOT_CONFIGURED:
                notice.status = "skipped"
                notice.last_error = error.reason
            elif error.permanent or notice.attempts >= self.settings.notify_max_attempts:
                notice.status = "dead"
                notice.last_error = error.reason
            else:
                notice.last_error = error.reason
                delay = backoff_seconds(
                    notice.attempts,
                    self.settings.webhook_backoff_base_seconds,
                    self.settings.webhook_backoff_max_seconds,
                )
                notice.next_attempt_at = now + timedelta(seconds=delay)
            await session.commit()
        if error is None:
            self.sent += 1
        else:
            logger.info("notice not sent", extra={"notice": notice_id, "reason": error.reason})


class OverdueCheck:
    """Every ``notifier_overdue_interval_seconds``: a notice per missed SOP deadline, once."""

    def __init__(
        self,
        sessionmaker: SessionFactory,
        settings: Settings,
        sender: NoticeSender,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.sender = sender

    async def check_once(self) -> int:
        async with self.sessionmaker() as session:
            queued = await queue_overdue_notices(session, utcnow())
            await session.commit()
        if queued:
            self.sender.wake()
        return queued

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.check_once()
            except Exception as exc:  # the next round tries again
                logger.warning("overdue check failed", extra={"error_type": type(exc).__name__})
            try:
                await asyncio.wait_for(
                    stop.wait(), timeout=self.settings.notifier_overdue_interval_seconds
                )
            except TimeoutError:
                pass
