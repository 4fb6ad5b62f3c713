"""``mno agencies`` and ``mno clients`` against a migrated SQLite file."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from joserfc.jwk import ECKey
from typer.testing import CliRunner

from gateway.agencies import repository
from gateway.auth.crypto import verify_client_secret
from gateway.cli.main import app
from gateway.db.engine import make_engine, make_sessionmaker


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def run(db_url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"MNO_DATABASE_URL": db_url})
    return result.exit_code, result.stdout, result.stderr


def _client_row_secret_hash(db_url: str, client_id: str) -> str | None:
    async def main() -> str | None:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as session:
                row = await repository.get_client(session, client_id)
                assert row is not None
                return row.secret_hash
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_agencies_add_and_list(db_url: str) -> None:
    code, out, _ = run(
        db_url, "agencies", "add", "OIM-GN", "--name", "Agence fictive", "--kind", "un", "--json"
    )
    assert code == 0
    assert json.loads(out)["code"] == "OIM-GN"
    code, out, _ = run(
        db_url, "agencies", "add", "MASE", "--name", "Ministère fictif", "--kind", "government"
    )
    assert code == 0
    assert "MASE" in out
    code, out, _ = run(db_url, "agencies", "list", "--json")
    assert [a["code"] for a in json.loads(out)] == ["MASE", "OIM-GN"]


def test_agencies_add_refuses_bad_input_with_exit_1(db_url: str) -> None:
    code, _, err = run(db_url, "agencies", "add", "OIM-GN", "--name", "X", "--kind", "company")
    assert code == 1
    assert "unknown kind" in err
    assert "type inconnu" in err


def test_agencies_add_with_a_public_key_file(db_url: str, tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256")
    pem = tmp_path / "oim.pem"
    pem.write_bytes(key.as_pem(private=False))
    code, out, _ = run(
        db_url,
        "agencies",
        "add",
        "OIM-GN",
        "--name",
        "Agence fictive",
        "--kind",
        "un",
        "--public-key-file",
        str(pem),
        "--json",
    )
    assert code == 0
    jwk = json.loads(out)["public_jwk"]
    assert jwk["kty"] == "EC"
    assert "d" not in jwk


def test_clients_create_prints_the_secret_once_as_json(db_url: str) -> None:
    run(db_url, "agencies", "add", "OIM-GN", "--name", "Agence fictive", "--kind", "un")
    code, out, _ = run(
        db_url,
        "clients",
        "create",
        "--agency",
        "OIM-GN",
        "--scopes",
        "referrals:write referrals:read",
        "--json",
    )
    assert code == 0
    created = json.loads(out)
    assert set(created) == {"client_id", "client_secret"}
    assert len(created["client_secret"]) >= 43
    stored = _client_row_secret_hash(db_url, created["client_id"])
    assert stored is not None
    assert created["client_secret"] not in stored
    assert verify_client_secret(created["client_secret"], stored)
    code, out, _ = run(db_url, "clients", "list", "--json")
    assert created["client_secret"] not in out
    assert json.loads(out)[0]["client_id"] == created["client_id"]


def test_clients_create_with_jwks_has_no_secret(db_url: str, tmp_path: Path) -> None:
    run(db_url, "agencies", "add", "OIM-GN", "--name", "Agence fictive", "--kind", "un")
    jwks = tmp_path / "client.jwks.json"
    key = ECKey.generate_key("P-256", auto_kid=True)
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    code, out, _ = run(
        db_url,
        "clients",
        "create",
        "--agency",
        "OIM-GN",
        "--scopes",
        "referrals:read",
        "--jwks-file",
        str(jwks),
        "--json",
    )
    assert code == 0
    created = json.loads(out)
    assert created["client_secret"] is None
    assert _client_row_secret_hash(db_url, created["client_id"]) is None


def test_clients_revoke(db_url: str) -> None:
    run(db_url, "agencies", "add", "OIM-GN", "--name", "Agence fictive", "--kind", "un")
    _, out, _ = run(
        db_url, "clients", "create", "--agency", "OIM-GN", "--scopes", "admin", "--json"
    )
    client_id = json.loads(out)["client_id"]
    code, out, _ = run(db_url, "clients", "revoke", client_id)
    assert code == 0
    assert client_id in out
    _, out, _ = run(db_url, "clients", "list", "--json")
    assert json.loads(out)[0]["revoked"] is True
    code, _, err = run(db_url, "clients", "revoke", "nobody")
    assert code == 1
    assert "Unknown client" in err


def test_clients_create_for_an_unknown_agency_fails(db_url: str) -> None:
    code, _, err = run(db_url, "clients", "create", "--agency", "NOPE", "--scopes", "admin")
    assert code == 1
    assert "Unknown agency" in err
