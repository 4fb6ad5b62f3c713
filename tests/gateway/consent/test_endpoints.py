"""The consent registry API on both databases: record, read, withdraw, check, purge receipts."""

from __future__ import annotations

import asyncio
import json

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from typer.testing import CliRunner

from gateway.audit.models import AuditEntry
from gateway.cli.main import app as cli
from gateway.consent.models import ConsentRow
from gateway.linkage.rekey import linkage_secret, rekey_token
from gateway.outbox.models import OutboxEvent
from schemas.consent import Consent
from schemas.fhir import PSEUDONYM, consent_to_fhir
from tests.conftest import Database
from tests.gateway.consent.conftest import Agencies
from tests.gateway.consent.factories import EXAMPLE_SUBJECT, consent_body, new_subject
from tests.gateway.consent.helpers import check, post_consent, refer

POLICY = "mou-guinee@0.1.0"


async def test_recorded_consent_is_keyed_like_referrals_and_announced(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    response = await post_consent(client, agencies.a, consent_body("AGENCE-A", ["AGENCE-B"]))

    assert response.status_code == 201, response.text
    consent = response.json()
    key = rekey_token(linkage_secret(database.settings()), EXAMPLE_SUBJECT)
    assert consent["subject_pseudonym"] == key
    assert consent["status"] == "granted"
    assert response.headers["Location"] == f"/v1/consents/{consent['id']}"
    async with database.engine.connect() as conn:
        stored = (await conn.execute(select(ConsentRow.subject_key))).scalar_one()
        events = (await conn.execute(select(OutboxEvent.type, OutboxEvent.key))).all()
    assert stored == key
    assert [(e.type, e.key) for e in events] == [("gn.mno.consent.granted.v1", key)]


async def test_an_agency_records_only_the_consents_it_collected(
    client: AsyncClient, agencies: Agencies
) -> None:
    foreign = await post_consent(client, agencies.a, consent_body("AGENCE-C", ["AGENCE-B"]))
    unknown = await post_consent(client, agencies.a, consent_body("AGENCE-A", ["AGENCE-Z"]))
    minor_without_guardian = consent_body("AGENCE-A", ["AGENCE-B"])
    minor_without_guardian["subject_is_minor"] = True

    assert foreign.status_code == 403
    assert foreign.json()["code"] == "not_collecting_agency"
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_recipient_agency"
    refused = await post_consent(client, agencies.a, minor_without_guardian)
    assert refused.status_code == 422


async def test_consents_are_listed_only_for_a_legitimate_link(
    client: AsyncClient, agencies: Agencies
) -> None:
    await post_consent(client, agencies.a, consent_body("AGENCE-A", ["AGENCE-B"]))
    referral = await refer(client, agencies.a, "AGENCE-B")
    gateway_key = referral["subject"]["pseudonym"]

    by_collector = await client.get(
        "/v1/consents", params={"subject": EXAMPLE_SUBJECT}, headers=agencies.a.auth
    )
    # The receiver knows the person only by the gateway's pseudonym from the referral.
    by_receiver = await client.get(
        "/v1/consents", params={"subject": gateway_key}, headers=agencies.b.auth
    )
    by_third = await client.get(
        "/v1/consents", params={"subject": EXAMPLE_SUBJECT}, headers=agencies.c.auth
    )

    assert by_collector.status_code == 200
    assert len(by_collector.json()["items"]) == 1
    assert by_receiver.json() == by_collector.json()
    assert by_third.status_code == 403
    assert by_third.json()["code"] == "no_legitimate_link"
    one = by_collector.json()["items"][0]["id"]
    assert (await client.get(f"/v1/consents/{one}", headers=agencies.c.auth)).status_code == 404


async def test_consent_check_permits_then_denies_after_withdrawal(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    consent = (
        await post_consent(client, agencies.a, consent_body("AGENCE-A", ["AGENCE-B"]))
    ).json()
    asked = ["identity_contact", "protection_sensitive"]

    before = await check(client, agencies.a, EXAMPLE_SUBJECT, "AGENCE-B", asked)
    withdrawn = await client.post(
        f"/v1/consents/{consent['id']}/withdraw",
        json={"reason": "requested_by_person"},
        headers=agencies.a.auth,
    )
    after = await check(client, agencies.a, EXAMPLE_SUBJECT, "AGENCE-B", asked)

    assert before["decision"] == "permit"
    assert before["permitted_categories"] == ["identity_contact"]
    assert before["consent_ids"] == [consent["id"]]
    assert before["policy_version"] == "0.1.0"
    sensitive = next(r for r in before["reasons"] if r["category"] == "protection_sensitive")
    assert sensitive["code"] == "no_flow"
    assert "protocole d'accord" in sensitive["fr"]
    assert "MoU" in sensitive["en"]
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert after["decision"] == "deny"
    assert after["permitted_categories"] == []
    assert {r["code"] for r in after["reasons"]} >= {"consent_withdrawn"}
    async with database.engine.connect() as conn:
        audited = (
            await conn.execute(
                select(AuditEntry.decision, AuditEntry.policy_version)
                .where(AuditEntry.action == "consent.check")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [tuple(a) for a in audited] == [("permit", POLICY), ("deny", POLICY)]


async def test_withdrawal_is_announced_and_asks_the_holders_for_purge_receipts(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    consent = (
        await post_consent(client, agencies.a, consent_body("AGENCE-A", ["AGENCE-B"]))
    ).json()
    await refer(client, agencies.a, "AGENCE-B")
    # The receiver may withdraw too: the person can tell any agency that serves them.
    withdrawn = await client.post(
        f"/v1/consents/{consent['id']}/withdraw",
        json={"reason": "requested_by_person"},
        headers=agencies.b.auth,
    )
    again = await client.post(
        f"/v1/consents/{consent['id']}/withdraw",
        json={"reason": "requested_by_person"},
        headers=agencies.a.auth,
    )
    pending_for_b = await client.get("/v1/consents/purge-receipts", headers=agencies.b.auth)
    by_third = await client.post(
        f"/v1/consents/{consent['id']}/purge-receipts", headers=agencies.c.auth
    )
    confirmed = await client.post(
        f"/v1/consents/{consent['id']}/purge-receipts", headers=agencies.b.auth
    )
    confirmed_again = await client.post(
        f"/v1/consents/{consent['id']}/purge-receipts", headers=agencies.b.auth
    )
    listed = await client.get(
        f"/v1/consents/{consent['id']}/purge-receipts", headers=agencies.a.auth
    )

    assert withdrawn.status_code == 200, withdrawn.text
    assert again.status_code == 409
    assert [(r["agency"], r["status"]) for r in pending_for_b.json()["items"]] == [
        ("AGENCE-B", "pending")
    ]
    assert by_third.status_code == 404
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed_again.json()["confirmed_at"] == confirmed.json()["confirmed_at"]
    assert [(r["agency"], r["status"]) for r in listed.json()["items"]] == [
        ("AGENCE-B", "confirmed")
    ]
    async with database.engine.connect() as conn:
        events = (
            await conn.execute(
                select(OutboxEvent.type, OutboxEvent.envelope).order_by(OutboxEvent.id)
            )
        ).all()
    withdrawal = [json.loads(e.envelope) for e in events if e.type.endswith("withdrawn.v1")]
    assert len(withdrawal) == 1
    assert withdrawal[0]["data"]["withdrawal_reason"] == "requested_by_person"


async def test_withdrawal_cannot_be_dated_in_the_future(
    client: AsyncClient, agencies: Agencies
) -> None:
    consent = (
        await post_consent(client, agencies.a, consent_body("AGENCE-A", ["AGENCE-B"]))
    ).json()
    response = await client.post(
        f"/v1/consents/{consent['id']}/withdraw",
        json={"reason": "requested_by_person", "withdrawn_at": "2999-01-01T00:00:00+00:00"},
        headers=agencies.a.auth,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "withdrawal_in_future"


async def test_receiver_reads_a_referral_redacted_to_its_consent(
    client: AsyncClient, agencies: Agencies
) -> None:
    # Consent to share coded data with B, but not the identity (no JWE, no tokens).
    await post_consent(
        client,
        agencies.a,
        consent_body("AGENCE-A", ["AGENCE-B"], categories=["socio_economic", "statistical"]),
    )
    referral = await refer(client, agencies.a, "AGENCE-B")

    read = await client.get(f"/v1/referrals/{referral['id']}", headers=agencies.b.auth)
    own = await client.get(f"/v1/referrals/{referral['id']}", headers=agencies.a.auth)

    assert read.status_code == 200
    body = read.json()
    assert body["id"] == referral["id"]
    for hidden in ("protected", "external_reference", "case_category", "vulnerabilities"):
        assert hidden not in body
    assert "tokens" not in body["subject"]
    assert "birth_year" not in body["subject"]
    assert read.headers["MNO-Permitted-Categories"] == "socio_economic,statistical"
    assert read.headers["MNO-Policy-Version"] == "0.1.0"
    # The referring agency reads back all it sent, except the receiver's JWE.
    assert own.json()["case_category"] == referral["case_category"]
    assert own.json()["protected"] is None


async def test_receiver_without_consent_reads_nothing_but_can_act(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    referral = await refer(client, agencies.a, "AGENCE-B", new_subject())

    read = await client.get(f"/v1/referrals/{referral['id']}", headers=agencies.b.auth)
    listed = await client.get("/v1/referrals?role=received", headers=agencies.b.auth)
    moved = await client.post(
        f"/v1/referrals/{referral['id']}/transitions",
        json={"action": "decline", "reason_code": "no_capacity"},
        headers=agencies.b.auth,
    )

    assert read.status_code == 403
    assert read.json()["code"] == "policy_denied"
    assert {e["type"] for e in read.json()["errors"]} == {"consent_missing", "no_flow"}
    assert listed.json()["items"] == []
    assert moved.status_code == 200
    assert moved.json() == {"id": referral["id"], "status": "declined", "version": 2}
    async with database.engine.connect() as conn:
        denials = (
            await conn.execute(
                select(AuditEntry.action, AuditEntry.agency, AuditEntry.policy_version).where(
                    AuditEntry.decision == "deny", AuditEntry.object_id == referral["id"]
                )
            )
        ).all()
    assert ("referral.read", "AGENCE-B", POLICY) in [tuple(d) for d in denials]


async def test_fhir_consent_round_trip(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    body = consent_body("AGENCE-A", ["AGENCE-B", "provider"])
    draft = Consent.model_validate(
        {
            **body,
            "id": "0b5f9d3c-6a0e-4d8b-9a57-2f1c3e7a9b11",
            "recorded_at": body["valid_from"],
        }
    )
    resource = consent_to_fhir(draft)

    created = await client.post(
        "/fhir/Consent",
        content=json.dumps(resource),
        headers={**agencies.a.auth, "Content-Type": "application/fhir+json"},
    )
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/fhir+json")
    assert created.json()["id"] == "0b5f9d3c-6a0e-4d8b-9a57-2f1c3e7a9b11"
    read = await client.get(created.headers["Location"], headers=agencies.a.auth)
    key = rekey_token(linkage_secret(database.settings()), EXAMPLE_SUBJECT)
    found = await client.get(
        "/fhir/Consent",
        params={"patient:identifier": f"{PSEUDONYM}|{EXAMPLE_SUBJECT}"},
        headers=agencies.a.auth,
    )
    duplicate = await client.post(
        "/fhir/Consent",
        content=json.dumps(resource),
        headers={**agencies.a.auth, "Content-Type": "application/fhir+json"},
    )
    wrong_type = await client.post(
        "/fhir/Consent", content="{}", headers={**agencies.a.auth, "Content-Type": "text/plain"}
    )

    assert read.json()["patient"]["identifier"]["value"] == key
    assert read.json()["provision"]["securityLabel"][0]["code"] == "identity_contact"
    assert found.json()["resourceType"] == "Bundle"
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [created.json()["id"]]
    assert duplicate.status_code == 409
    assert wrong_type.status_code == 415


async def test_consent_cli_lists_pending_purge_receipts(
    client: AsyncClient, agencies: Agencies, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    consent = (
        await post_consent(client, agencies.a, consent_body("AGENCE-A", ["AGENCE-B"]))
    ).json()
    await refer(client, agencies.a, "AGENCE-B")
    await client.post(
        f"/v1/consents/{consent['id']}/withdraw",
        json={"reason": "requested_by_person"},
        headers=agencies.a.auth,
    )
    monkeypatch.setenv("MNO_DATABASE_URL", database.url)
    shown = await asyncio.to_thread(CliRunner().invoke, cli, ["consent", "receipts"])
    as_json = await asyncio.to_thread(CliRunner().invoke, cli, ["consent", "receipts", "--json"])
    await client.post(f"/v1/consents/{consent['id']}/purge-receipts", headers=agencies.b.auth)
    none_left = await asyncio.to_thread(CliRunner().invoke, cli, ["consent", "receipts"])

    assert shown.exit_code == 0, shown.output
    assert "AGENCE-B" in shown.output
    assert consent["id"] in shown.output
    assert json.loads(as_json.output.splitlines()[0])["status"] == "pending"
    assert "Aucun accusé de purge en attente" in none_left.output
