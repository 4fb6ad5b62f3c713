"""``POST /v1/referrals:batch``: one result per item, each item alone in its savepoint."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select

from gateway.audit.service import verify
from gateway.db.engine import make_sessionmaker
from gateway.outbox.models import OutboxEvent
from gateway.referrals.models import ReferralRow
from schemas.examples import referral_create
from tests.conftest import Database
from tests.gateway.referrals.conftest import Parties


def body_for(to: str, **changes: Any) -> dict[str, Any]:
    body = referral_create(to=to).model_dump(mode="json", exclude_none=True)
    body.pop("consent_id", None)
    body.update(changes)
    return body


def key() -> str:
    return f"batch-{uuid.uuid4().hex}"


async def count(database: Database, table: Any) -> int:
    async with database.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)))


async def test_each_item_gets_its_own_result_and_bad_ones_roll_back_alone(
    client: AsyncClient, parties: Parties, database: Database
) -> None:
    keys = [key() for _ in range(5)]
    items = [
        {"idempotency_key": keys[0], "referral": body_for(parties.b.agency)},
        {"idempotency_key": keys[1], "referral": body_for(parties.b.agency, urgency="soon")},
        {"idempotency_key": keys[2], "referral": body_for("AGENCE-INCONNUE")},
        {"idempotency_key": "court", "referral": body_for(parties.b.agency)},
        {"idempotency_key": keys[4], "referral": body_for(parties.b.agency)},
    ]
    response = await client.post(
        "/v1/referrals:batch", json={"items": items}, headers=parties.a.auth
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["created"], answer["replayed"], answer["failed"]) == (2, 0, 3)
    results = answer["results"]
    assert [r["status"] for r in results] == [201, 422, 422, 422, 201]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert results[1]["code"] == "validation_failed"
    assert results[1]["errors"][0]["field"] == "referral.urgency"
    assert results[2]["code"] == "unknown_receiving_agency"
    assert results[2]["message_fr"].startswith("Agence destinataire inconnue")
    assert results[2]["message_en"].startswith("Unknown or inactive receiving agency")
    assert results[3]["code"] == "invalid_idempotency_key"
    assert await count(database, ReferralRow.__table__) == 2
    assert await count(database, OutboxEvent.__table__) == 2
    async with make_sessionmaker(database.engine)() as session:
        assert (await verify(session)).ok

    # The same batch again: stored items are replayed, not duplicated.
    again = await client.post("/v1/referrals:batch", json={"items": items}, headers=parties.a.auth)
    statuses = [r["status"] for r in again.json()["results"]]
    assert statuses == [200, 422, 422, 422, 200]
    assert again.json()["results"][0]["referral_id"] == results[0]["referral_id"]
    assert await count(database, ReferralRow.__table__) == 2


async def test_a_key_reused_with_another_body_is_a_conflict(
    client: AsyncClient, parties: Parties
) -> None:
    same = key()
    first = {"idempotency_key": same, "referral": body_for(parties.b.agency)}
    body = body_for(parties.b.agency)
    urgency = "low" if body.get("urgency") != "low" else "high"
    other = {"idempotency_key": same, "referral": body_for(parties.b.agency, urgency=urgency)}
    response = await client.post(
        "/v1/referrals:batch", json={"items": [first, other]}, headers=parties.a.auth
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 409]
    assert results[1]["code"] == "idempotency_key_reused"
    # The single endpoint sees the same key space.
    single = await client.post(
        "/v1/referrals",
        json=body_for(parties.b.agency),
        headers={**parties.a.auth, "Idempotency-Key": same},
    )
    assert single.status_code == 201
    assert single.headers["Idempotent-Replayed"] == "true"


async def test_batch_size_and_scope_are_enforced(client: AsyncClient, parties: Parties) -> None:
    one = {"idempotency_key": key(), "referral": body_for(parties.b.agency)}
    too_many = await client.post(
        "/v1/referrals:batch", json={"items": [one] * 501}, headers=parties.a.auth
    )
    assert too_many.status_code == 422
    empty = await client.post("/v1/referrals:batch", json={"items": []}, headers=parties.a.auth)
    assert empty.status_code == 422
    anonymous = await client.post("/v1/referrals:batch", json={"items": [one]})
    assert anonymous.status_code == 401
