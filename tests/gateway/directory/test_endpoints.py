"""Directory API: public search, writes limited to one's own agency, HSDS export, pages."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from gateway.forms.flow import shown_in
from schemas.codes import ReferralStatus
from tests.conftest import Database
from tests.gateway.auth.factories import bearer, token_for
from tests.gateway.directory.conftest import load_demo

WRITE = "directory:write"


def entry(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "ong-test.ecoute",
        "agency": "ONG-TEST",
        "name": "Écoute fictive de test",
        "category": "mhpss",
        "eligibility": {"min_age": 12},
        "languages": ["fra", "sus"],
        "areas_served": ["GN-C"],
        "capacity": 10,
        "capacity_available": 4,
        "locations": [{"id": "siege", "name": "Siège fictif", "area": "GN-C"}],
        "hours": [{"days": ["MO", "TU"], "opens_at": "08:00", "closes_at": "16:00"}],
        "contacts": [{"role": "Point focal référencement", "email": "ref@ong-test.example.org"}],
    }
    body.update(changes)
    return body


async def test_search_is_public_and_filters_by_category_area_and_language(
    client: AsyncClient, database: Database
) -> None:
    await load_demo(database)
    medical = await client.get(
        "/v1/directory/services", params={"category": "medical", "area": "GN-KD"}
    )
    assert medical.status_code == 200
    assert [s["id"] for s in medical.json()["items"]] == ["sante-demo.medical.kaloum"]
    kissi = await client.get("/v1/directory/services", params={"language": "kss"})
    assert {s["id"] for s in kissi.json()["items"]} == {
        "ong-solidarite.reintegration",
        "ong-solidarite.recherche-familiale",
    }
    page = kissi.json()
    assert page["count"] == 2
    assert page["items"][0]["agency_name"] == "Solidarité Réintégration Guinée (fictive)"


async def test_eligible_for_lists_only_services_the_profile_may_be_referred_to(
    client: AsyncClient, database: Database
) -> None:
    await load_demo(database)
    shelters = await client.get(
        "/v1/directory/services",
        params={"category": "shelter", "eligible_for": "victim_of_trafficking,sex:female,age:30"},
    )
    assert [s["id"] for s in shelters.json()["items"]] == ["ong-espoir.hebergement"]
    boys = await client.get(
        "/v1/directory/services",
        params={"category": "shelter", "eligible_for": "victim_of_trafficking,sex:male,age:30"},
    )
    assert boys.json()["items"] == []


async def test_bad_search_parameters_are_problems_in_french(client: AsyncClient) -> None:
    bad = await client.get("/v1/directory/services", params={"eligible_for": "pirate"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["code"] == "invalid_eligible_for"
    area = await client.get(
        "/v1/directory/services", params={"area": "GN-ZZ"}, headers={"Accept-Language": "en"}
    )
    assert area.json()["code"] == "invalid_area"
    assert area.json()["detail"].startswith("Unknown area")


async def test_writes_need_the_directory_write_scope(client: AsyncClient) -> None:
    anonymous = await client.post("/v1/directory/services", json=entry())
    assert anonymous.status_code == 401
    reader = await token_for(client, "ONG-TEST", "referrals:read")
    refused = await client.post("/v1/directory/services", json=entry(), headers=bearer(reader))
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"


async def test_an_agency_publishes_updates_and_removes_its_own_service(
    client: AsyncClient,
) -> None:
    auth = bearer(await token_for(client, "ONG-TEST", WRITE))
    created = await client.post("/v1/directory/services", json=entry(), headers=auth)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/directory/services/ong-test.ecoute"
    assert created.json()["contacts"][0]["role"] == "Point focal référencement"
    again = await client.post("/v1/directory/services", json=entry(), headers=auth)
    assert again.status_code == 409

    full = entry(capacity_available=0, accepting_referrals=False)
    updated = await client.put("/v1/directory/services/ong-test.ecoute", json=full, headers=auth)
    assert updated.status_code == 200
    read = await client.get("/v1/directory/services/ong-test.ecoute")
    assert read.json()["capacity_available"] == 0
    assert read.json()["accepting_referrals"] is False

    removed = await client.delete("/v1/directory/services/ong-test.ecoute", headers=auth)
    assert removed.status_code == 204
    gone = await client.get("/v1/directory/services/ong-test.ecoute")
    assert gone.status_code == 404
    assert gone.json()["code"] == "service_not_found"


async def test_an_agency_cannot_write_another_agencys_service(client: AsyncClient) -> None:
    owner = bearer(await token_for(client, "ONG-TEST", WRITE))
    other = bearer(await token_for(client, "ONG-AUTRE", WRITE))
    assert (await client.post("/v1/directory/services", json=entry(), headers=owner)).is_success
    for response in (
        await client.post("/v1/directory/services", json=entry(id="ong-test.autre"), headers=other),
        await client.put("/v1/directory/services/ong-test.ecoute", json=entry(), headers=other),
        await client.put(
            "/v1/directory/services/ong-test.ecoute",
            json=entry(agency="ONG-AUTRE"),
            headers=other,
        ),
        await client.delete("/v1/directory/services/ong-test.ecoute", headers=other),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "not_own_service"
    mismatch = await client.put(
        "/v1/directory/services/ong-test.ecoute", json=entry(id="ong-test.x"), headers=owner
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["code"] == "id_mismatch"


async def test_entries_refuse_personal_contacts_and_unknown_fields(client: AsyncClient) -> None:
    auth = bearer(await token_for(client, "ONG-TEST", WRITE))
    named = entry(contacts=[{"role": "Point focal", "name": "Mariama Camara"}])
    assert (
        await client.post("/v1/directory/services", json=named, headers=auth)
    ).status_code == 422
    unreachable = entry(contacts=[{"role": "Point focal"}])
    response = await client.post("/v1/directory/services", json=unreachable, headers=auth)
    assert response.status_code == 422
    far = entry(
        locations=[
            {"id": "x", "name": "Site", "area": "GN-C", "latitude": 48.85, "longitude": 2.35}
        ]
    )
    assert (await client.post("/v1/directory/services", json=far, headers=auth)).status_code == 422


async def test_the_whole_directory_exports_as_hsds(client: AsyncClient, database: Database) -> None:
    await load_demo(database)
    document = (await client.get("/v1/directory/hsds")).json()
    assert document["hsds_version"] == "3.0"
    assert {o["id"] for o in document["organizations"]} >= {"SANTE-DEMO", "ONG-ESPOIR"}
    donka = next(s for s in document["services"] if s["id"] == "sante-demo.medical.kaloum")
    assert donka["organization_id"] == "SANTE-DEMO"
    assert {a["extent"] for a in donka["service_areas"]} == {"GN-C", "GN-D"}
    assert donka["contacts"][0]["title"] == "Point focal référencement"
    assert "name" not in donka["contacts"][0]


async def test_the_directory_page_shows_services_and_availability(
    client: AsyncClient, database: Database
) -> None:
    await load_demo(database)
    page = await client.get("/annuaire", params={"zone": "GN-KD"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Annuaire des prestataires" in html
    assert "Consultations médicales gratuites (centre fictif de Kaloum)" in html
    assert "Complet : aucune place disponible" in html  # Kindia training, full
    assert "Réintégration économique en Guinée forestière" not in html  # Nzérékoré only
    alias = await client.get("/directory", params={"category": "shelter"})
    assert "Hébergement temporaire protégé pour femmes (fictif)" in alias.text
    assert "Consultations médicales" not in alias.text
    css = await client.get("/annuaire/static/annuaire.css")
    assert css.headers["content-type"].startswith("text/css")
    assert (await client.get("/annuaire/static/../../settings.py")).status_code == 404


async def test_the_flow_diagram_is_served_as_svg(client: AsyncClient) -> None:
    for path in ("/annuaire/flux.svg", "/directory/flow.svg"):
        response = await client.get(path)
        assert response.headers["content-type"] == "image/svg+xml"
        states, _moves, _texts = shown_in(response.text)
        assert states == {s.value for s in ReferralStatus}
