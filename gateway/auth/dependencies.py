"""The API's auth dependency: a verified bearer token becomes a ``Principal`` with scopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes

from gateway.auth.scopes import SCOPES
from gateway.auth.state import auth_state
from gateway.auth.tokens import (
    AccessClaims,
    InvalidAccessToken,
    UnknownSigningKey,
    verify_access_token,
)
from gateway.deps import get_runtime
from gateway.errors import Forbidden, Unauthorized

REALM = 'Bearer realm="mno"'


@dataclass(frozen=True)
class Principal:
    client_id: str
    agency: str  # agency code
    scopes: frozenset[str]
    jti: str


# Declares the client credentials flow in the OpenAPI document ("Authorize" in /docs);
# auto_error=False so that a missing token is answered as problem+json below.
oauth2_scheme = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth/token", scopes=SCOPES)
    ),
    scheme_name="mno_oauth2",
    description="OAuth2 client credentials (RFC 6749 §4.4). / Identifiants client OAuth2.",
    auto_error=False,
)


def _invalid_token() -> Unauthorized:
    return Unauthorized(
        "Jeton d'accès invalide, expiré ou révoqué.",
        "Access token invalid, expired or revoked.",
        code="invalid_token",
        headers={
            "WWW-Authenticate": f'{REALM}, error="invalid_token", '
            'error_description="invalid, expired or revoked token"'
        },
    )


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized(
            "Jeton d'accès requis (Authorization: Bearer …).",
            "Access token required (Authorization: Bearer …).",
            headers={"WWW-Authenticate": REALM},
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "En-tête Authorization invalide : « Bearer <jeton> » attendu.",
            "Invalid Authorization header: 'Bearer <token>' expected.",
            code="invalid_request",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_request"'},
        )
    return token.strip()


async def _verify(request: Request, token: str) -> AccessClaims:
    state = auth_state(get_runtime(request))
    settings = state.settings
    try:
        try:
            return verify_access_token(
                token, state.keys.current, issuer=settings.issuer, audience=settings.audience
            )
        except UnknownSigningKey:
            # Maybe a key added by a rotation in another process since this one loaded.
            ring = await state.keys.after_unknown_kid()
            if ring is None:
                raise
            return verify_access_token(
                token, ring, issuer=settings.issuer, audience=settings.audience
            )
    except InvalidAccessToken as exc:
        raise _invalid_token() from exc


async def authenticate(
    request: Request,
    security_scopes: SecurityScopes,
    authorization: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """Verify the bearer token (signature, typ, iss, aud, exp, revocation) and the scopes."""
    claims = await _verify(request, _bearer(authorization))
    state = auth_state(get_runtime(request))
    if await state.status.is_refused(claims.jti, claims.client_id, claims.exp):
        raise _invalid_token()
    missing = [s for s in security_scopes.scopes if s not in claims.scopes]
    if missing:
        needed = " ".join(security_scopes.scopes)
        raise Forbidden(
            f"Portée manquante : {', '.join(missing)}.",
            f"Missing scope: {', '.join(missing)}.",
            code="insufficient_scope",
            headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{needed}"'},
        )
    principal = Principal(
        client_id=claims.client_id, agency=claims.agency, scopes=claims.scopes, jti=claims.jti
    )
    request.state.principal = principal
    return principal


def requires(*scopes: str) -> Any:
    """``principal: Annotated[Principal, requires("referrals:write")]``"""
    return Security(authenticate, scopes=list(scopes))
