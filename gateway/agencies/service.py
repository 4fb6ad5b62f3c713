"""Register agencies and manage their OAuth2 clients. Services never commit."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import import_key
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies import repository
from gateway.agencies.models import AGENCY_KINDS, Agency, OAuthClient
from gateway.auth.crypto import hash_client_secret, new_client_secret
from gateway.auth.scopes import parse_scopes, unknown_scopes
from gateway.db.base import utcnow
from gateway.errors import Conflict, NotFound, ValidationFailed
from schemas.codes import AREA_CODES

AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9-]{1,31}$")
NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
# Members that only a private (or symmetric) JWK has: never stored by the gateway.
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_CLIENT_KEYS = 10


@dataclass(frozen=True)
class NewClient:
    """A created client; ``client_secret`` is shown once and never stored in clear."""

    client: OAuthClient
    client_secret: str | None

    @property
    def auth_method(self) -> str:
        return "private_key_jwt" if self.client.jwks is not None else "client_secret_basic"


def _invalid(field: str, fr: str, en: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field} : {fr}",
        f"{field}: {en}",
        errors=[{"field": field, "type": "invalid", "message": en}],
    )


def _public_jwk(data: Any, field: str, *, usable: Sequence[str]) -> dict[str, Any]:
    if not isinstance(data, dict) or "kty" not in data:
        raise _invalid(
            field, "JWK attendue (objet avec « kty »)", "JWK expected (object with 'kty')"
        )
    leaked = sorted(PRIVATE_JWK_MEMBERS & set(data))
    if leaked:
        raise _invalid(
            field,
            f"clé privée refusée ({', '.join(leaked)})",
            f"private key material refused ({', '.join(leaked)})",
        )
    if data["kty"] not in usable:
        raise _invalid(
            field,
            f"type de clé non pris en charge : {data['kty']}",
            f"unsupported key type: {data['kty']}",
        )
    try:
        import_key(data)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _invalid(field, "JWK illisible", "unreadable JWK") from exc
    return dict(data)


def validate_agency_public_jwk(data: Any) -> dict[str, Any]:
    """The agency's encryption key for JWE payloads: public RSA, EC or OKP (X25519)."""
    return _public_jwk(data, "public_jwk", usable=("RSA", "EC", "OKP"))


def public_jwk_from_text(text: str) -> dict[str, Any]:
    """A public key file as a JWK: JSON (a JWK) or PEM. Private keys are refused."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise _invalid("public_key", "JSON illisible", "unreadable JSON") from exc
        return validate_agency_public_jwk(data)
    if "PRIVATE KEY" in stripped:
        raise _invalid("public_key", "clé privée refusée", "private key refused")
    for key_type in ("RSA", "EC", "OKP"):
        try:
            key = import_key(stripped, key_type)
        except (JoseError, ValueError, TypeError):
            continue
        return validate_agency_public_jwk(dict(key.as_dict(private=False)))
    raise _invalid("public_key", "clé PEM ou JWK illisible", "unreadable PEM or JWK key")


def validate_client_jwks(data: Any) -> dict[str, Any]:
    """A client's signature keys for private_key_jwt, as ``{"keys": [...]}`` (or one JWK)."""
    if isinstance(data, dict) and "keys" not in data:
        data = {"keys": [data]}
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_CLIENT_KEYS:
        raise _invalid(
            "jwks",
            f"JWKS attendu avec 1 à {MAX_CLIENT_KEYS} clés",
            f"JWKS expected with 1 to {MAX_CLIENT_KEYS} keys",
        )
    return {"keys": [_public_jwk(k, "jwks", usable=("RSA", "EC", "OKP")) for k in keys]}


async def add_agency(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    kind: str,
    area: str | None = None,
    public_jwk: dict[str, Any] | None = None,
) -> Agency:
    if not AGENCY_CODE.match(code):
        raise _invalid(
            "code",
            "code d'agence invalide (majuscules, chiffres, tirets ; 2 à 32)",
            "invalid agency code (capitals, digits, hyphens; 2 to 32)",
        )
    if not NAME.match(name):
        raise _invalid("name", "nom invalide (1 à 200 caractères)", "invalid name (1 to 200 chars)")
    if kind not in AGENCY_KINDS:
        raise _invalid(
            "kind", f"type inconnu : {kind}", f"unknown kind: {kind} ({', '.join(AGENCY_KINDS)})"
        )
    if area is not None and area not in AREA_CODES:
        raise _invalid("area", f"zone inconnue : {area}", f"unknown area: {area}")
    jwk = validate_agency_public_jwk(public_jwk) if public_jwk is not None else None
    if await repository.get_agency(session, code) is not None:
        raise Conflict(f"L'agence {code} existe déjà.", f"Agency {code} already exists.")
    agency = Agency(
        code=code,
        name=name,
        kind=kind,
        area=area,
        public_jwk=jwk,
        active=True,
        created_at=utcnow(),
    )
    await repository.add_agency(session, agency)
    return agency


async def list_agencies(session: AsyncSession) -> Sequence[Agency]:
    return await repository.list_agencies(session)


async def get_agency(session: AsyncSession, code: str) -> Agency:
    agency = await repository.get_agency(session, code)
    if agency is None:
        raise NotFound(f"Agence inconnue : {code}.", f"Unknown agency: {code}.")
    return agency


def _new_client_id(agency_code: str) -> str:
    return f"{agency_code.lower()}-{secrets.token_hex(8)}"


async def create_client(
    session: AsyncSession,
    *,
    agency_code: str,
    scopes: str | Sequence[str],
    name: str | None = None,
    jwks: dict[str, Any] | None = None,
) -> NewClient:
    """A client with a fresh secret, or (with ``jwks``) one that signs RFC 7523 assertions."""
    agency = await get_agency(session, agency_code)
    if not agency.active:
        raise Conflict(
            f"L'agence {agency_code} est inactive.", f"Agency {agency_code} is inactive."
        )
    wanted = parse_scopes(scopes if isinstance(scopes, str) else list(scopes))
    if not wanted:
        raise _invalid("scopes", "au moins une portée", "at least one scope")
    unknown = unknown_scopes(wanted)
    if unknown:
        raise _invalid(
            "scopes",
            f"portées inconnues : {' '.join(unknown)}",
            f"unknown scopes: {' '.join(unknown)}",
        )
    client_name = name or f"{agency.code} client"
    if not NAME.match(client_name):
        raise _invalid("name", "nom invalide (1 à 200 caractères)", "invalid name (1 to 200 chars)")
    key_set = validate_client_jwks(jwks) if jwks is not None else None
    secret = None if key_set is not None else new_client_secret()
    client = OAuthClient(
        client_id=_new_client_id(agency.code),
        agency_code=agency.code,
        name=client_name,
        # scrypt takes ~50 ms of CPU: off the event loop.
        secret_hash=await asyncio.to_thread(hash_client_secret, secret) if secret else None,
        jwks=key_set,
        scopes=" ".join(wanted),
        created_at=utcnow(),
        revoked_at=None,
    )
    await repository.add_client(session, client)
    return NewClient(client, secret)


async def revoke_client(session: AsyncSession, client_id: str) -> OAuthClient:
    """Withdraw a client: it gets no new token and its current tokens are refused."""
    client = await repository.get_client(session, client_id)
    if client is None:
        raise NotFound(f"Client inconnu : {client_id}.", f"Unknown client: {client_id}.")
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        await session.flush()
    return client


async def list_clients(
    session: AsyncSession, agency_code: str | None = None
) -> Sequence[OAuthClient]:
    return await repository.list_clients(session, agency_code)
