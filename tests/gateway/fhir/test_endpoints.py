"""The FHIR facade over HTTP, on both database backends."""

from __future__ import annotations

import uuid
from typing import Any

import fhir.resources.R4B as r4b
from httpx import AsyncClient, Response

from tests.conftest import Database
from tests.gateway.consent.factories import new_subject
from tests.gateway.fhir.conftest import FHIR_JSON, create, created_id, service_request_for
from tests.gateway.referrals.conftest import Parties, make_party

REFERRAL_STATUS = "https://mno.gov.gn/fhir/CodeSystem/referral-status"
CASE_CATEGORY = "https://mno.gov.gn/fhir/CodeSystem/case-category"


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after fhir.resources (R4B) accepted it."""
    r4b.get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def outcome(response: Response, status: int) -> dict[str, Any]:
    """The OperationOutcome of an error answer, French text and English diagnostics."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR_JSON
    body = valid(response.json())
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["details"]["text"]
    assert body["issue"][0]["diagnostics"]
    return body


def code_of(body: dict[str, Any]) -> str:
    return str(body["issue"][0]["details"]["coding"][0]["code"])


def expressions(body: dict[str, Any]) -> list[str]:
    return [e for issue in body["issue"] for e in issue.get("expression", [])]


async def test_metadata_is_an_r4b_capability_statement_served_in_json_only(
    client: AsyncClient,
) -> None:
    response = await client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    statement = valid(response.json())
    assert statement["fhirVersion"] == "4.3.0"
    rest = statement["rest"][0]
    interactions = {r["type"]: {i["code"] for i in r["interaction"]} for r in rest["resource"]}
    assert interactions == {
        "ServiceRequest": {"read", "search-type", "create"},
        "Task": {"read", "search-type", "update"},
        "Consent": {"read", "search-type", "create"},
    }
    token = rest["security"]["extension"][0]["extension"][0]["valueUri"]
    assert token == "http://testserver/oauth/token"
    xml = await client.get("/fhir/metadata?_format=xml")
    assert code_of(outcome(xml, 406)) == "not_acceptable"
    assert (await client.get("/fhir/metadata", headers={"Accept": "text/html"})).status_code == 406


async def test_service_request_created_in_fhir_is_the_referral_of_the_rest_api(
    client: AsyncClient, parties: Parties
) -> None:
    sent = service_request_for(parties.b.agency)
    response = await create(client, parties.a, sent, {"Idempotency-Key": "fhir-create-1"})
    assert response.status_code == 201, response.text
    request = valid(response.json())
    referral_id = request["id"]
    assert response.headers["Location"] == f"http://testserver/fhir/ServiceRequest/{referral_id}"
    assert response.headers["ETag"] == 'W/"1"'
    assert request["meta"]["versionId"] == "1"
    rest = await client.get(f"/v1/referrals/{referral_id}", headers=parties.a.auth)
    assert rest.status_code == 200
    referral = rest.json()
    assert referral["referring_agency"] == parties.a.agency
    assert referral["receiving_agency"] == parties.b.agency
    assert referral["status"] == "submitted"
    assert referral["services_requested"] == ["medical", "mhpss"]
    assert request["requester"]["identifier"]["value"] == parties.a.agency

    again = await create(client, parties.a, sent, {"Idempotency-Key": "fhir-create-1"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == referral_id
    low = [
        {**e, "valueCoding": {**e["valueCoding"], "code": "low"}}
        if e["url"].endswith("/urgency")
        else e
        for e in sent["extension"]
    ]
    reused = await create(
        client, parties.a, {**sent, "extension": low}, {"Idempotency-Key": "fhir-create-1"}
    )
    assert code_of(outcome(reused, 409)) == "idempotency_key_reused"

    condition = {"If-None-Exist": "identifier=https://example.org/case|GN-0001"}
    first = await create(client, parties.a, sent, condition)
    second = await create(client, parties.a, sent, condition)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"] != referral_id
    missing = await create(client, parties.a, sent, {})
    assert code_of(outcome(missing, 400)) == "idempotency_key_required"


async def test_parties_read_the_service_request_and_task_as_the_mou_permits(
    client: AsyncClient, parties: Parties
) -> None:
    referral_id = await created_id(client, parties.a, parties.b.agency)
    for_a = await client.get(f"/fhir/ServiceRequest/{referral_id}", headers=parties.a.auth)
    for_b = await client.get(f"/fhir/ServiceRequest/{referral_id}", headers=parties.b.auth)
    assert for_a.status_code == for_b.status_code == 200
    assert for_b.headers["ETag"] == 'W/"1"'
    request_a, request_b = valid(for_a.json()), valid(for_b.json())
    systems_a = {c["system"] for r in request_a["reasonCode"] for c in r["coding"]}
    assert CASE_CATEGORY in systems_a
    # The provider B has no consent to protection-sensitive data: no case category.
    systems_b = {c["system"] for r in request_b.get("reasonCode", []) for c in r["coding"]}
    assert CASE_CATEGORY not in systems_b
    assert request_b["meta"]["security"][0]["code"] == "REDACTED"
    assert "protection_sensitive" not in for_b.headers["MNO-Permitted-Categories"]

    task = await client.get(f"/fhir/Task/{referral_id}", headers=parties.b.auth)
    assert task.status_code == 200
    body = valid(task.json())
    assert body["status"] == "requested"
    assert body["businessStatus"]["coding"][0]["code"] == "submitted"
    assert body["owner"]["identifier"]["value"] == parties.b.agency
    assert body["focus"]["reference"] == f"ServiceRequest/{referral_id}"


async def test_third_agency_gets_404_and_missing_scopes_403_as_operation_outcomes(
    client: AsyncClient, parties: Parties, database: Database
) -> None:
    referral_id = await created_id(client, parties.a, parties.b.agency)
    answers = [
        await client.get(f"/fhir/{kind}/{ref}", headers=parties.c.auth)
        for kind in ("ServiceRequest", "Task")
        for ref in (referral_id, str(uuid.uuid4()), "not-a-referral")
    ]
    bodies = [outcome(answer, 404) for answer in answers]
    assert {code_of(body) for body in bodies} == {"referral_not_found"}
    assert {body["issue"][0]["code"] for body in bodies} == {"not-found"}
    task = (await client.get(f"/fhir/Task/{referral_id}", headers=parties.b.auth)).json()
    put = await client.put(
        f"/fhir/Task/{referral_id}",
        json={**task, "status": "accepted"},
        headers={**parties.c.auth, "Content-Type": FHIR_JSON},
    )
    assert code_of(outcome(put, 404)) == "referral_not_found"
    listed = await client.get("/fhir/Task", headers=parties.c.auth)
    assert listed.json()["entry"] == []

    reader = await make_party(client, database, "AGENCE-A", scopes="referrals:read")
    writer = await make_party(client, database, "AGENCE-B", scopes="referrals:write")
    posted = await create(client, reader, service_request_for(parties.b.agency))
    body = outcome(posted, 403)
    assert code_of(body) == "insufficient_scope"
    assert body["issue"][0]["code"] == "forbidden"
    assert body["issue"][0]["details"]["text"].startswith("Portée manquante")
    assert body["issue"][0]["diagnostics"].startswith("Missing scope")
    read = await client.get(f"/fhir/Task/{referral_id}", headers=writer.auth)
    assert code_of(outcome(read, 403)) == "insufficient_scope"
    anonymous = await client.get("/fhir/ServiceRequest")
    assert outcome(anonymous, 401)["issue"][0]["code"] == "login"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")


async def test_task_update_moves_the_referral_through_the_sop(
    client: AsyncClient, parties: Parties
) -> None:
    referral_id = await created_id(client, parties.a, parties.b.agency)
    read = await client.get(f"/fhir/Task/{referral_id}", headers=parties.b.auth)
    task = read.json()
    # A generic FHIR client changes Task.status only; the stale businessStatus gives way.
    accepted = await client.put(
        f"/fhir/Task/{referral_id}",
        json={**task, "status": "accepted"},
        headers={**parties.b.auth, "Content-Type": FHIR_JSON, "If-Match": read.headers["ETag"]},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.headers["ETag"] == 'W/"2"'
    assert valid(accepted.json())["businessStatus"]["coding"][0]["code"] == "accepted"
    rest = await client.get(f"/v1/referrals/{referral_id}", headers=parties.a.auth)
    assert rest.json()["status"] == "accepted"
    assert [h["action"] for h in rest.json()["history"]] == ["submit", "accept"]

    no_outcome = await client.put(
        f"/fhir/Task/{referral_id}",
        json={**task, "status": "completed"},
        headers={**parties.b.auth, "Content-Type": FHIR_JSON},
    )
    assert expressions(outcome(no_outcome, 422)) == ["Task.output"]
    output = {
        "type": {"text": "Résultat"},
        "valueCodeableConcept": {
            "coding": [
                {"system": "https://mno.gov.gn/fhir/CodeSystem/outcome", "code": "served_fully"}
            ]
        },
    }
    stale = await client.put(
        f"/fhir/Task/{referral_id}",
        json={**task, "status": "completed", "output": [output]},
        headers={**parties.b.auth, "Content-Type": FHIR_JSON, "If-Match": 'W/"1"'},
    )
    assert code_of(outcome(stale, 412)) == "version_mismatch"
    completed = await client.put(
        f"/fhir/Task/{referral_id}",
        json={**task, "status": "completed", "output": [output]},
        headers={**parties.b.auth, "Content-Type": FHIR_JSON, "If-Match": 'W/"2"'},
    )
    assert completed.status_code == 200, completed.text
    closing = {
        **completed.json(),
        "businessStatus": {"coding": [{"system": REFERRAL_STATUS, "code": "closed"}]},
    }
    closed = await client.put(
        f"/fhir/Task/{referral_id}",
        json=closing,
        headers={**parties.a.auth, "Content-Type": FHIR_JSON},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["businessStatus"]["coding"][0]["code"] == "closed"
    wrong_role = await client.put(
        f"/fhir/Task/{referral_id}",
        json={**task, "status": "cancelled"},
        headers={**parties.b.auth, "Content-Type": FHIR_JSON},
    )
    assert code_of(outcome(wrong_role, 403)) == "transition_not_allowed_for_role"


async def test_invalid_resources_name_the_element_at_fault(
    client: AsyncClient, parties: Parties
) -> None:
    sent = service_request_for(parties.b.agency)
    sent["category"][0]["coding"][0]["code"] = 3
    structural = outcome(await create(client, parties.a, sent), 400)
    assert expressions(structural) == ["ServiceRequest.category[0].coding[0].code"]

    no_case = service_request_for(parties.b.agency)
    no_case["reasonCode"] = [
        r for r in no_case["reasonCode"] if r["coding"][0]["system"] != CASE_CATEGORY
    ]
    assert expressions(outcome(await create(client, parties.a, no_case), 422)) == [
        "ServiceRequest.reasonCode"
    ]
    other = service_request_for(
        parties.b.agency,
        requester={
            "identifier": {
                "system": "https://mno.gov.gn/fhir/NamingSystem/agency-code",
                "value": parties.c.agency,
            }
        },
        intent="proposal",
    )
    assert expressions(outcome(await create(client, parties.a, other), 422)) == [
        "ServiceRequest.intent",
        "ServiceRequest.requester",
    ]
    no_service = service_request_for(parties.b.agency, category=[])
    no_service.pop("category")
    assert expressions(outcome(await create(client, parties.a, no_service), 422)) == [
        "ServiceRequest.category"
    ]
    as_text = await client.post(
        "/fhir/ServiceRequest",
        content="<ServiceRequest/>",
        headers={
            **parties.a.auth,
            "Content-Type": "application/fhir+xml",
            "Idempotency-Key": "x" * 8,
        },
    )
    assert code_of(outcome(as_text, 415)) == "unsupported_media_type"

    referral_id = await created_id(client, parties.a, parties.b.agency)
    task = (await client.get(f"/fhir/Task/{referral_id}", headers=parties.b.auth)).json()
    declined = await client.put(
        f"/fhir/Task/{referral_id}",
        json={**task, "status": "rejected"},
        headers={**parties.b.auth, "Content-Type": FHIR_JSON},
    )
    assert expressions(outcome(declined, 422)) == ["Task.statusReason"]
    other_id = await client.put(
        f"/fhir/Task/{referral_id}",
        json={**task, "id": str(uuid.uuid4()), "status": "received"},
        headers={**parties.b.auth, "Content-Type": FHIR_JSON},
    )
    assert expressions(outcome(other_id, 400)) == ["Task.id"]


async def test_searches_return_searchset_bundles_paged_by_next_links(
    client: AsyncClient, parties: Parties
) -> None:
    ids = [await created_id(client, parties.a, parties.b.agency) for _ in range(3)]
    task = (await client.get(f"/fhir/Task/{ids[0]}", headers=parties.b.auth)).json()
    acknowledged = await client.put(
        f"/fhir/Task/{ids[0]}",
        json={**task, "status": "received"},
        headers={**parties.b.auth, "Content-Type": FHIR_JSON},
    )
    assert acknowledged.status_code == 200, acknowledged.text

    received = await client.get("/fhir/Task?status=received", headers=parties.b.auth)
    bundle = valid(received.json())
    assert bundle["type"] == "searchset"
    assert [e["resource"]["id"] for e in bundle["entry"]] == [ids[0]]
    by_code = await client.get(
        f"/fhir/Task?business-status={REFERRAL_STATUS}|submitted", headers=parties.b.auth
    )
    assert {e["resource"]["id"] for e in by_code.json()["entry"]} == set(ids[1:])

    seen: list[str] = []
    url: str | None = "/fhir/ServiceRequest?status=active&_count=2"
    while url is not None:
        page = valid((await client.get(url, headers=parties.a.auth)).json())
        seen += [e["resource"]["id"] for e in page["entry"]]
        assert all(e["fullUrl"].endswith(e["resource"]["id"]) for e in page["entry"])
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        url = following[0].removeprefix("http://testserver") if following else None
    assert sorted(seen) == sorted(ids)

    revoked = await client.get("/fhir/ServiceRequest?status=revoked", headers=parties.a.auth)
    assert revoked.json()["entry"] == []
    later = await client.get(
        "/fhir/ServiceRequest?_lastUpdated=gt2999-01-01T00:00:00Z", headers=parties.a.auth
    )
    assert later.json()["entry"] == []
    bad = await client.get("/fhir/ServiceRequest?status=draft", headers=parties.a.auth)
    body = outcome(bad, 400)
    assert body["issue"][0]["location"] == ["http.status"]


async def test_receiver_the_mou_lets_read_nothing_still_takes_its_step(
    client: AsyncClient, parties: Parties
) -> None:
    sent = service_request_for(parties.b.agency)
    sent["contained"][0]["identifier"][0]["value"] = new_subject()  # no consent for B
    response = await create(client, parties.a, sent)
    assert response.status_code == 201, response.text
    referral_id = response.json()["id"]
    denied = await client.get(f"/fhir/Task/{referral_id}", headers=parties.b.auth)
    assert code_of(outcome(denied, 403)) == "policy_denied"
    task = {"resourceType": "Task", "id": referral_id, "status": "received", "intent": "order"}
    moved = await client.put(
        f"/fhir/Task/{referral_id}",
        json=task,
        headers={**parties.b.auth, "Content-Type": FHIR_JSON, "If-Match": 'W/"1"'},
    )
    assert moved.status_code == 200, moved.text
    echo = valid(moved.json())
    assert (echo["status"], echo["meta"]["versionId"]) == ("received", "2")
    assert echo["meta"]["security"][0]["code"] == "REDACTED"
    assert "for" not in echo
