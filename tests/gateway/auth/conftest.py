"""An app with two test-only protected routes (never part of the real app)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient

from gateway.app import create_app
from gateway.auth.dependencies import Principal, requires
from tests.conftest import Database

probe = APIRouter(prefix="/test-only")


@probe.get("/read")
async def read_probe(
    principal: Annotated[Principal, requires("referrals:read")],
) -> dict[str, object]:
    return {
        "client_id": principal.client_id,
        "agency": principal.agency,
        "scopes": sorted(principal.scopes),
        "jti": principal.jti,
    }


@probe.get("/any")
async def any_probe(principal: Annotated[Principal, requires()]) -> dict[str, str]:
    return {"agency": principal.agency}


async def _serve(database: Database, **overrides: object) -> AsyncIterator[AsyncClient]:
    app = create_app(database.settings(**overrides))
    app.include_router(probe)
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


@pytest.fixture
async def api(database: Database) -> AsyncIterator[AsyncClient]:
    """Like ``client``, plus the probes under /test-only."""
    async for http in _serve(database):
        yield http


@pytest.fixture
async def limited_api(database: Database) -> AsyncIterator[AsyncClient]:
    """The token endpoint limited to 3 requests a minute."""
    async for http in _serve(database, token_rate_limit_per_minute=3):
        yield http
