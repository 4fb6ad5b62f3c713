"""End to end: the real app under uvicorn on a loopback port, authlib's real OAuth2 client."""

from __future__ import annotations

import asyncio
import socket
import threading
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from gateway.app import create_app
from gateway.db.engine import make_sessionmaker
from tests.conftest import Database
from tests.gateway.auth.factories import create_client_credentials

with warnings.catch_warnings():
    # authlib prefers the httpx2 package and warns once on import when it falls back to httpx.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client


@dataclass
class LiveServer:
    url: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def live_server(database: Database) -> AsyncIterator[LiveServer]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(database.settings(issuer=url))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "uvicorn did not start"
    try:
        yield LiveServer(url)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)


async def test_authlib_client_with_client_secret_basic(
    live_server: LiveServer, database: Database
) -> None:
    creds = await create_client_credentials(
        make_sessionmaker(database.engine), "OIM-GN", "referrals:read admin", kind="un"
    )
    token_url = f"{live_server.url}/oauth/token"
    async with AsyncOAuth2Client(
        creds.client_id,
        creds.client_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope="admin",
    ) as oauth:
        token = await oauth.fetch_token(token_url, grant_type="client_credentials")
        assert token["token_type"].lower() == "bearer"
        assert token["scope"] == "admin"
        # The same client session then calls the API with its bearer token.
        response = await oauth.get(f"{live_server.url}/v1/admin/agencies")
        assert response.status_code == 200
        assert [a["code"] for a in response.json()] == ["OIM-GN"]
        introspected = await oauth.introspect_token(
            f"{live_server.url}/oauth/introspect", token=token["access_token"]
        )
        assert introspected.json()["active"] is True
        await oauth.revoke_token(f"{live_server.url}/oauth/revoke", token=token["access_token"])
        refused = await oauth.get(f"{live_server.url}/v1/admin/agencies")
        assert refused.status_code == 401


async def test_authlib_client_with_private_key_jwt(
    live_server: LiveServer, database: Database
) -> None:
    creds = await create_client_credentials(
        make_sessionmaker(database.engine), "CDS-KANKAN", "admin", private_key_jwt=True
    )
    token_url = f"{live_server.url}/oauth/token"
    async with AsyncOAuth2Client(
        creds.client_id,
        creds.private_key,
        token_endpoint_auth_method=PrivateKeyJWT(token_url, alg="ES256"),
    ) as oauth:
        first = await oauth.fetch_token(token_url, grant_type="client_credentials")
        second = await oauth.fetch_token(token_url, grant_type="client_credentials")
    assert first["access_token"] != second["access_token"]
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{live_server.url}/v1/admin/agencies",
            headers={"Authorization": f"Bearer {first['access_token']}"},
        )
        assert response.status_code == 200
        jwks = await http.get(f"{live_server.url}/.well-known/jwks.json")
        assert jwks.json()["keys"]


async def test_authlib_client_sees_oauth_errors(
    live_server: LiveServer, database: Database
) -> None:
    creds = await create_client_credentials(make_sessionmaker(database.engine), "OIM-GN", "admin")
    async with AsyncOAuth2Client(creds.client_id, "wrong-secret") as oauth:
        with pytest.raises(OAuthError) as raised:
            await oauth.fetch_token(
                f"{live_server.url}/oauth/token", grant_type="client_credentials"
            )
    assert raised.value.error == "invalid_client"
