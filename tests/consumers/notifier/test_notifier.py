"""The notifier end to end on the real broker: referral API → relay → router → inbox →
notifier → signed webhook / e-mail / SMS, on both databases."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import update
from standardwebhooks import Webhook

from gateway.db.base import utcnow
from gateway.db.engine import make_sessionmaker
from gateway.events.cloudevents import to_kafka
from gateway.events.topics import inbox_topic
from gateway.referrals.models import ReferralRow
from schemas.events import make_envelope
from schemas.examples import consent
from tests.consumers.notifier.conftest import Hub
from tests.gateway.subscriptions.receiver import Receiver, Request

pytestmark = pytest.mark.kafka

SUBMITTED = "gn.mno.referral.submitted.v1"


async def step(hub: Hub, referral_id: str, action: str) -> None:
    response = await hub.pipeline.client.post(
        f"/v1/referrals/{referral_id}/transitions",
        json={"action": action},
        headers=hub.pipeline.receiver.auth,
    )
    assert response.status_code == 200, response.text


async def test_a_subscription_receives_a_signed_webhook_for_a_new_referral_within_seconds(
    hub: Hub,
) -> None:
    hub.pipeline.start_relay()
    hub.pipeline.start_router()
    async with Receiver() as receiver:
        _id, secret = await hub.subscribe(receiver.url, [SUBMITTED])
        hub.start_notifier()
        started = time.monotonic()
        [referral_id] = await hub.pipeline.submit()
        await receiver.wait_for(lambda: len(receiver.events) == 1, timeout=10)
        elapsed = time.monotonic() - started
    [request] = receiver.events
    assert elapsed < 5, elapsed
    event = Webhook(secret).verify(request.body, request.headers)
    assert request.headers["content-type"].startswith("application/cloudevents+json")
    assert event["specversion"] == "1.0"
    assert event["type"] == SUBMITTED
    assert event["id"] == request.webhook_id
    assert event["data"]["id"] == referral_id
    assert event["data"]["protected"]  # the receiving agency's copy: the JWE for it
    assert "case_category" not in event["data"]  # redacted by the router, as in the inbox


async def test_a_receiver_down_for_a_while_gets_every_event_afterwards_in_order_per_referral(
    hub: Hub,
) -> None:
    hub.pipeline.start_relay()
    hub.pipeline.start_router()
    async with Receiver() as receiver:
        await hub.subscribe(receiver.url)
        # Enough attempts for the outage: nothing may become a dead letter meanwhile.
        hub.start_notifier(webhook_max_attempts=100)
        await receiver.stop()  # down
        ids = await hub.pipeline.submit(3)
        for referral_id in ids:
            await step(hub, referral_id, "acknowledge")
            await step(hub, referral_id, "accept")
        await asyncio.sleep(1.5)  # attempts fail meanwhile
        await receiver.start()  # back, same address
        await receiver.wait_for(lambda: len(receiver.succeeded_ids()) == 9, timeout=30)
    by_referral: dict[str, list[str]] = {}
    for request in receiver.events:
        if request.status == 200:
            event = request.json
            by_referral.setdefault(event["data"]["id"], []).append(event["type"].split(".")[3])
    assert set(by_referral) == set(ids)
    for kinds in by_referral.values():
        assert kinds == ["submitted", "acknowledged", "accepted"]


async def test_a_notifier_killed_mid_stream_loses_no_delivery(hub: Hub) -> None:
    async def steady(_request: Request, _attempt: int) -> int:
        await asyncio.sleep(0.02)
        return 200

    hub.pipeline.start_relay()
    hub.pipeline.start_router()
    async with Receiver(steady) as receiver:
        await hub.subscribe(receiver.url, [SUBMITTED])
        hub.start_notifier()
        ids = await hub.pipeline.submit(24)
        await receiver.wait_for(lambda: len(receiver.events) >= 6, timeout=30)
        await hub.pipeline.kill("notifier")
        ids += await hub.pipeline.submit(8)
        hub.start_notifier()
        await receiver.wait_for(lambda: len(receiver.succeeded_ids()) >= 32, timeout=60)
        await asyncio.sleep(0.5)  # any duplicate would show now
    referrals = Counter(r.json["data"]["id"] for r in receiver.events if r.status == 200)
    assert set(referrals) == set(ids)
    # Each event id succeeded; a second success is only possible for the few attempts that
    # were in flight at the kill (at-least-once; receivers skip an id they already have).
    answered = Counter(r.webhook_id for r in receiver.events if r.status == 200)
    assert len(answered) == 32
    duplicates = sum(n - 1 for n in answered.values())
    assert duplicates <= hub.settings.webhook_concurrency_per_endpoint


async def test_focal_points_get_french_email_and_sms_for_a_new_referral_without_personal_data(
    hub: Hub,
) -> None:
    await hub.contact("email", "orientation@recepteur.example.org")
    await hub.contact("sms", "+224620000009", ["referral_received"])
    hub.pipeline.start_relay()
    hub.pipeline.start_router()
    hub.start_notifier()
    [referral_id] = await hub.pipeline.submit()
    [mail] = await hub.mailbox.wait_for(1)
    await hub.sms.wait_for(lambda: len(hub.sms.requests) == 1)
    assert mail.recipients == ["orientation@recepteur.example.org"]
    assert mail.subject == "[MNO] Nouveau référencement reçu / New referral received"
    text = mail.text
    assert text.startswith("Bonjour,")
    assert text.index("nouveau référencement") < text.index("English")
    assert f"https://mno.example.gov.gn/v1/referrals/{referral_id}" in text
    stored = await hub.pipeline.client.get(
        f"/v1/referrals/{referral_id}", headers=hub.pipeline.receiver.auth
    )
    body = stored.json()
    for secret_value in (
        body["subject"]["pseudonym"],
        *body["subject"].get("tokens", []),
        body.get("protected") or "no-jwe",
        body.get("external_reference") or "no-ref",
    ):
        assert secret_value not in text
        assert secret_value not in hub.sms.requests[0].body.decode()
    sms = hub.sms.requests[0].json
    assert sms["to"] == "+224620000009"
    assert sms["text"].startswith("MNO : nouveau référencement reçu")


async def test_consent_withdrawal_and_overdue_referrals_are_notified_once(hub: Hub) -> None:
    agency = hub.pipeline.receiver.agency
    await hub.contact("email", "referent@recepteur.example.org")
    hub.pipeline.start_relay()
    hub.pipeline.start_router()
    [referral_id] = await hub.pipeline.submit()
    async with make_sessionmaker(hub.pipeline.database.engine)() as session:
        await session.execute(
            update(ReferralRow)
            .where(ReferralRow.id == referral_id)
            .values(acknowledge_by=utcnow() - timedelta(hours=1))
        )
        await session.commit()
    # A consent event in the agency's inbox, as the router writes it.
    data: dict[str, Any] = consent(withdrawn=True).model_dump(mode="json")
    data["collecting_agency"] = agency
    envelope = make_envelope(type="gn.mno.consent.withdrawn.v1", subject=data["id"], data=data)
    value, headers = to_kafka(envelope)
    producer = AIOKafkaProducer(bootstrap_servers=hub.pipeline.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(inbox_topic(agency), value=value, headers=headers)
    finally:
        await producer.stop()
    hub.start_notifier()  # overdue check every 0.3 s
    mails = await hub.mailbox.wait_for(3, timeout=20)
    await asyncio.sleep(1.0)  # several more overdue checks: no second e-mail
    subjects = Counter(m.subject for m in hub.mailbox.mails)
    assert subjects == {
        "[MNO] Nouveau référencement reçu / New referral received": 1,
        "[MNO] Référencement en retard / Overdue referral": 1,
        "[MNO] Consentement retiré / Consent withdrawn": 1,
    }
    overdue = next(m for m in mails if "retard" in m.subject)
    assert "accusé de réception" in overdue.text
    assert data["subject_pseudonym"] not in "".join(m.text for m in hub.mailbox.mails)


async def test_a_poison_record_in_an_inbox_is_dead_lettered_and_the_notifier_goes_on(
    hub: Hub,
) -> None:
    hub.pipeline.start_relay()
    hub.pipeline.start_router()
    async with Receiver() as receiver:
        await hub.subscribe(receiver.url, [SUBMITTED])
        notifier = hub.start_notifier()
        producer = AIOKafkaProducer(bootstrap_servers=hub.pipeline.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                inbox_topic(hub.pipeline.receiver.agency), value=b"{not an event"
            )
        finally:
            await producer.stop()
        [referral_id] = await hub.pipeline.submit()
        await receiver.wait_for(lambda: len(receiver.events) == 1, timeout=15)
    assert receiver.events[0].json["data"]["id"] == referral_id
    assert notifier.dead_lettered == 1
