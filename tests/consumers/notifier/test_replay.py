"""``POST /v1/subscriptions/{id}/replay?from=…``: resend from the inbox after a policy re-check."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.models import AuditEntry
from gateway.db.base import utcnow
from gateway.db.engine import make_sessionmaker
from gateway.subscriptions import endpoints as subscription_endpoints
from gateway.subscriptions.policy import DeliveryVerdict
from tests.consumers.notifier.conftest import Hub
from tests.gateway.subscriptions.receiver import Receiver

pytestmark = pytest.mark.kafka

SUBMITTED = "gn.mno.referral.submitted.v1"


async def test_replay_resends_what_the_policy_still_permits_and_audits_each_decision(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    since = quote((utcnow() - timedelta(seconds=1)).isoformat())
    hub.pipeline.start_relay()
    hub.pipeline.start_router()
    async with Receiver() as receiver:
        subscription_id, _secret = await hub.subscribe(receiver.url, [SUBMITTED])
        hub.start_notifier()
        kept, withdrawn = await hub.pipeline.submit(2)
        await receiver.wait_for(lambda: len(receiver.succeeded_ids()) == 2)
        first_ids = receiver.succeeded_ids()

        async def consent_withdrawn_for_one(
            _session: AsyncSession, *, recipient: str, envelope: Mapping[str, Any]
        ) -> DeliveryVerdict:
            if envelope["data"]["id"] == withdrawn:
                return DeliveryVerdict(False, "test-policy", ("consent_withdrawn",))
            return DeliveryVerdict(True, "test-policy")

        # As the consent/policy part's decision point would answer after a withdrawal.
        monkeypatch.setattr(
            subscription_endpoints,
            "resolve_delivery_policy",
            lambda _components=None: consent_withdrawn_for_one,
        )
        response = await hub.pipeline.client.post(
            f"/v1/subscriptions/{subscription_id}/replay?from={since}",
            headers=hub.subscriber.auth,
        )
        assert response.status_code == 202, response.text
        assert response.json() == {"queued": 1, "denied": 1, "skipped": 0, "truncated": False}
        await receiver.wait_for(lambda: len(receiver.events) == 3)
    replayed = receiver.events[-1]
    assert replayed.json["data"]["id"] == kept
    assert replayed.webhook_id in first_ids  # same event id: receivers deduplicate on it
    async with make_sessionmaker(hub.pipeline.database.engine)() as session:
        decisions = (
            await session.execute(
                select(AuditEntry.decision, AuditEntry.object_id, AuditEntry.detail).where(
                    AuditEntry.action == "webhook.replay"
                )
            )
        ).all()
    assert sorted(decisions) == sorted(
        [("deny", withdrawn, "consent_withdrawn"), ("permit", kept, replayed.webhook_id)]
    )
