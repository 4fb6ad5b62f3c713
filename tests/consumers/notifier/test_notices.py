"""The notice sender on both databases: retries, dead notices, skipped channels."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from gateway.notify import service as notify_service
from gateway.notify.models import Notice
from gateway.notify.service import NoticeKind, NoticeRequest
from tests.consumers.notifier.conftest import Lanes, eventually
from tests.gateway.subscriptions.receiver import Receiver, Request


async def _queue(lanes: Lanes, key: str) -> None:
    async with lanes.sessionmaker() as session:
        await notify_service.queue_notices(
            session,
            [
                NoticeRequest(
                    lanes.agency,
                    NoticeKind.REFERRAL_RECEIVED,
                    key,
                    {"referral_id": "0b5f9d3c-6a0e-4d8b-9a57-2f1c3e7a9b10", "urgency": "high"},
                )
            ],
        )
        await session.commit()


async def _notices(lanes: Lanes) -> list[Notice]:
    async with lanes.sessionmaker() as session:
        return list((await session.scalars(select(Notice).order_by(Notice.id))).all())


async def test_a_failing_sms_gateway_is_retried_and_a_refused_sms_is_dead(lanes: Lanes) -> None:
    tries: Counter[str] = Counter()

    async def gateway(request: Request, _attempt: int) -> int:
        number = request.json["to"]
        tries[number] += 1
        if number == "+224620000002":
            return 400  # the provider refuses this number for good
        return 503 if tries[number] == 1 else 200

    async with Receiver(gateway) as sms:
        lanes.overrides = {"sms_url": sms.url}
        async with lanes.sessionmaker() as session:
            for number in ("+224620000001", "+224620000002"):
                await notify_service.add_contact(
                    session, agency=lanes.agency, channel="sms", address=number
                )
            await session.commit()
        await _queue(lanes, "event:e-1")
        lanes.start()

        async def settled() -> bool:
            return {n.status for n in await _notices(lanes)} <= {"sent", "dead"}

        await eventually(settled, what="notices settled")
    by_status = {(n.status, n.attempts, n.last_error) for n in await _notices(lanes)}
    assert by_status == {
        ("sent", 1, None),  # the e-mail focal point of the fixture
        ("sent", 2, None),  # the SMS after one 503
        ("dead", 1, "sms:http_400"),
    }
    assert tries == {"+224620000001": 2, "+224620000002": 1}
    [mail] = await lanes.mailbox.wait_for(1)
    assert mail.subject == "[MNO] Nouveau référencement reçu / New referral received"
    texts = [r.json["text"] for r in sms.requests]
    assert all(t.startswith("MNO : nouveau référencement reçu") for t in texts)


async def test_notices_for_an_unconfigured_channel_are_skipped(lanes: Lanes) -> None:
    lanes.overrides = {"smtp_host": None}
    await _queue(lanes, "event:e-2")
    lanes.start()

    async def settled() -> bool:
        return [n.status for n in await _notices(lanes)] == ["skipped"]

    await eventually(settled, what="notice skipped")
    [notice] = await _notices(lanes)
    assert notice.last_error == "smtp_not_configured"
    assert lanes.mailbox.mails == []
