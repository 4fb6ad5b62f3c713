"""Webhook delivery against real local receivers, on both databases: retries with backoff,
timeouts, 410, disabling, dead letters, ordering per referral, restarts."""

from __future__ import annotations

import asyncio
import time
import uuid

from standardwebhooks import Webhook

from tests.consumers.notifier.conftest import Lanes, envelope
from tests.gateway.subscriptions.receiver import Receiver, Request


async def test_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt(
    lanes: Lanes,
) -> None:
    async def flaky(_request: Request, attempt: int) -> int:
        return 503 if attempt <= 3 else 200

    async with Receiver(flaky) as receiver:
        endpoint_id, secret = await lanes.endpoint(receiver.url)
        event = envelope(str(uuid.uuid4()), 1)
        await lanes.enqueue(endpoint_id, [event])
        lanes.start()
        [delivery] = await lanes.wait_statuses(endpoint_id, lambda s: s == ["delivered"])
    assert delivery.attempts == 4
    assert delivery.last_status_code == 200
    assert [r.status for r in receiver.events] == [503, 503, 503, 200]
    # Same id on every attempt, each freshly signed; the body is the structured CloudEvent.
    assert {r.webhook_id for r in receiver.events} == {event["id"]}
    for request in receiver.events:
        assert Webhook(secret).verify(request.body, request.headers) == event
    # Exponential backoff with jitter: each wait at least half of base·2^(n-1).
    gaps = [b.at - a.at for a, b in zip(receiver.events, receiver.events[1:], strict=False)]
    assert gaps[0] >= 0.025, gaps
    assert gaps[1] >= 0.05, gaps
    assert gaps[2] >= 0.1, gaps
    assert (await lanes.endpoint_row(endpoint_id)).consecutive_failures == 0


async def test_timeouts_are_retried_then_dead_lettered_and_never_delay_another_endpoint(
    lanes: Lanes,
) -> None:
    lanes.overrides = {"webhook_max_attempts": 2, "webhook_timeout_seconds": 0.8}

    async def hang(_request: Request, _attempt: int) -> int:
        await asyncio.sleep(3)
        return 200

    async with Receiver(hang) as slow, Receiver() as fast:
        slow_id, _ = await lanes.endpoint(slow.url)
        fast_id, _ = await lanes.endpoint(fast.url)
        await lanes.enqueue(slow_id, [envelope(str(uuid.uuid4()), n) for n in range(2)])
        lanes.start()
        await asyncio.sleep(0.1)  # the slow endpoint's attempts are in flight
        started = time.monotonic()
        await lanes.enqueue(fast_id, [envelope(str(uuid.uuid4()), n) for n in range(12)])
        await lanes.wait_statuses(fast_id, lambda s: s == ["delivered"] * 12)
        fast_took = time.monotonic() - started
        dead = await lanes.wait_statuses(slow_id, lambda s: s.count("dead") >= 2, timeout=20)
    assert fast_took < 0.8, fast_took  # less than one timeout of the slow endpoint
    first_dead = [d for d in dead if d.status == "dead"][0]
    assert first_dead.attempts == 2
    assert first_dead.last_error == "timeout"
    assert first_dead.last_status_code is None
    assert (await lanes.endpoint_row(fast_id)).status == "active"


async def test_410_gone_disables_the_endpoint_at_once_and_emails_the_agency(
    lanes: Lanes,
) -> None:
    async def gone(_request: Request, _attempt: int) -> int:
        return 410

    async with Receiver(gone) as receiver:
        endpoint_id, secret = await lanes.endpoint(receiver.url)
        await lanes.enqueue(endpoint_id, [envelope(str(uuid.uuid4()), n) for n in range(3)])
        lanes.start()
        [mail] = await lanes.mailbox.wait_for(1)
        sent_before = len(receiver.events)
        await asyncio.sleep(0.5)  # nothing more may be sent
    endpoint = await lanes.endpoint_row(endpoint_id)
    assert endpoint.status == "disabled"
    assert endpoint.disabled_reason == "gone"
    # Only the first round, already in flight when the first 410 came back; no retry.
    assert len(receiver.events) == sent_before
    assert len({r.webhook_id for r in receiver.events}) == len(receiver.events)
    statuses = [d.status for d in await lanes.deliveries(endpoint_id)]
    assert statuses == ["pending"] * 3  # kept for when the agency enables it again
    assert mail.recipients == ["webhooks@agence-w.example.org"]
    assert mail.subject == "[MNO] Webhook désactivé / Webhook disabled"
    assert "410 Gone" in mail.text
    assert "127.0.0.1" in mail.text
    assert mail.text.index("désactivé") < mail.text.index("disabled")
    assert secret.removeprefix("whsec_") not in mail.text


async def test_consecutive_failures_disable_the_endpoint_at_the_threshold(lanes: Lanes) -> None:
    lanes.overrides = {"webhook_disable_after_failures": 4, "webhook_max_attempts": 20}

    async def broken(_request: Request, _attempt: int) -> int:
        return 500

    async with Receiver(broken) as receiver:
        endpoint_id, _ = await lanes.endpoint(receiver.url)
        await lanes.enqueue(endpoint_id, [envelope(str(uuid.uuid4()), n) for n in range(10)])
        lanes.start()
        [mail] = await lanes.mailbox.wait_for(1)
        await asyncio.sleep(0.3)
    endpoint = await lanes.endpoint_row(endpoint_id)
    assert endpoint.status == "disabled"
    assert endpoint.disabled_reason == "failures"
    assert endpoint.consecutive_failures >= 4
    # Once failing, the endpoint is probed one delivery at a time, not hammered.
    assert len(receiver.events) <= 4 + lanes.settings.webhook_concurrency_per_endpoint
    assert "trop d'échecs consécutifs" in mail.text


async def test_events_of_one_referral_go_in_order_even_when_one_fails(lanes: Lanes) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    events = [envelope(ref, n) for n in range(1, 4) for ref in (first, second)]
    failing_id = events[0]["id"]  # first event of the first referral

    async def fail_first_twice(request: Request, attempt: int) -> int:
        return 500 if request.webhook_id == failing_id and attempt <= 2 else 200

    async with Receiver(fail_first_twice) as receiver:
        endpoint_id, _ = await lanes.endpoint(receiver.url)
        await lanes.enqueue(endpoint_id, events)
        lanes.start()
        await lanes.wait_statuses(endpoint_id, lambda s: s == ["delivered"] * 6)
    order = {e["id"]: (e["subject"], e["data"]["seq"]) for e in events}
    seen = [order[i] for i in receiver.succeeded_ids()]
    for ref in (first, second):
        assert [n for r, n in seen if r == ref] == [1, 2, 3]
    # The later events of the failing referral were sent only after it succeeded.
    first_requests = [
        order[r.webhook_id] for r in receiver.events if order[r.webhook_id][0] == first
    ]
    assert first_requests == [(first, 1), (first, 1), (first, 1), (first, 2), (first, 3)]


async def test_retries_survive_a_restart_of_the_dispatcher(lanes: Lanes) -> None:
    lanes.overrides = {"webhook_backoff_base_seconds": 0.5, "webhook_backoff_max_seconds": 0.5}

    async def flaky(_request: Request, attempt: int) -> int:
        return 500 if attempt <= 2 else 200

    async with Receiver(flaky) as receiver:
        endpoint_id, _ = await lanes.endpoint(receiver.url)
        await lanes.enqueue(endpoint_id, [envelope(str(uuid.uuid4()), 1)])
        lanes.start()
        await receiver.wait_for(lambda: len(receiver.events) == 1)
        await lanes.stop()
        [waiting] = await lanes.deliveries(endpoint_id)
        assert (waiting.status, waiting.attempts) == ("pending", 1)
        assert waiting.next_attempt_at > waiting.created_at
        lanes.start()  # a new process: the attempt count and schedule come from the database
        [delivery] = await lanes.wait_statuses(endpoint_id, lambda s: s == ["delivered"])
    assert delivery.attempts == 3
    assert len(receiver.events) == 3


async def test_a_retry_the_policy_now_refuses_is_cancelled_and_audited(lanes: Lanes) -> None:
    from collections.abc import Mapping
    from typing import Any

    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    from consumers.notifier.dispatcher import Dispatcher
    from gateway.audit.models import AuditEntry
    from gateway.subscriptions.policy import DeliveryVerdict

    async def withdrawn(
        _session: AsyncSession, *, recipient: str, envelope: Mapping[str, Any]
    ) -> DeliveryVerdict:
        return DeliveryVerdict(False, "test-policy", ("consent_withdrawn",))

    async def fails_once(_request: Request, attempt: int) -> int:
        return 500 if attempt == 1 else 200

    async with Receiver(fails_once) as receiver:
        endpoint_id, _ = await lanes.endpoint(receiver.url)
        event = envelope(str(uuid.uuid4()), 1)
        await lanes.enqueue(endpoint_id, [event])
        lanes.start()
        assert lanes.dispatcher is not None
        lanes.dispatcher.policy = withdrawn  # the consent is withdrawn after the first attempt
        [delivery] = await lanes.wait_statuses(endpoint_id, lambda s: s == ["cancelled"])
    assert isinstance(lanes.dispatcher, Dispatcher)
    assert len(receiver.events) == 1  # the retry never left
    assert delivery.last_error == "policy_denied"
    async with lanes.sessionmaker() as session:
        audit = (
            await session.execute(
                select(AuditEntry.decision, AuditEntry.object_id, AuditEntry.detail).where(
                    AuditEntry.action == "webhook.retry"
                )
            )
        ).all()
    assert audit == [("deny", event["subject"], "consent_withdrawn")]
