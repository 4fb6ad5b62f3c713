"""Open Referral HSDS 3.0: JSON and CSV round trips, the demo file, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.demo import DEMO_AGENCIES
from gateway.directory import hsds
from gateway.directory.service import Organization
from gateway.errors import ValidationFailed
from tests.conftest import Database
from tests.gateway.directory.conftest import DEMO_FILE


def demo() -> tuple[list[Organization], list[hsds.DirectoryService]]:
    return hsds.from_hsds(hsds.read_document(DEMO_FILE))


def test_the_demo_directory_is_fictional_and_covers_every_demo_agency() -> None:
    organizations, entries = demo()
    assert {o.code for o in organizations} == {code for code, *_ in DEMO_AGENCIES}
    assert len(entries) >= 10
    for entry in entries:
        assert "fictif" in entry.name or "fictive" in entry.name, entry.name
        for contact in entry.contacts:
            assert contact.email is None or contact.email.endswith(".example.org")
    assert any(e.id == "sante-demo.medical.kaloum" for e in entries)  # the examples' service


def test_json_round_trip_keeps_every_field() -> None:
    organizations, entries = demo()
    again_orgs, again = hsds.from_hsds(json.loads(json.dumps(hsds.to_hsds(organizations, entries))))
    assert sorted(again, key=lambda e: e.id) == sorted(entries, key=lambda e: e.id)
    assert sorted(again_orgs, key=lambda o: o.code) == sorted(organizations, key=lambda o: o.code)


def test_csv_tables_round_trip(tmp_path: Path) -> None:
    organizations, entries = demo()
    written = hsds.write_export(hsds.to_hsds(organizations, entries), tmp_path)
    names = {p.name for p in written}
    assert {"directory.json", "services.csv", "service_areas.csv", "datapackage.json"} <= names
    header = (tmp_path / "services.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("id,organization_id,name")
    (tmp_path / "directory.json").unlink()  # read the tables, not the JSON
    _orgs, again = hsds.from_hsds(hsds.read_document(tmp_path / "services.csv"))
    assert sorted(again, key=lambda e: e.id) == sorted(entries, key=lambda e: e.id)


def test_a_named_contact_is_refused() -> None:
    document = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    document["services"][0]["contacts"][0]["name"] = "Mariama Camara"
    with pytest.raises(ValidationFailed, match="named contact refused"):
        hsds.from_hsds(document)


def test_a_service_without_category_is_refused_with_its_id() -> None:
    document = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    service = document["services"][0]
    service["attributes"] = [a for a in service["attributes"] if a["link_type"] != "category"]
    with pytest.raises(ValidationFailed) as caught:
        hsds.from_hsds(document)
    assert service["id"] in caught.value.message_fr
    assert caught.value.code == "invalid_hsds"


def test_cli_imports_then_exports_the_directory(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MNO_DATABASE_URL", database.url)
    runner = CliRunner()
    imported = runner.invoke(app, ["directory", "import", str(DEMO_FILE)])
    assert imported.exit_code == 0, imported.output
    assert "services créés / created: 14" in imported.output
    again = runner.invoke(app, ["directory", "import", str(DEMO_FILE)])
    assert "mis à jour / updated: 14" in again.output
    exported = runner.invoke(app, ["directory", "export", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    _orgs, entries = hsds.from_hsds(hsds.read_document(tmp_path / "out" / "directory.json"))
    assert sorted(entries, key=lambda e: e.id) == sorted(demo()[1], key=lambda e: e.id)
    broken = tmp_path / "broken.json"
    broken.write_text('{"services": [{"id": "x"}]}', encoding="utf-8")
    bad = runner.invoke(app, ["directory", "import", str(broken)])
    assert bad.exit_code == 1
    assert "HSDS invalide (services[x])" in bad.output
