"""Metadata (RFC 8414) and the JWKS."""

from __future__ import annotations

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from httpx import ASGITransport, AsyncClient

from gateway.app import create_app
from tests.conftest import Database


async def test_metadata_describes_the_client_credentials_server(api: AsyncClient) -> None:
    response = await api.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    body = response.json()
    assert body["issuer"] == "http://testserver"
    assert body["token_endpoint"] == "http://testserver/oauth/token"
    assert body["jwks_uri"] == "http://testserver/.well-known/jwks.json"
    assert body["introspection_endpoint"] == "http://testserver/oauth/introspect"
    assert body["revocation_endpoint"] == "http://testserver/oauth/revoke"
    assert body["grant_types_supported"] == ["client_credentials"]
    assert set(body["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    }
    assert "referrals:write" in body["scopes_supported"]
    metadata = AuthorizationServerMetadata(body)
    # authlib's checks of the members we publish (https-only checks: see the test below).
    metadata.validate_scopes_supported()
    metadata.validate_grant_types_supported()
    metadata.validate_token_endpoint_auth_methods_supported()
    metadata.validate_token_endpoint_auth_signing_alg_values_supported()


async def test_jwks_publishes_public_keys_only(api: AsyncClient) -> None:
    response = await api.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert key["alg"] == "ES256"
    assert key["use"] == "sig"
    assert key["kid"]
    assert "d" not in key


async def test_metadata_of_an_https_issuer_passes_authlib_checks(database: Database) -> None:
    app = create_app(database.settings(issuer="https://passerelle.mno.example.gn"))
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            body = (await http.get("/.well-known/oauth-authorization-server")).json()
    metadata = AuthorizationServerMetadata(body)
    metadata.validate_issuer()
    metadata.validate_jwks_uri()
    metadata.validate_token_endpoint()
    metadata.validate_revocation_endpoint()
    metadata.validate_introspection_endpoint()
    assert body["token_endpoint"] == "https://passerelle.mno.example.gn/oauth/token"


async def test_openapi_declares_the_client_credentials_flow(api: AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["mno_oauth2"]
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert "referrals:write" in scheme["flows"]["clientCredentials"]["scopes"]
    revoke = spec["paths"]["/v1/admin/clients/{client_id}/revoke"]["post"]
    assert revoke["security"] == [{"mno_oauth2": ["admin"]}]
    token_body = spec["paths"]["/oauth/token"]["post"]["requestBody"]["content"]
    assert "grant_type" in token_body["application/x-www-form-urlencoded"]["schema"]["properties"]
