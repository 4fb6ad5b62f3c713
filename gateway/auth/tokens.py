"""Verification of the gateway's RFC 9068 JWT access tokens (signature, typ, iss, aud, exp)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError

from gateway.auth.keys import KeyRing

ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - a media type, not a secret
CLOCK_LEEWAY_SECONDS = 30
MAX_TOKEN_LENGTH = 8192


class InvalidAccessToken(Exception):
    """The token is not one this gateway issued, or is no longer valid."""


class UnknownSigningKey(InvalidAccessToken):
    """Signed with a kid this process does not know (yet): re-read the keys and retry."""


@dataclass(frozen=True)
class AccessClaims:
    client_id: str
    agency: str
    scopes: frozenset[str]
    jti: str
    iat: int
    exp: int
    claims: dict[str, Any]


def peek_claims(token: str) -> dict[str, Any]:
    """The payload of a JWS, unverified: only to pick which rows to preload, never to trust."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def verify_access_token(token: str, ring: KeyRing, *, issuer: str, audience: str) -> AccessClaims:
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise InvalidAccessToken("malformed")
    try:
        decoded = jwt.decode(token, ring.public_keys, algorithms=sorted(ring.algs))
    except InvalidKeyIdError as exc:
        raise UnknownSigningKey("unknown kid") from exc
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidAccessToken("signature") from exc
    typ = str(decoded.header.get("typ", "")).lower()
    # RFC 9068 §4: reject anything not explicitly typed as an access token (e.g. an ID token).
    if typ not in (ACCESS_TOKEN_TYP, "application/" + ACCESS_TOKEN_TYP):
        raise InvalidAccessToken("typ")
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": audience},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "jti": {"essential": True},
        "sub": {"essential": True},
        "client_id": {"essential": True},
        "agency": {"essential": True},
    }
    registry = jwt.JWTClaimsRegistry(leeway=CLOCK_LEEWAY_SECONDS, **options)
    claims = decoded.claims
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise InvalidAccessToken("claims") from exc
    scope = claims.get("scope", "")
    exp = claims.get("exp")
    if not isinstance(scope, str) or not isinstance(exp, int):
        raise InvalidAccessToken("claims")
    return AccessClaims(
        client_id=str(claims["client_id"]),
        agency=str(claims["agency"]),
        scopes=frozenset(scope.split()),
        jti=str(claims["jti"]),
        iat=int(claims["iat"]),
        exp=exp,
        claims=dict(claims),
    )
