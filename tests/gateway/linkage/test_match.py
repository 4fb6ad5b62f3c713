"""Two agencies spell the same people differently; the gateway links them and tells both."""

from __future__ import annotations

import json
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select

from connectors.pseudonym.encoder import Pseudonymiser
from connectors.pseudonym.match import DEFAULT_CONFIG
from gateway.linkage.models import LinkageRecordRow
from gateway.outbox.models import OutboxEvent
from tests.conftest import Database
from tests.gateway.linkage.conftest import (
    ADULTS,
    SCOPES,
    Agencies,
    encode,
    link_waiting,
    match_body,
    meal_reader,
    refer,
    register,
    subject_of,
    third_agency,
)
from tests.gateway.referrals.conftest import make_party

DUPLICATE = "gn.mno.subject.duplicate_suspected.v1"
PEOPLE = ADULTS[:10]


async def subjects_by_referral(database: Database) -> dict[str, str]:
    async with database.engine.connect() as conn:
        rows = await conn.execute(select(LinkageRecordRow.referral_id, LinkageRecordRow.subject_id))
        return {referral_id: subject_id for referral_id, subject_id in rows}


async def duplicate_events(database: Database) -> list[dict[str, Any]]:
    async with database.engine.connect() as conn:
        rows = await conn.execute(select(OutboxEvent.envelope).where(OutboxEvent.type == DUPLICATE))
        return [json.loads(envelope) for (envelope,) in rows]


async def refer_everyone(
    client: AsyncClient, agencies: Agencies, kit: Pseudonymiser, services: list[str]
) -> tuple[list[str], list[str]]:
    """A, then B, refer every person to the provider, each from its own register."""
    ids: dict[str, list[str]] = {"A": [], "B": []}
    for name, party, seed in (("A", agencies.a, 1), ("B", agencies.b, 2)):
        for record in register(name, PEOPLE, seed):
            response = await refer(
                client, party, agencies.provider, subject_of(encode(kit, record)), services
            )
            assert response.status_code == 201, response.text
            ids[name].append(response.json()["id"])
    return ids["A"], ids["B"]


async def test_two_agencies_records_are_linked_flagged_and_matched_as_the_policy_allows(
    client: AsyncClient, database: Database, agencies: Agencies, kit: Pseudonymiser
) -> None:
    a_ids, b_ids = await refer_everyone(client, agencies, kit, ["economic_reintegration"])
    assert await link_waiting(database) == 2 * len(PEOPLE)  # the linkage worker's step

    # Same subjects, although spelled differently (variants, swapped names, typos, dates).
    subjects = await subjects_by_referral(database)
    pairs = list(zip(a_ids, b_ids, strict=True))
    linked = [(a, b) for a, b in pairs if subjects[a] == subjects[b]]
    assert len(linked) >= len(PEOPLE) - 1
    assert len({subjects[a] for a in a_ids}) == len(PEOPLE)  # nobody merged with another

    # A repeat of economic reintegration within the year: one event per repeat, to both sides.
    events = {e["data"]["referral_id"]: e for e in await duplicate_events(database)}
    assert set(events) == {b for _, b in linked}
    for a, b in linked:
        event = events[b]
        assert event["data"]["matching_referral_ids"] == [a]
        assert event["data"]["overlapping_services"] == ["economic_reintegration"]
        assert 0.5 < event["data"]["score"] <= 1.0
        assert event["mnoparties"].split() == ["AGENCE-A", "AGENCE-B", "PRESTA-P"]
        assert event["partitionkey"] == b

    # B asks about one of them with its own record: its referral in full, A's as a count.
    a_id, b_id = linked[0]
    b_record = register("B", PEOPLE, 2)[b_ids.index(b_id)]
    response = await client.post(
        "/v1/subjects/match",
        json=match_body(encode(kit, b_record), "referral"),
        headers=agencies.b.auth,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    best = answer["subjects"][0]
    assert best["subject_id"] == subjects[b_id]
    assert best["score"] >= DEFAULT_CONFIG.threshold
    shown = {r["referral_id"]: r for r in best["referrals"]}
    assert list(shown) == [b_id]
    assert shown[b_id]["service_categories"] == ["economic_reintegration"]
    assert shown[b_id]["receiving_agency"] == "PRESTA-P"
    assert (best["other_referrals"], best["other_agencies"]) == (1, 2)  # A, the provider

    # For MEAL statistics: counts only.
    response = await client.post(
        "/v1/subjects/match",
        json=match_body(encode(kit, b_record), "meal_statistics"),
        headers=agencies.a.auth,
    )
    counts = response.json()
    assert counts["counts_only"] is True
    assert counts["subjects"] == []
    assert (counts["matched_subjects"], counts["matched_referrals"]) == (1, 2)

    # A third agency that met the same person learns no agency, no referral, no date.
    third = await third_agency(client, database)
    c_record = register("C", PEOPLE, 3)[b_ids.index(b_id)]
    response = await client.post(
        "/v1/subjects/match", json=match_body(encode(kit, c_record), "referral"), headers=third.auth
    )
    assert response.status_code == 200
    for secret in ("AGENCE-A", "AGENCE-B", "PRESTA-P", "requested_at", *a_ids, *b_ids):
        assert secret not in response.text
    found = response.json()["subjects"]
    assert found[0]["subject_id"] == subjects[b_id]
    assert found[0]["referrals"] == []
    assert found[0]["other_referrals"] == 2

    # Someone never referred matches nobody.
    stranger = register("A", ADULTS[40:41], 1)[0]
    response = await client.post(
        "/v1/subjects/match",
        json=match_body(encode(kit, stranger), "case_follow_up"),
        headers=agencies.a.auth,
    )
    assert response.json()["matched_subjects"] == 0


async def test_match_and_signals_need_their_scope_and_valid_input(
    client: AsyncClient, database: Database
) -> None:
    meal = await meal_reader(client, database)
    agency = await make_party(client, database, "AGENCE-A", SCOPES, kind="un")
    client.app.state.runtime.settings.match_rate_limit_per_minute = 3  # type: ignore[attr-defined]
    body = {"purpose": "referral", "pseudonym": "A" * 43}
    assert (
        await client.post("/v1/subjects/match", json=body, headers=meal.auth)
    ).status_code == 403
    response = await client.post(
        "/v1/subjects/match", json={"purpose": "referral"}, headers=agency.auth
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_match_query"
    response = await client.post(
        "/v1/subjects/match",
        json={"purpose": "referral", "bloom": "AAAA"},
        headers={**agency.auth, "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "1024 bits" in response.json()["detail"]
    # Nothing stored yet: a valid query simply matches nobody.
    response = await client.post("/v1/subjects/match", json=body, headers=agency.auth)
    assert response.json()["matched_subjects"] == 0
    # The fourth query within the minute is refused: the endpoint is a membership oracle.
    response = await client.post("/v1/subjects/match", json=body, headers=agency.auth)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1

    response = await client.get("/v1/subjects/exclusion-signals", headers=agency.auth)
    assert response.status_code == 403
    response = await client.get(
        "/v1/subjects/exclusion-signals?days=30&since=2025-01", headers=meal.auth
    )
    assert response.status_code == 200
    assert response.json() == {
        "alternative_window_days": 30,
        "suppression_threshold": 5,
        "signals": [],
    }
    bad = await client.get("/v1/subjects/exclusion-signals?since=2025-13", headers=meal.auth)
    assert bad.status_code == 422
