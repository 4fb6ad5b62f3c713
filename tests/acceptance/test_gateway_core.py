"""The gateway core as the issue checks it: CLI set-up, a real OAuth2 client (secret and
private_key_jwt) against the real server, the SOP workflow, a third agency, the audit chain."""

from __future__ import annotations

import asyncio
import json
import uuid
import warnings
from pathlib import Path

import httpx
import pytest
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey
from sqlalchemy import select, update
from typer.testing import CliRunner

from gateway.audit.models import AuditEntry
from gateway.cli.main import app as cli
from tests.conftest import Database
from tests.gateway.auth.test_e2e import LiveServer, live_server  # noqa: F401 - fixture

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client


async def mno(monkeypatch: pytest.MonkeyPatch, database: Database, *args: str) -> str:
    """Run one ``mno`` command against the test database; its own event loop, in a thread."""
    monkeypatch.setenv("MNO_DATABASE_URL", database.url)
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


async def test_gateway_core_acceptance(
    live_server: LiveServer,  # noqa: F811
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for code, kind in (("AGENCE-A", "un"), ("AGENCE-B", "provider"), ("AGENCE-C", "ngo")):
        await mno(
            monkeypatch,
            database,
            "agencies",
            "add",
            code,
            "--name",
            f"Agence {code}",
            "--kind",
            kind,
        )
    scopes = "referrals:write referrals:read consent:write"
    a = json.loads(
        await mno(
            monkeypatch,
            database,
            "clients",
            "create",
            "--agency",
            "AGENCE-A",
            "--scopes",
            scopes,
            "--json",
        )
    )
    c = json.loads(
        await mno(
            monkeypatch,
            database,
            "clients",
            "create",
            "--agency",
            "AGENCE-C",
            "--scopes",
            scopes,
            "--json",
        )
    )
    key = ECKey.generate_key("P-256", auto_kid=True)
    jwks_file = tmp_path / "b-jwks.json"
    jwks_file.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    b = json.loads(
        await mno(
            monkeypatch,
            database,
            "clients",
            "create",
            "--agency",
            "AGENCE-B",
            "--scopes",
            scopes,
            "--jwks-file",
            str(jwks_file),
            "--json",
        )
    )
    assert b["client_secret"] is None
    example = json.loads(
        await mno(monkeypatch, database, "schemas", "example", "referral", "--to", "AGENCE-B")
    )

    token_url = f"{live_server.url}/oauth/token"
    async with AsyncOAuth2Client(a["client_id"], a["client_secret"]) as oauth:
        token_a = (await oauth.fetch_token(token_url, grant_type="client_credentials"))[
            "access_token"
        ]
    async with AsyncOAuth2Client(
        b["client_id"], key, token_endpoint_auth_method=PrivateKeyJWT(token_url, alg="ES256")
    ) as oauth:
        token_b = (await oauth.fetch_token(token_url, grant_type="client_credentials"))[
            "access_token"
        ]
    async with AsyncOAuth2Client(c["client_id"], c["client_secret"]) as oauth:
        token_c = (await oauth.fetch_token(token_url, grant_type="client_credentials"))[
            "access_token"
        ]

    consent = json.loads(await mno(monkeypatch, database, "schemas", "example", "consent"))
    consent.update(collecting_agency="AGENCE-A", recipients=["AGENCE-B"])

    async with httpx.AsyncClient(base_url=live_server.url) as http:
        # The example referral names a consent: record it first, as the SOP asks.
        recorded = await http.post(
            "/v1/consents", json=consent, headers={"Authorization": f"Bearer {token_a}"}
        )
        assert recorded.status_code == 201, recorded.text
        example["consent_id"] = recorded.json()["id"]
        created = await http.post(
            "/v1/referrals",
            json=example,
            headers={"Authorization": f"Bearer {token_a}", "Idempotency-Key": uuid.uuid4().hex},
        )
        assert created.status_code == 201, created.text
        referral_id = created.json()["id"]
        for body in (
            {"action": "acknowledge"},
            {"action": "accept"},
            {"action": "complete", "outcome": "served_fully"},
        ):
            moved = await http.post(
                f"/v1/referrals/{referral_id}/transitions",
                json=body,
                headers={"Authorization": f"Bearer {token_b}"},
            )
            assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == "completed"

        third = {"Authorization": f"Bearer {token_c}"}
        assert (await http.get(f"/v1/referrals/{referral_id}", headers=third)).status_code == 404
        listed = await http.get("/v1/referrals", headers=third)
        assert listed.json()["items"] == []
        no_token = await http.get(f"/v1/referrals/{referral_id}")
        assert no_token.status_code == 401
        assert no_token.headers["content-type"] == "application/problem+json"

    assert "intègre" in await mno(monkeypatch, database, "audit", "verify")
    async with database.engine.begin() as conn:
        victim = (
            await conn.execute(select(AuditEntry.id).order_by(AuditEntry.id).limit(1))
        ).scalar_one()
        await conn.execute(
            update(AuditEntry).where(AuditEntry.id == victim).values(action="tampered")
        )
    monkeypatch.setenv("MNO_DATABASE_URL", database.url)
    failed = await asyncio.to_thread(CliRunner().invoke, cli, ["audit", "verify"])
    assert failed.exit_code == 1
    assert f"entry {victim} " in failed.output
