"""``/v1/meal``: scope, suppression, exports (CSV, XLSX, DHIS2 dataValueSets)."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
from httpx import AsyncClient
from openpyxl import load_workbook

from gateway.meal.dhis2 import DATAVALUESET_SCHEMA_FILE
from tests.conftest import Database
from tests.gateway.meal.conftest import feed
from tests.gateway.meal.factories import october_stream
from tests.gateway.referrals.conftest import Party, make_party


async def _reader(client: AsyncClient, database: Database, scopes: str = "meal:read") -> Party:
    party = await make_party(client, database, "MEAL-SEC", scopes=scopes, kind="government")
    await feed(database, october_stream())
    return party


async def test_indicators_need_the_meal_read_scope(client: AsyncClient, database: Database) -> None:
    party = await _reader(client, database, scopes="referrals:read")
    response = await client.get("/v1/meal/indicators?period=2026-10", headers=party.auth)
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    anonymous = await client.get("/v1/meal/indicators?period=2026-10")
    assert anonymous.status_code == 401


async def test_indicators_are_published_with_suppression(
    client: AsyncClient, database: Database
) -> None:
    party = await _reader(client, database)
    response = await client.get(
        "/v1/meal/indicators?period=2026-10&disaggregate=sex,agency", headers=party.auth
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["purpose"] == "statistical"
    assert body["period"]["label_fr"] == "octobre 2026"
    items = {i["code"]: i for i in body["indicators"]}
    assert items["referrals_made"]["value"] == 9
    assert items["consent_withdrawals"]["value"] == "<5"
    agencies = {
        c["code"]: c["value"] for c in items["referrals_received"]["disaggregations"]["agency"]
    }
    assert agencies["SANTE"] == 6
    assert "<5" in agencies.values()
    assert response.headers["cache-control"] == "no-store"


async def test_bad_parameters_are_problems_in_french(
    client: AsyncClient, database: Database
) -> None:
    party = await _reader(client, database)
    period = await client.get("/v1/meal/indicators?period=2026-13", headers=party.auth)
    assert period.status_code == 422
    assert period.json()["code"] == "invalid_period"
    assert "Période invalide" in period.json()["detail"]
    dimension = await client.get("/v1/meal/indicators?disaggregate=name", headers=party.auth)
    assert dimension.json()["code"] == "unknown_disaggregation"
    region = await client.get("/v1/meal/indicators?region=GN-ZZ", headers=party.auth)
    assert region.json()["code"] == "unknown_region"


async def test_csv_export_lists_total_and_every_breakdown(
    client: AsyncClient, database: Database
) -> None:
    party = await _reader(client, database)
    response = await client.get(
        "/v1/meal/indicators/referrals_made/export?period=2026-10&format=csv", headers=party.auth
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "mno-referrals_made-2026-10.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["dimension"] == "total"
    assert rows[0]["value"] == "9"
    sexes = {r["category"]: r["value"] for r in rows if r["dimension"] == "sex"}
    assert sexes == {"female": "", "male": "<5"}
    assert {r["dimension"] for r in rows} >= {"sex", "age_band", "region", "agency", "service"}


async def test_xlsx_export_opens_with_french_headers(
    client: AsyncClient, database: Database
) -> None:
    party = await _reader(client, database)
    response = await client.get(
        "/v1/meal/indicators/consent_withdrawals/export?period=2026-10&format=xlsx",
        headers=party.auth,
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet["A6"].value == "Réf."
    assert sheet["I7"].value == "<5"  # the total: 3 withdrawals


async def test_unknown_indicator_export_is_404(client: AsyncClient, database: Database) -> None:
    party = await _reader(client, database)
    response = await client.get("/v1/meal/indicators/nope/export", headers=party.auth)
    assert response.status_code == 404


async def test_dhis2_export_validates_against_the_datavaluesets_schema(
    client: AsyncClient, database: Database
) -> None:
    party = await _reader(client, database)
    response = await client.get("/v1/meal/dhis2?period=2026-10", headers=party.auth)
    assert response.status_code == 200
    body = response.json()
    schema = json.loads(DATAVALUESET_SCHEMA_FILE.read_text())
    jsonschema.validate(body, schema)
    assert body["period"] == "202610"
    by_element = {(v["dataElement"], v["orgUnit"]): v["value"] for v in body["dataValues"]}
    assert by_element[("MnoRefRecv1", "GnNational1")] == "9"
    assert by_element[("MnoAckMed01", "GnNational1")] == "5.0"
    assert by_element[("MnoActAgc01", "GnNational1")] == "6"
    assert ("MnoRefRecv1", "GnRegCkry01") not in by_element  # 4 in Conakry: left out
    assert by_element[("MnoOverdue1", "GnRegCkry01")] == "0"  # regional values, own org unit
    assert all(v["value"] != "<5" for v in body["dataValues"])
