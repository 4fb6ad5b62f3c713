"""Reusable test helpers: synthetic agencies, OAuth2 clients and access tokens.

Typical use in an endpoint test (``client`` is the conftest fixture)::

    token = await token_for(client, "OIM-GN", "referrals:write referrals:read")
    response = await client.post("/v1/referrals", headers=bearer(token), json=...)
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from joserfc.jwk import ECKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.agencies import repository as agency_repository
from gateway.agencies import service as agency_service
from gateway.runtime import Runtime

# Synthetic organisations (no real agency is implied by these codes or names).
AGENCY_NAMES = {
    "government": "Direction nationale fictive {code}",
    "un": "Agence onusienne fictive {code}",
    "ngo": "Association fictive {code}",
    "provider": "Centre de services fictif {code}",
}


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str | None
    agency: str
    scopes: str
    private_key: ECKey | None = None  # for private_key_jwt clients


def runtime_of(client: AsyncClient) -> Runtime:
    """The runtime of the app behind the ``client`` fixture."""
    app: FastAPI = client.app  # type: ignore[attr-defined]
    runtime: Runtime = app.state.runtime
    return runtime


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _scopes(scopes: str | Iterable[str]) -> str:
    return scopes if isinstance(scopes, str) else " ".join(scopes)


async def ensure_agency(
    session: AsyncSession,
    code: str,
    *,
    kind: str = "ngo",
    public_jwk: dict[str, Any] | None = None,
) -> str:
    """Create the agency unless it exists (flushes, does not commit)."""
    if await agency_repository.get_agency(session, code) is None:
        await agency_service.add_agency(
            session,
            code=code,
            name=AGENCY_NAMES[kind].format(code=code),
            kind=kind,
            public_jwk=public_jwk,
        )
    return code


async def create_client_credentials(
    sessionmaker: async_sessionmaker[AsyncSession],
    agency: str,
    scopes: str | Iterable[str],
    *,
    kind: str = "ngo",
    private_key_jwt: bool = False,
) -> ClientCredentials:
    """An agency (created if missing) and a new client of it, committed.

    With ``private_key_jwt`` the client registers a fresh EC key and has no secret.
    """
    key = ECKey.generate_key("P-256", auto_kid=True) if private_key_jwt else None
    jwks = {"keys": [dict(key.as_dict(private=False))]} if key is not None else None
    async with sessionmaker() as session:
        await ensure_agency(session, agency, kind=kind)
        created = await agency_service.create_client(
            session, agency_code=agency, scopes=_scopes(scopes), jwks=jwks
        )
        await session.commit()
    return ClientCredentials(
        client_id=created.client.client_id,
        client_secret=created.client_secret,
        agency=agency,
        scopes=created.client.scopes,
        private_key=key,
    )


async def fetch_token(
    client: AsyncClient, credentials: ClientCredentials, scope: str | None = None
) -> str:
    """A token through ``POST /oauth/token`` with client_secret_basic."""
    assert credentials.client_secret is not None, "use a secret client here"
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    response = await client.post(
        "/oauth/token",
        data=data,
        auth=(credentials.client_id, credentials.client_secret),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


# Credentials reused per app: creating a client costs a scrypt hash (~50 ms).
_credentials: weakref.WeakKeyDictionary[FastAPI, dict[tuple[str, str], ClientCredentials]] = (
    weakref.WeakKeyDictionary()
)


async def credentials_for(
    client: AsyncClient, agency: str, scopes: str | Iterable[str], *, kind: str = "ngo"
) -> ClientCredentials:
    """A client of ``agency`` with exactly ``scopes`` on the app behind ``client`` (cached)."""
    app: FastAPI = client.app  # type: ignore[attr-defined]
    wanted = _scopes(scopes)
    per_app = _credentials.setdefault(app, {})
    found = per_app.get((agency, wanted))
    if found is None:
        found = await create_client_credentials(
            runtime_of(client).sessionmaker, agency, wanted, kind=kind
        )
        per_app[(agency, wanted)] = found
    return found


async def token_for(client: AsyncClient, agency: str, scopes: str | Iterable[str]) -> str:
    """A fresh access token of ``agency`` with ``scopes`` (agency and client made if needed)."""
    credentials = await credentials_for(client, agency, scopes)
    return await fetch_token(client, credentials)
