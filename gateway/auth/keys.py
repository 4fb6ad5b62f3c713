"""Token signing keys: generation, rotation, the published key set and its in-process cache."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth import repository
from gateway.auth.crypto import KeyEncryptor
from gateway.auth.models import SigningKey
from gateway.db.base import utcnow
from gateway.errors import BadRequest, ServiceUnavailable

logger = logging.getLogger("mno.auth.keys")

AsymmetricKey = ECKey | RSAKey | OKPKey

DEFAULT_ALG = "ES256"
# joserfc signs and verifies only its "recommended" algorithms unless told otherwise.
SUPPORTED_ALGS: tuple[str, ...] = ("ES256", "RS256")
# A token signed just before a rotation must stay verifiable for its whole life, plus the time
# other gateway processes need to notice the rotation (KeyStore.SIGNING_MAX_AGE) and clock skew.
RETIREMENT_MARGIN_SECONDS = 120


def generate_key(alg: str) -> AsymmetricKey:
    """A new private key for ``alg``, its ``kid`` the RFC 7638 thumbprint."""
    key: AsymmetricKey
    if alg == "ES256":
        key = ECKey.generate_key("P-256", auto_kid=True)
    elif alg == "RS256":
        key = RSAKey.generate_key(3072, auto_kid=True)
    else:
        raise BadRequest(
            f"Algorithme de signature non pris en charge : {alg}",
            f"Unsupported signing algorithm: {alg}",
            code="unsupported_alg",
        )
    return key


def _import_key(data: dict[str, Any]) -> AsymmetricKey:
    kty = data.get("kty")
    if kty == "EC":
        return ECKey.import_key(data)
    if kty == "RSA":
        return RSAKey.import_key(data)
    if kty == "OKP":
        return OKPKey.import_key(data)
    raise ValueError(f"unsupported key type {kty!r}")


def _public_jwk(key: AsymmetricKey, alg: str) -> dict[str, Any]:
    public: dict[str, Any] = dict(key.as_dict(private=False))
    public.update({"kid": key.kid, "alg": alg, "use": "sig"})
    return public


@dataclass(frozen=True)
class SigningMaterial:
    kid: str
    alg: str
    key: AsymmetricKey


@dataclass(frozen=True)
class KeyRing:
    """An immutable snapshot: the key that signs now and every key still published."""

    signing: SigningMaterial
    published: tuple[dict[str, Any], ...]
    public_keys: KeySet
    kids: frozenset[str]
    algs: frozenset[str]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(k) for k in self.published]}


async def create_key(session: AsyncSession, encryptor: KeyEncryptor, alg: str) -> SigningKey:
    key = generate_key(alg)
    assert key.kid is not None  # noqa: S101 - auto_kid above always sets it
    private = json.dumps(key.as_dict(private=True), separators=(",", ":")).encode("utf-8")
    row = SigningKey(
        kid=key.kid,
        alg=alg,
        private_key_encrypted=encryptor.encrypt(private, key.kid),
        public_jwk=_public_jwk(key, alg),
        created_at=utcnow(),
        retired_at=None,
        not_after=None,
    )
    await repository.add_signing_key(session, row)
    return row


async def ensure_signing_key(
    session: AsyncSession, encryptor: KeyEncryptor, alg: str = DEFAULT_ALG
) -> bool:
    """Create the first signing key when none is active; True when one was created."""
    if await repository.active_signing_keys(session):
        return False
    await create_key(session, encryptor, alg)
    return True


async def rotate_keys(
    session: AsyncSession, encryptor: KeyEncryptor, *, token_ttl_seconds: int, alg: str
) -> SigningKey:
    """Retire the active keys (still published until their tokens expired) and add a new one."""
    now = utcnow()
    not_after = now + timedelta(seconds=token_ttl_seconds + RETIREMENT_MARGIN_SECONDS)
    for row in await repository.active_signing_keys(session):
        row.retired_at = now
        row.not_after = not_after
    return await create_key(session, encryptor, alg)


async def load_keyring(session: AsyncSession, encryptor: KeyEncryptor) -> KeyRing:
    """Read the published keys; decrypt only the newest active one, which signs."""
    now = utcnow()
    rows = await repository.published_signing_keys(session, now)
    active = [r for r in rows if r.retired_at is None]
    if not active:
        raise ServiceUnavailable(
            "Aucune clé de signature active : lancez « mno keys rotate ».",
            "No active signing key: run 'mno keys rotate'.",
            code="no_signing_key",
        )
    newest = max(active, key=lambda r: r.created_at)
    try:
        private = json.loads(encryptor.decrypt(newest.private_key_encrypted, newest.kid))
    except Exception as exc:  # InvalidTag, bad envelope: same remedy for both
        raise ServiceUnavailable(
            "Clé de signature indéchiffrable (MNO_SECRET_KEY a-t-il changé ?) : "
            "lancez « mno keys rotate ».",
            "Signing key cannot be decrypted (did MNO_SECRET_KEY change?): run 'mno keys rotate'.",
            code="signing_key_unreadable",
        ) from exc
    published = tuple(r.public_jwk for r in rows)
    return KeyRing(
        signing=SigningMaterial(newest.kid, newest.alg, _import_key(private)),
        published=published,
        public_keys=KeySet([_import_key(p) for p in published]),
        kids=frozenset(r.kid for r in rows),
        algs=frozenset(r.alg for r in rows),
    )


class KeyStore:
    """The current key ring of this process, reloaded when stale or when a kid is unknown.

    Another process (``mno keys rotate``, another gateway replica) may have changed the keys.
    """

    SIGNING_MAX_AGE = 60.0  # seconds before the token endpoint re-reads the keys
    UNKNOWN_KID_MIN_INTERVAL = 5.0  # an unknown kid re-reads at most this often

    def __init__(
        self,
        ring: KeyRing,
        sessionmaker: async_sessionmaker[AsyncSession],
        encryptor: KeyEncryptor,
    ) -> None:
        self._ring = ring
        self._sessionmaker = sessionmaker
        self._encryptor = encryptor
        self._loaded_at = time.monotonic()
        self._lock = asyncio.Lock()

    @property
    def current(self) -> KeyRing:
        return self._ring

    async def reload(self) -> KeyRing:
        async with self._lock:
            async with self._sessionmaker() as session:
                self._ring = await load_keyring(session, self._encryptor)
            self._loaded_at = time.monotonic()
            return self._ring

    async def fresh(self) -> KeyRing:
        """The ring, re-read first when older than SIGNING_MAX_AGE."""
        if time.monotonic() - self._loaded_at > self.SIGNING_MAX_AGE:
            return await self.reload()
        return self._ring

    async def after_unknown_kid(self) -> KeyRing | None:
        """Re-read the keys for a token with an unknown kid, unless done very recently."""
        if time.monotonic() - self._loaded_at < self.UNKNOWN_KID_MIN_INTERVAL:
            return None
        return await self.reload()
