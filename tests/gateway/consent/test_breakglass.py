"""Break-glass: scope, MoU roles and purposes, justification, time limit, audit, notification."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select

from gateway.audit.models import AuditEntry
from gateway.outbox.models import OutboxEvent
from tests.conftest import Database
from tests.gateway.consent.conftest import Agencies
from tests.gateway.consent.factories import new_subject
from tests.gateway.consent.helpers import check, refer
from tests.gateway.referrals.conftest import make_party


def emergency(subject: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": subject,
        "purpose": "referral",
        "justification": {
            "reason_code": "subject_incapacitated",
            "text": "Personne inconsciente à l'arrivée, soins urgents nécessaires.",
        },
    }
    body.update(changes)
    return body


async def test_health_provider_breaks_the_glass_for_24_hours_audited_and_notified(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    subject = new_subject()
    referral = await refer(client, agencies.a, "SANTE-DEMO", subject)
    before = await client.get(f"/v1/referrals/{referral['id']}", headers=agencies.health.auth)

    opened = await client.post(
        "/v1/break-glass", json=emergency(subject), headers=agencies.health.auth
    )
    after = await client.get(f"/v1/referrals/{referral['id']}", headers=agencies.health.auth)
    checked = await check(
        client, agencies.a, subject, "SANTE-DEMO", ["identity_contact", "health", "statistical"]
    )

    assert before.status_code == 403  # no consent at all
    assert opened.status_code == 201, opened.text
    grant = opened.json()
    hours = datetime.fromisoformat(grant["valid_until"]) - datetime.fromisoformat(
        grant["valid_from"]
    )
    assert hours.total_seconds() == 24 * 3600
    assert grant["categories"] == ["health", "identity_contact"]
    assert "data_protection_focal_point" in grant["notified"]
    assert grant["subject_pseudonym"] == referral["subject"]["pseudonym"]
    # The emergency opens the identity (the JWE) but nothing the MoU does not list.
    assert after.status_code == 200
    assert after.json()["protected"] == referral["protected"]
    assert "case_category" not in after.json()
    assert checked["permitted_categories"] == ["identity_contact", "health"]
    assert checked["break_glass_grant_id"] == grant["id"]
    assert {r["code"] for r in checked["reasons"]} == {"break_glass", "consent_missing"}
    async with database.engine.connect() as conn:
        audited = (
            await conn.execute(
                select(AuditEntry.decision, AuditEntry.detail, AuditEntry.policy_version).where(
                    AuditEntry.action == "break_glass.open"
                )
            )
        ).one()
        events = (
            await conn.execute(
                select(OutboxEvent.envelope).where(OutboxEvent.type == "gn.mno.breakglass.used.v1")
            )
        ).all()
    assert audited.decision == "permit"
    assert audited.detail.startswith("subject_incapacitated:referral:24h")
    assert audited.policy_version == "mou-guinee@0.1.0"
    notice = json.loads(events[0].envelope)
    assert notice["data"]["agency"] == "SANTE-DEMO"
    assert notice["data"]["grant_id"] == grant["id"]
    assert notice["partitionkey"] == grant["subject_pseudonym"]


async def test_break_glass_is_refused_outside_the_mou(
    client: AsyncClient, agencies: Agencies, database: Database
) -> None:
    subject = new_subject()
    ngo = await make_party(client, database, "AGENCE-C", "referrals:read break_glass", kind="ngo")

    without_scope = await client.post(
        "/v1/break-glass", json=emergency(subject), headers=agencies.b.auth
    )
    wrong_role = await client.post("/v1/break-glass", json=emergency(subject), headers=ngo.auth)
    wrong_purpose = await client.post(
        "/v1/break-glass",
        json=emergency(subject, purpose="research"),
        headers=agencies.health.auth,
    )
    too_long = await client.post(
        "/v1/break-glass",
        json=emergency(subject, duration_hours=48),
        headers=agencies.health.auth,
    )
    identifying = await client.post(
        "/v1/break-glass",
        json=emergency(
            subject,
            justification={"reason_code": "urgent_medical_care", "text": "Appeler le 622123456"},
        ),
        headers=agencies.health.auth,
    )

    assert without_scope.status_code == 403
    assert without_scope.json()["code"] == "insufficient_scope"
    assert wrong_role.status_code == 403
    assert wrong_role.json()["code"] == "break_glass_role_not_allowed"
    assert wrong_purpose.json()["code"] == "break_glass_purpose_not_allowed"
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "break_glass_too_long"
    assert identifying.status_code == 422
    async with database.engine.connect() as conn:
        refusals = (
            await conn.execute(
                select(AuditEntry.agency, AuditEntry.detail).where(
                    AuditEntry.action == "break_glass.open", AuditEntry.decision == "deny"
                )
            )
        ).all()
    assert sorted(tuple(r) for r in refusals) == [
        ("AGENCE-C", "break_glass_role_not_allowed:referral"),
        ("SANTE-DEMO", "break_glass_purpose_not_allowed:research"),
    ]
