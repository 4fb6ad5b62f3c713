"""OAuth2 endpoints: token, introspection, revocation, metadata (RFC 8414) and JWKS."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.auth import glue
from gateway.auth.keys import SUPPORTED_ALGS
from gateway.auth.scopes import SCOPES_SUPPORTED
from gateway.auth.server import AUTH_METHODS
from gateway.auth.state import AuthState, auth_state
from gateway.deps import RuntimeDep

router = APIRouter(tags=["oauth2"])

PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}


def _form(*fields: tuple[str, str, bool]) -> dict[str, Any]:
    """OpenAPI text for a form-encoded body (parsed by the glue, not by FastAPI)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                glue.FORM_TYPE: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            name: {"type": "string", "description": text}
                            for name, text, _ in fields
                        },
                        "required": [name for name, _, required in fields if required],
                    }
                }
            },
        }
    }


_CLIENT_FIELDS = (
    ("client_id", "client_secret_post", False),
    ("client_secret", "client_secret_post", False),
    ("client_assertion_type", "private_key_jwt (RFC 7523)", False),
    ("client_assertion", "private_key_jwt (RFC 7523)", False),
)


def _state(runtime: RuntimeDep) -> AuthState:
    return auth_state(runtime)


@router.post(
    "/oauth/token",
    openapi_extra=_form(
        ("grant_type", "client_credentials", True),
        ("scope", "space-separated / séparées par des espaces", False),
        *_CLIENT_FIELDS,
    ),
)
async def token(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Issue an access token (client credentials). / Délivre un jeton d'accès."""
    return await glue.token_endpoint(_state(runtime), request)


@router.post(
    "/oauth/introspect",
    openapi_extra=_form(("token", "access token", True), *_CLIENT_FIELDS),
)
async def introspect(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Token introspection (RFC 7662). / Introspection de jeton."""
    return await glue.introspection_endpoint(_state(runtime), request)


@router.post(
    "/oauth/revoke",
    openapi_extra=_form(
        ("token", "access token", True), ("token_type_hint", "access_token", False), *_CLIENT_FIELDS
    ),
)
async def revoke(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Token revocation (RFC 7009). / Révocation de jeton."""
    return await glue.revocation_endpoint(_state(runtime), request)


@router.get("/.well-known/oauth-authorization-server")
async def metadata(runtime: RuntimeDep) -> JSONResponse:
    """Authorization server metadata (RFC 8414). / Métadonnées du serveur d'autorisation."""
    issuer = runtime.settings.issuer.rstrip("/")
    body = {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "scopes_supported": list(SCOPES_SUPPORTED),
        # Client credentials only: no authorization endpoint, hence no response type.
        "response_types_supported": [],
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        # authlib verifies client assertions with joserfc's recommended algorithms.
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "access_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "service_documentation": f"{issuer}/docs",
        "ui_locales_supported": ["fr", "en"],
    }
    return JSONResponse(body, headers=PUBLIC_CACHE)


@router.get("/.well-known/jwks.json")
async def jwks(runtime: RuntimeDep) -> JSONResponse:
    """Public keys that sign access tokens (RFC 7517). / Clés publiques de signature."""
    ring = await _state(runtime).keys.fresh()
    return JSONResponse(ring.jwks(), headers=PUBLIC_CACHE)
