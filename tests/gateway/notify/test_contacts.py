"""Focal points: the admin endpoint and ``mno agencies contact``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from httpx import AsyncClient
from typer.testing import CliRunner

from gateway.cli.main import app
from tests.conftest import Database
from tests.gateway.referrals.conftest import Party, make_party


@pytest.fixture
async def admin(client: AsyncClient, database: Database) -> Party:
    await make_party(client, database, "AGENCE-B", "referrals:read", kind="provider")
    return await make_party(client, database, "MNO-SECRETARIAT", "admin", kind="government")


async def test_admin_adds_lists_and_removes_focal_points(client: AsyncClient, admin: Party) -> None:
    base = "/v1/admin/agencies/AGENCE-B/contacts"
    response = await client.post(
        base,
        json={"channel": "email", "address": "orientation@agence-b.example.org"},
        headers=admin.auth,
    )
    assert response.status_code == 201, response.text
    email = response.json()
    assert email["events"] == [
        "referral_received",
        "referral_overdue",
        "consent_withdrawn",
        "duplicate_suspected",
        "webhook_disabled",
    ]
    response = await client.post(
        base,
        json={"channel": "sms", "address": "+224620000001", "events": ["referral_overdue"]},
        headers=admin.auth,
    )
    assert response.status_code == 201
    listed = await client.get(base, headers=admin.auth)
    assert [(c["channel"], c["events"]) for c in listed.json()] == [
        ("email", email["events"]),
        ("sms", ["referral_overdue"]),
    ]
    duplicate = await client.post(
        base,
        json={"channel": "email", "address": "orientation@agence-b.example.org"},
        headers=admin.auth,
    )
    assert duplicate.status_code == 409
    removed = await client.delete(f"{base}/{email['id']}", headers=admin.auth)
    assert removed.status_code == 204
    assert len((await client.get(base, headers=admin.auth)).json()) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"channel": "sms", "address": "620000001"}, "invalid_contact_address"),
        ({"channel": "email", "address": "pas-une-adresse"}, "invalid_contact_address"),
        (
            {"channel": "email", "address": "a@b.example.org", "events": ["tout"]},
            "invalid_notice_kinds",
        ),
    ],
)
async def test_invalid_focal_points_are_refused(
    client: AsyncClient, admin: Party, body: dict[str, object], code: str
) -> None:
    response = await client.post(
        "/v1/admin/agencies/AGENCE-B/contacts", json=body, headers=admin.auth
    )
    assert response.status_code == 422
    assert response.json()["code"] == code


async def test_only_admins_manage_focal_points(client: AsyncClient, database: Database) -> None:
    agency = await make_party(client, database, "AGENCE-C", "referrals:read subscriptions:write")
    response = await client.get("/v1/admin/agencies/AGENCE-C/contacts", headers=agency.auth)
    assert response.status_code == 403


def test_cli_adds_and_lists_focal_points(tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    env = {"MNO_DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
    runner = CliRunner()
    added = runner.invoke(
        app, ["agencies", "add", "AGENCE-D", "--name", "Agence fictive", "--kind", "ngo"], env=env
    )
    assert added.exit_code == 0, added.output
    result = runner.invoke(
        app,
        [
            "agencies", "contact", "add", "AGENCE-D", "--channel", "email",
            "--address", "permanence@agence-d.example.org",
            "--events", "referral_received,referral_overdue", "--json",
        ],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["events"] == ["referral_received", "referral_overdue"]
    listed = runner.invoke(app, ["agencies", "contact", "list", "AGENCE-D", "--json"], env=env)
    assert [c["address"] for c in json.loads(listed.stdout)] == ["permanence@agence-d.example.org"]
    refused = runner.invoke(
        app,
        ["agencies", "contact", "add", "AGENCE-D", "--channel", "fax", "--address", "x"],
        env=env,
    )
    assert refused.exit_code == 1
    assert "email ou sms" in refused.stderr
