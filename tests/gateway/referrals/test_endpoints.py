from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select, text

from gateway.outbox.models import OutboxEvent
from gateway.referrals.models import ReferralRow
from schemas.examples import referral_create
from tests.conftest import Database
from tests.gateway.referrals.conftest import Parties, make_party


def body_for(to: str, **changes: Any) -> dict[str, Any]:
    body = referral_create(to=to).model_dump(mode="json", exclude_none=True)
    body.pop("consent_id", None)
    body.update(changes)
    return body


async def submit(client: AsyncClient, parties: Parties, key: str | None = None, **changes: Any):  # type: ignore[no-untyped-def]
    return await client.post(
        "/v1/referrals",
        json=body_for(parties.b.agency, **changes),
        headers={**parties.a.auth, "Idempotency-Key": key or f"key-{uuid.uuid4().hex}"},
    )


async def step(client: AsyncClient, who: Any, referral_id: str, **body: Any):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/v1/referrals/{referral_id}/transitions", json=body, headers=who.auth
    )


async def test_submitted_referral_is_stored_with_deadlines_and_history(
    client: AsyncClient, parties: Parties
) -> None:
    response = await submit(client, parties)
    assert response.status_code == 201, response.text
    referral = response.json()
    assert referral["status"] == "submitted"
    assert referral["referring_agency"] == "AGENCE-A"
    assert referral["history"][0]["action"] == "submit"
    assert referral["acknowledge_by"] < referral["respond_by"]
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/referrals/{referral['id']}"


async def test_referring_agency_comes_from_the_token_not_the_body(
    client: AsyncClient, parties: Parties
) -> None:
    response = await submit(client, parties, referring_agency="AGENCE-C")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.referring_agency"


async def test_same_idempotency_key_and_body_returns_the_same_referral(
    client: AsyncClient, parties: Parties, database: Database
) -> None:
    first = await submit(client, parties, key="same-key-123")
    again = await submit(client, parties, key="same-key-123")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    async with database.engine.connect() as conn:
        count = (await conn.execute(text("select count(*) from referrals"))).scalar_one()
    assert count == 1


async def test_same_idempotency_key_with_another_body_is_a_conflict(
    client: AsyncClient, parties: Parties
) -> None:
    await submit(client, parties, key="same-key-456")
    response = await submit(client, parties, key="same-key-456", urgency="immediate")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"


async def test_missing_idempotency_key_is_refused_with_the_header_named(
    client: AsyncClient, parties: Parties
) -> None:
    response = await client.post("/v1/referrals", json=body_for("AGENCE-B"), headers=parties.a.auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"


async def test_invalid_body_names_the_exact_field(client: AsyncClient, parties: Parties) -> None:
    body = body_for("AGENCE-B")
    body["subject"]["sex"] = "x"
    response = await client.post(
        "/v1/referrals", json=body, headers={**parties.a.auth, "Idempotency-Key": "bad-body-1"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "body.subject.sex" in [e["field"] for e in response.json()["errors"]]


async def test_unknown_receiving_agency_is_refused(client: AsyncClient, parties: Parties) -> None:
    response = await client.post(
        "/v1/referrals",
        json=body_for("AGENCE-Z"),
        headers={**parties.a.auth, "Idempotency-Key": "unknown-agency"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_receiving_agency"


async def test_receiver_moves_the_referral_through_the_sop(
    client: AsyncClient, parties: Parties
) -> None:
    referral_id = (await submit(client, parties)).json()["id"]
    for body in (
        {"action": "acknowledge"},
        {"action": "accept"},
        {"action": "complete", "outcome": "served_fully"},
    ):
        response = await step(client, parties.b, referral_id, **body)
        assert response.status_code == 200, response.text
    closed = await step(client, parties.a, referral_id, action="close")
    assert closed.status_code == 200
    referral = closed.json()
    assert referral["status"] == "closed"
    assert referral["outcome"] == "served_fully"
    assert [h["action"] for h in referral["history"]] == [
        "submit",
        "acknowledge",
        "accept",
        "complete",
        "close",
    ]
    assert referral["history"][1]["actor_agency"] == "AGENCE-B"
    assert referral["version"] == 5


async def test_declined_referral_requires_reason(client: AsyncClient, parties: Parties) -> None:
    referral_id = (await submit(client, parties)).json()["id"]
    response = await step(client, parties.b, referral_id, action="decline")
    assert response.status_code == 422
    declined = await step(
        client, parties.b, referral_id, action="decline", reason_code="no_capacity"
    )
    assert declined.status_code == 200
    assert declined.json()["decline_reason"] == "no_capacity"


async def test_referrer_cannot_accept_its_own_referral(
    client: AsyncClient, parties: Parties
) -> None:
    referral_id = (await submit(client, parties)).json()["id"]
    response = await step(client, parties.a, referral_id, action="accept")
    assert response.status_code == 403
    assert response.json()["code"] == "transition_not_allowed_for_role"


async def test_only_the_referrer_cancels(client: AsyncClient, parties: Parties) -> None:
    referral_id = (await submit(client, parties)).json()["id"]
    assert (await step(client, parties.b, referral_id, action="cancel")).status_code == 403
    assert (await step(client, parties.a, referral_id, action="cancel")).status_code == 200


async def test_stale_if_match_is_refused(client: AsyncClient, parties: Parties) -> None:
    referral_id = (await submit(client, parties)).json()["id"]
    await step(client, parties.b, referral_id, action="acknowledge")
    response = await client.post(
        f"/v1/referrals/{referral_id}/transitions",
        json={"action": "accept"},
        headers={**parties.b.auth, "If-Match": '"1"'},
    )
    assert response.status_code == 412
    fresh = await client.get(f"/v1/referrals/{referral_id}", headers=parties.b.auth)
    response = await client.post(
        f"/v1/referrals/{referral_id}/transitions",
        json={"action": "accept"},
        headers={**parties.b.auth, "If-Match": fresh.headers["ETag"]},
    )
    assert response.status_code == 200


async def test_protected_payload_only_for_the_receiver(
    client: AsyncClient, parties: Parties
) -> None:
    referral = (await submit(client, parties)).json()
    assert referral["protected"] is not None  # the submitter's own echo
    for_b = await client.get(f"/v1/referrals/{referral['id']}", headers=parties.b.auth)
    for_a = await client.get(f"/v1/referrals/{referral['id']}", headers=parties.a.auth)
    assert for_b.json()["protected"] == referral["protected"]
    assert for_a.json()["protected"] is None


async def test_subject_pseudonym_is_rekeyed_before_storage(
    client: AsyncClient, parties: Parties, database: Database
) -> None:
    sent = body_for("AGENCE-B")
    await client.post(
        "/v1/referrals", json=sent, headers={**parties.a.auth, "Idempotency-Key": "rekey-key-1"}
    )
    async with database.engine.connect() as conn:
        stored = (await conn.execute(select(ReferralRow.subject_key, ReferralRow.body))).one()
    assert stored.subject_key != sent["subject"]["pseudonym"]
    assert sent["subject"]["pseudonym"] not in stored.body


async def test_third_agency_gets_404_everywhere(client: AsyncClient, parties: Parties) -> None:
    referral_id = (await submit(client, parties)).json()["id"]
    read = await client.get(f"/v1/referrals/{referral_id}", headers=parties.c.auth)
    assert read.status_code == 404
    for action in ("acknowledge", "accept", "cancel", "close"):
        response = await step(client, parties.c, referral_id, action=action)
        assert response.status_code == 404
    missing = await client.get(f"/v1/referrals/{uuid.uuid4()}", headers=parties.c.auth)
    assert missing.json()["code"] == read.json()["code"] == "referral_not_found"
    listed = await client.get("/v1/referrals", headers=parties.c.auth)
    assert listed.json()["items"] == []


async def test_missing_scope_is_forbidden_on_every_endpoint(
    client: AsyncClient, parties: Parties, database: Database
) -> None:
    referral_id = (await submit(client, parties)).json()["id"]
    reader = await make_party(client, database, "AGENCE-B", scopes="referrals:read")
    writer = await make_party(client, database, "AGENCE-A", scopes="referrals:write")
    assert (await client.get("/v1/referrals", headers=writer.auth)).status_code == 403
    assert (
        await client.get(f"/v1/referrals/{referral_id}", headers=writer.auth)
    ).status_code == 403
    posted = await client.post(
        "/v1/referrals",
        json=body_for("AGENCE-B"),
        headers={**reader.auth, "Idempotency-Key": "scope-check"},
    )
    assert posted.status_code == 403
    assert posted.json()["code"] == "insufficient_scope"
    assert (await step(client, reader, referral_id, action="acknowledge")).status_code == 403


async def test_no_token_is_401_problem_json(client: AsyncClient) -> None:
    for method, url in (
        ("GET", "/v1/referrals"),
        ("POST", "/v1/referrals"),
        ("GET", f"/v1/referrals/{uuid.uuid4()}"),
        ("POST", f"/v1/referrals/{uuid.uuid4()}/transitions"),
        ("GET", "/v1/inbox"),
    ):
        response = await client.request(method, url)
        assert response.status_code == 401, (method, url)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_list_filters_by_role_status_and_pages_with_a_cursor(
    client: AsyncClient, parties: Parties
) -> None:
    ids = [(await submit(client, parties)).json()["id"] for _ in range(3)]
    await step(client, parties.b, ids[0], action="acknowledge")
    sent = await client.get("/v1/referrals?role=sent", headers=parties.a.auth)
    received = await client.get("/v1/referrals?role=received", headers=parties.a.auth)
    assert {r["id"] for r in sent.json()["items"]} == set(ids)
    assert received.json()["items"] == []
    acknowledged = await client.get("/v1/referrals?status=acknowledged", headers=parties.b.auth)
    assert [r["id"] for r in acknowledged.json()["items"]] == [ids[0]]
    page1 = await client.get("/v1/referrals?limit=2", headers=parties.b.auth)
    cursor = page1.json()["next_cursor"]
    page2 = await client.get(f"/v1/referrals?limit=2&cursor={cursor}", headers=parties.b.auth)
    seen = [r["id"] for r in page1.json()["items"] + page2.json()["items"]]
    assert sorted(seen) == sorted(ids)
    bad = await client.get("/v1/referrals?cursor=nonsense", headers=parties.b.auth)
    assert bad.status_code == 422


async def test_overdue_filter_lists_referrals_past_their_sop_deadline(
    client: AsyncClient, parties: Parties, database: Database
) -> None:
    late = (await submit(client, parties, urgency="immediate")).json()["id"]
    await submit(client, parties)
    async with database.engine.begin() as conn:
        await conn.execute(
            ReferralRow.__table__.update()
            .where(ReferralRow.id == late)
            .values(acknowledge_by=datetime(2020, 1, 1, tzinfo=UTC))
        )
    overdue = await client.get("/v1/referrals?overdue=true", headers=parties.b.auth)
    assert [r["id"] for r in overdue.json()["items"]] == [late]


async def test_change_and_its_event_are_written_together(
    client: AsyncClient, parties: Parties, database: Database
) -> None:
    referral_id = (await submit(client, parties)).json()["id"]
    await step(client, parties.b, referral_id, action="acknowledge")
    async with database.engine.connect() as conn:
        rows = (
            await conn.execute(select(OutboxEvent.type, OutboxEvent.key, OutboxEvent.envelope))
        ).all()
    assert [r.type for r in rows] == [
        "gn.mno.referral.submitted.v1",
        "gn.mno.referral.acknowledged.v1",
    ]
    assert {r.key for r in rows} == {referral_id}
    envelope = json.loads(rows[0].envelope)
    assert envelope["data"]["id"] == referral_id
    assert envelope["specversion"] == "1.0"


async def test_errors_are_in_english_when_asked(client: AsyncClient, parties: Parties) -> None:
    response = await client.get(
        f"/v1/referrals/{uuid.uuid4()}", headers={**parties.c.auth, "Accept-Language": "en"}
    )
    assert response.json()["title"].startswith("Referral not found")
