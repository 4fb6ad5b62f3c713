from __future__ import annotations

from httpx import AsyncClient


async def test_healthz_answers_ok(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


async def test_readyz_checks_the_database(client: AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


async def test_metrics_count_requests(client: AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert 'mno_http_requests_total{method="GET",route="/healthz",status="200"}' in response.text


async def test_unknown_route_is_problem_json_in_french(client: AsyncClient) -> None:
    response = await client.get("/nulle-part")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Ressource introuvable"


async def test_english_when_asked(client: AsyncClient) -> None:
    response = await client.get("/nulle-part", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response.json()["title"] == "Not found"
