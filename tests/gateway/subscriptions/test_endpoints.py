"""``/v1/subscriptions`` on both databases, with a real receiver on loopback."""

from __future__ import annotations

import time

from httpx import AsyncClient
from sqlalchemy import func, select
from standardwebhooks import Webhook

from gateway.audit.models import AuditEntry
from gateway.db.base import utcnow
from gateway.db.engine import make_sessionmaker
from gateway.subscriptions.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import Database
from tests.gateway.referrals.conftest import Party, make_party
from tests.gateway.subscriptions.receiver import Receiver, Request

SUBMITTED = "gn.mno.referral.submitted.v1"


async def subscribe(
    client: AsyncClient, party: Party, url: str, types: list[str] | None = None
) -> dict[str, object]:
    response = await client.post(
        "/v1/subscriptions",
        json={"url": url, "event_types": types or [SUBMITTED]},
        headers=party.auth,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_creation_pings_the_endpoint_signed_and_shows_the_secret_once(
    client: AsyncClient, subscriber: Party, receiver: Receiver
) -> None:
    created = await subscribe(client, subscriber, receiver.url)
    secret = str(created["secret"])
    assert secret.startswith("whsec_")
    assert created["status"] == "active"
    [ping] = receiver.requests
    assert ping.is_ping
    assert ping.headers["content-type"].startswith("application/cloudevents+json")
    body = Webhook(secret).verify(ping.body, ping.headers)
    assert body["data"]["subscription_id"] == created["id"]
    assert body["specversion"] == "1.0"

    listed = await client.get("/v1/subscriptions", headers=subscriber.auth)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()] == [created["id"]]
    assert "secret" not in listed.json()[0]
    one = await client.get(f"/v1/subscriptions/{created['id']}", headers=subscriber.auth)
    assert "secret" not in one.json()
    assert secret not in one.text


async def test_secret_is_stored_encrypted(
    client: AsyncClient, database: Database, subscriber: Party, receiver: Receiver
) -> None:
    created = await subscribe(client, subscriber, receiver.url)
    async with make_sessionmaker(database.engine)() as session:
        row = await session.get(WebhookEndpoint, str(created["id"]))
    assert row is not None
    assert str(created["secret"]) not in row.secret
    assert str(created["secret"]).removeprefix("whsec_") not in row.secret


async def test_an_endpoint_that_refuses_the_ping_is_not_registered(
    client: AsyncClient, subscriber: Party
) -> None:
    async def refuse(_request: Request, _attempt: int) -> int:
        return 401

    async with Receiver(refuse, accept_pings=False) as refusing:
        response = await client.post(
            "/v1/subscriptions",
            json={"url": refusing.url, "event_types": ["*"]},
            headers=subscriber.auth,
        )
    assert response.status_code == 422
    assert response.json()["code"] == "subscription_verification_failed"
    assert "2xx" in response.json()["detail"]
    listed = await client.get("/v1/subscriptions", headers=subscriber.auth)
    assert listed.json() == []


async def test_plain_http_outside_loopback_and_unknown_types_are_refused(
    client: AsyncClient, subscriber: Party, receiver: Receiver
) -> None:
    response = await client.post(
        "/v1/subscriptions",
        json={"url": "http://partenaire.example.org/hook", "event_types": ["*"]},
        headers=subscriber.auth,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_webhook_url"
    response = await client.post(
        "/v1/subscriptions",
        json={"url": receiver.url, "event_types": ["gn.mno.referral.lost.v1"]},
        headers=subscriber.auth,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_event_types"
    assert receiver.requests == []  # refused before any ping


async def test_subscriptions_need_their_scope(
    client: AsyncClient, database: Database, receiver: Receiver
) -> None:
    reader = await make_party(client, database, "LECTEUR", "referrals:read")
    response = await client.post(
        "/v1/subscriptions", json={"url": receiver.url, "event_types": ["*"]}, headers=reader.auth
    )
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


async def test_another_agency_can_neither_see_nor_delete_a_subscription(
    client: AsyncClient, subscriber: Party, other_agency: Party, receiver: Receiver
) -> None:
    created = await subscribe(client, subscriber, receiver.url)
    path = f"/v1/subscriptions/{created['id']}"
    assert (await client.get(path, headers=other_agency.auth)).status_code == 404
    assert (await client.delete(path, headers=other_agency.auth)).status_code == 404
    assert (await client.get("/v1/subscriptions", headers=other_agency.auth)).json() == []
    assert (await client.get(path, headers=subscriber.auth)).status_code == 200


async def test_deleting_cancels_waiting_deliveries_and_is_audited(
    client: AsyncClient, database: Database, subscriber: Party, receiver: Receiver
) -> None:
    created = await subscribe(client, subscriber, receiver.url)
    endpoint_id = str(created["id"])
    sessionmaker = make_sessionmaker(database.engine)
    async with sessionmaker() as session:
        now = utcnow()
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event_id="evt-waiting",
                event_type=SUBMITTED,
                ordering_key="k",
                body="{}",
                status="pending",
                attempts=2,
                next_attempt_at=now,
                replay=False,
                created_at=now,
            )
        )
        await session.commit()
    response = await client.delete(f"/v1/subscriptions/{endpoint_id}", headers=subscriber.auth)
    assert response.status_code == 204
    assert (await client.get("/v1/subscriptions", headers=subscriber.auth)).json() == []
    async with sessionmaker() as session:
        statuses = (await session.scalars(select(WebhookDelivery.status))).all()
        audited = (
            await session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.object_id == endpoint_id)
            )
        ).scalar_one()
    assert statuses == ["cancelled"]
    assert audited == 2  # create, delete


async def test_deliveries_list_shows_dead_letters_newest_first(
    client: AsyncClient, database: Database, subscriber: Party, receiver: Receiver
) -> None:
    created = await subscribe(client, subscriber, receiver.url)
    endpoint_id = str(created["id"])
    async with make_sessionmaker(database.engine)() as session:
        now = utcnow()
        for n, status in enumerate(("delivered", "dead", "dead")):
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint_id,
                    event_id=f"evt-{n}",
                    event_type=SUBMITTED,
                    ordering_key=f"k{n}",
                    body="{}",
                    status=status,
                    attempts=3,
                    next_attempt_at=now,
                    last_status_code=500 if status == "dead" else 200,
                    replay=False,
                    created_at=now,
                )
            )
        await session.commit()
    response = await client.get(
        f"/v1/subscriptions/{endpoint_id}/deliveries?status=dead", headers=subscriber.auth
    )
    assert response.status_code == 200
    assert [d["event_id"] for d in response.json()] == ["evt-2", "evt-1"]
    assert {d["last_status_code"] for d in response.json()} == {500}


async def test_a_disabled_subscription_is_enabled_again_after_a_new_ping(
    client: AsyncClient, database: Database, subscriber: Party, receiver: Receiver
) -> None:
    created = await subscribe(client, subscriber, receiver.url)
    endpoint_id = str(created["id"])
    async with make_sessionmaker(database.engine)() as session:
        row = await session.get(WebhookEndpoint, endpoint_id)
        assert row is not None
        row.status, row.disabled_reason, row.consecutive_failures = "disabled", "gone", 3
        row.disabled_at = utcnow()
        await session.commit()
    started = time.monotonic()
    response = await client.post(f"/v1/subscriptions/{endpoint_id}/enable", headers=subscriber.auth)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"
    assert response.json()["consecutive_failures"] == 0
    pings = [r for r in receiver.requests if r.is_ping and r.at >= started]
    assert len(pings) == 1
    Webhook(str(created["secret"])).verify(pings[0].body, pings[0].headers)


async def test_replay_needs_a_time_with_a_zone_and_the_agencys_own_subscription(
    client: AsyncClient, subscriber: Party, other_agency: Party, receiver: Receiver
) -> None:
    created = await subscribe(client, subscriber, receiver.url)
    path = f"/v1/subscriptions/{created['id']}/replay"
    assert (await client.post(path, headers=subscriber.auth)).status_code == 422
    naive = await client.post(f"{path}?from=2025-01-01T00:00:00", headers=subscriber.auth)
    assert naive.status_code == 422  # a time zone is required
    stranger = await client.post(f"{path}?from=2025-01-01T00:00:00Z", headers=other_agency.auth)
    assert stranger.status_code == 404
    mine = await client.post(f"{path}?from=2025-01-01T00:00:00Z", headers=subscriber.auth)
    assert mine.status_code == 503  # this app has no broker: the inbox cannot be read
    assert mine.json()["code"] == "replay_unavailable"
