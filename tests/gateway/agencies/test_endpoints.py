"""/v1/admin: agencies and clients, with the ``admin`` scope only."""

from __future__ import annotations

from httpx import AsyncClient

from tests.gateway.auth.factories import bearer, token_for

AGENCY = {
    "code": "CDS-KANKAN",
    "name": "Centre de santé fictif",
    "kind": "provider",
    "area": "GN-K",
}


async def test_admin_registers_and_lists_agencies(client: AsyncClient) -> None:
    admin = bearer(await token_for(client, "MNO-SECRETARIAT", "admin"))
    created = await client.post("/v1/admin/agencies", json=AGENCY, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["code"] == "CDS-KANKAN"
    listed = await client.get("/v1/admin/agencies", headers=admin)
    assert {a["code"] for a in listed.json()} == {"CDS-KANKAN", "MNO-SECRETARIAT"}
    again = await client.post("/v1/admin/agencies", json=AGENCY, headers=admin)
    assert again.status_code == 409


async def test_agency_body_is_validated_field_by_field(client: AsyncClient) -> None:
    admin = bearer(await token_for(client, "MNO-SECRETARIAT", "admin"))
    response = await client.post(
        "/v1/admin/agencies", json={**AGENCY, "code": "bad code", "kind": "firm"}, headers=admin
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.code", "body.kind"} <= fields


async def test_admin_creates_a_client_that_gets_tokens(client: AsyncClient) -> None:
    admin = bearer(await token_for(client, "MNO-SECRETARIAT", "admin"))
    await client.post("/v1/admin/agencies", json=AGENCY, headers=admin)
    created = await client.post(
        "/v1/admin/clients",
        json={"agency": "CDS-KANKAN", "scopes": ["referrals:read", "inbox:read"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["agency"] == "CDS-KANKAN"
    assert body["auth_method"] == "client_secret_basic"
    token = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(body["client_id"], body["client_secret"]),
    )
    assert token.status_code == 200
    assert token.json()["scope"] == "referrals:read inbox:read"


async def test_revoking_a_client_refuses_its_tokens_at_once(client: AsyncClient) -> None:
    admin = bearer(await token_for(client, "MNO-SECRETARIAT", "admin"))
    await client.post("/v1/admin/agencies", json=AGENCY, headers=admin)
    body = (
        await client.post(
            "/v1/admin/clients", json={"agency": "CDS-KANKAN", "scopes": "admin"}, headers=admin
        )
    ).json()
    token = (
        await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(body["client_id"], body["client_secret"]),
        )
    ).json()["access_token"]
    assert (await client.get("/v1/admin/agencies", headers=bearer(token))).status_code == 200

    revoked = await client.post(f"/v1/admin/clients/{body['client_id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert (await client.get("/v1/admin/agencies", headers=bearer(token))).status_code == 401
    unknown = await client.post("/v1/admin/clients/nobody/revoke", headers=admin)
    assert unknown.status_code == 404


async def test_admin_api_needs_the_admin_scope(client: AsyncClient) -> None:
    token = bearer(await token_for(client, "OIM-GN", "referrals:read referrals:write"))
    for method, path in [
        ("GET", "/v1/admin/agencies"),
        ("POST", "/v1/admin/agencies"),
        ("POST", "/v1/admin/clients"),
        ("POST", "/v1/admin/clients/x/revoke"),
    ]:
        response = await client.request(method, path, headers=token, json=AGENCY)
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "insufficient_scope"
        anonymous = await client.request(method, path, json=AGENCY)
        assert anonymous.status_code == 401, (method, path)
