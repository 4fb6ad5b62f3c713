"""``mno meal check | export-dhis2 | report`` and ``mno staff add``."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import jsonschema
from typer.testing import CliRunner, Result

from gateway.cli.main import app
from gateway.dashboard import service as staff_service
from gateway.db.engine import make_sessionmaker
from gateway.meal.dhis2 import DATAVALUESET_SCHEMA_FILE
from gateway.meal.logframe import DEFAULT_LOGFRAME, LOGFRAME_SCHEMA_FILE, logframe_json_schema
from tests.conftest import Database
from tests.gateway.meal.conftest import feed
from tests.gateway.meal.factories import october_stream


async def _mno(database: Database | None, *args: str) -> Result:
    env = {"MNO_DATABASE_URL": database.url} if database else {}
    # The commands run their own event loop: keep them off the test's.
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def test_meal_check_accepts_the_committed_logframe() -> None:
    result = await _mno(None, "meal", "check")
    assert result.exit_code == 0, result.output
    assert "Cadre logique valide : 2 objectifs, 5 résultats, 18 indicateurs" in result.output
    assert "1.1.1 Nombre d'orientations effectuées [sex, age_band" in result.output


async def test_meal_check_names_each_problem(tmp_path: Path) -> None:
    text = DEFAULT_LOGFRAME.read_text(encoding="utf-8")
    broken = text.replace("code: referrals_received", "code: referrals_invented", 1).replace(
        "disaggregations: [agency, reason]", "disaggregations: [agency, reason, sex]", 1
    )
    path = tmp_path / "logframe.yaml"
    path.write_text(broken, encoding="utf-8")
    result = await _mno(None, "meal", "check", "--logframe", str(path))
    assert result.exit_code == 1
    assert "Cadre logique invalide" in result.output
    assert "referrals_invented" in result.output
    assert "disaggregation not available for consent_withdrawals: sex" in result.output


def test_committed_logframe_schema_is_current() -> None:
    assert LOGFRAME_SCHEMA_FILE.read_text(encoding="utf-8") == logframe_json_schema()


async def test_export_dhis2_writes_a_valid_datavalueset(tmp_path: Path, database: Database) -> None:
    await feed(database, october_stream())
    out = tmp_path / "dhis2.json"
    result = await _mno(database, "meal", "export-dhis2", "--period", "2026Q4", "-o", str(out))
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    jsonschema.validate(body, json.loads(DATAVALUESET_SCHEMA_FILE.read_text()))
    assert body["period"] == "2026Q4"
    values = {
        v["dataElement"]: v["value"]
        for v in body["dataValues"]
        if v["orgUnit"] == "GnNational1" and v["categoryOptionCombo"] == "HllvX50cXC0"
    }
    assert values["MnoRefRecv1"] == "9"
    assert "masquées ou vides omises" in result.output


async def test_report_writes_french_html_and_pdf_with_charts(
    tmp_path: Path, database: Database
) -> None:
    await feed(database, october_stream())
    result = await _mno(
        database, "meal", "report", "--period", "2026-10", "--out-dir", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "rapport-meal-2026-10.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    assert "Rapport au comité de pilotage" in html
    assert "octobre 2026" in html
    assert html.count("<svg") == 9  # 4 trends + 5 breakdowns
    assert "Conakry (zone spéciale)" in html
    pdf = (tmp_path / "rapport-meal-2026-10.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b", pdf)) >= 2


async def test_staff_add_prints_a_password_once_that_signs_in(database: Database) -> None:
    result = await _mno(database, "staff", "add", "Comite@MNO.gov.gn", "--role", "admin")
    assert result.exit_code == 0, result.output
    password = re.search(r"shown once\): (\S+)", result.output)
    assert password is not None
    async with make_sessionmaker(database.engine)() as session:
        user = await staff_service.authenticate(session, "comite@mno.gov.gn", password.group(1))
    assert user is not None
    assert user.role == "admin"
    again = await _mno(database, "staff", "add", "comite@mno.gov.gn")
    assert again.exit_code == 1
    assert "existe déjà" in again.output
    listed = await _mno(database, "staff", "list")
    assert "comite@mno.gov.gn\tadmin\tactif" in listed.output
    assert password.group(1) not in listed.output
