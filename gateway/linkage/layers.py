"""The gateway's re-keying layers: versioned random secrets, stored only wrapped.

What an agency sends (tokens keyed with the MoU members' shared key, a keyed Bloom filter) goes
through every layer in order before it is stored or compared: layer ``v`` re-keys a token with
HMAC-SHA256 and permutes the Bloom filter's bit positions within each region
(:class:`connectors.pseudonym.rekey.GatewayRekeyer`), which keeps Dice similarities, hence match
scores, unchanged.

Rotation (``mno linkage rekey``) adds a layer on top of every stored value: HMAC cannot be
inverted, but it can be composed, so nothing has to be recomputed from agency data and agencies
do not resubmit. Layer secrets are random, and wrapped (AES-256-GCM, the version bound as
associated data) under a key derived from ``MNO_SECRET_KEY``: a copy of the database alone does
not give them. When ``MNO_SECRET_KEY`` changes, the same command unwraps them with the previous
secret and wraps them again under the new one.
"""

from __future__ import annotations

import base64
import functools
import hmac
import os
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.pseudonym.rekey import GatewayRekeyer, secret_fingerprint
from gateway.db.base import utcnow
from gateway.errors import ServiceUnavailable
from gateway.linkage import repository
from gateway.linkage.models import LinkageKeyVersion

_ENVELOPE = "lk1"
LAYER_SECRET_BYTES = 32


def _wrap_key(root: bytes) -> bytes:
    # ``root`` is ``gateway.linkage.rekey.linkage_secret(settings)``, itself derived from
    # MNO_SECRET_KEY; a label of its own keeps this key apart from every other derived key.
    return hmac.digest(root, b"mno-linkage/layer-secrets-at-rest/v1", "sha256")


def _aad(version: int) -> bytes:
    return f"mno-linkage-layer/{version}".encode()


def wrap(root: bytes, version: int, secret: bytes) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_wrap_key(root)).encrypt(nonce, secret, _aad(version))
    encoded = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
    return f"{_ENVELOPE}.{encoded}"


class LinkageKeysUnreadable(ServiceUnavailable):
    code = "linkage_keys_unreadable"

    def __init__(self) -> None:
        super().__init__(
            "Les clés de liaison de la passerelle ne se déchiffrent pas avec MNO_SECRET_KEY : "
            "après un changement de ce secret, lancez « mno linkage rekey » avec "
            "MNO_PREVIOUS_SECRET_KEY.",
            "The gateway's linkage keys do not decrypt with MNO_SECRET_KEY: after changing "
            "that secret, run 'mno linkage rekey' with MNO_PREVIOUS_SECRET_KEY.",
        )


def unwrap(root: bytes, version: int, wrapped: str) -> bytes:
    prefix, _, encoded = wrapped.partition(".")
    if prefix != _ENVELOPE:
        raise LinkageKeysUnreadable()
    raw = base64.urlsafe_b64decode(encoded)
    try:
        return AESGCM(_wrap_key(root)).decrypt(raw[:12], raw[12:], _aad(version))
    except InvalidTag:
        raise LinkageKeysUnreadable() from None


@functools.lru_cache(maxsize=32)
def rekeyer(version: int, secret: bytes) -> GatewayRekeyer:
    """One layer; cached because its Bloom permutation costs some thousands of HMACs."""
    return GatewayRekeyer(f"v{version}", secret)


@dataclass(frozen=True)
class Layers:
    """Every layer, oldest first: what a stored value went through."""

    rekeyers: tuple[GatewayRekeyer, ...]

    @property
    def version(self) -> int:
        return len(self.rekeyers)

    def token(self, token: str) -> str:
        for layer in self.rekeyers:
            token = layer.token(token)
        return token

    def bloom(self, bloom: bytes) -> bytes:
        for layer in self.rekeyers:
            bloom = layer.bloom(bloom)
        return bloom


def layers_from_rows(root: bytes, rows: Iterable[LinkageKeyVersion]) -> Layers:
    ordered = sorted(rows, key=lambda row: row.version)
    if [row.version for row in ordered] != list(range(1, len(ordered) + 1)):
        raise LinkageKeysUnreadable()
    secrets = [(r.version, unwrap(root, r.version, r.wrapped_secret)) for r in ordered]
    return Layers(tuple(rekeyer(version, secret) for version, secret in secrets))


def new_layer_row(root: bytes, version: int) -> tuple[LinkageKeyVersion, bytes]:
    secret = os.urandom(LAYER_SECRET_BYTES)
    row = LinkageKeyVersion(
        version=version,
        wrapped_secret=wrap(root, version, secret),
        fingerprint=secret_fingerprint(secret),
        created_at=utcnow(),
    )
    return row, secret


async def current_layers(session: AsyncSession, root: bytes) -> Layers:
    """The layers in force, creating the first one on first use.

    The versions are read with a shared lock: a rotation (exclusive lock) waits for the
    transactions that are storing values under the current layers, and they wait for it.
    """
    rows = await repository.key_versions(session, lock="share")
    if rows:
        return layers_from_rows(root, rows)
    row, _ = new_layer_row(root, 1)
    try:
        async with session.begin_nested():
            repository.add(session, row)
            await session.flush()
    except IntegrityError:
        pass  # a concurrent first use created it: read theirs
    return layers_from_rows(root, await repository.key_versions(session, lock="share"))


# The layers change only with ``mno linkage rekey`` (another process): the request path keeps
# them for a short while instead of reading them on every submission. A probe staged under an
# older version is lifted through the newer layers by the worker (layers compose).
LAYERS_TTL_SECONDS = 30.0
# Per database (engine) and secret; only layers read back from committed rows are kept, never
# a first layer this transaction is creating (it may roll back).
_layers_cache: weakref.WeakKeyDictionary[Engine, tuple[float, bytes, Layers]] = (
    weakref.WeakKeyDictionary()
)


async def request_layers(session: AsyncSession, secret: bytes) -> Layers:
    """The layers for staging a probe: cached for :data:`LAYERS_TTL_SECONDS`."""
    engine = session.get_bind()
    if not isinstance(engine, Engine):  # a connection-bound session: no cache
        return await current_layers(session, secret)
    now = time.monotonic()
    cached = _layers_cache.get(engine)
    if cached is not None and cached[1] == secret and now - cached[0] < LAYERS_TTL_SECONDS:
        return cached[2]
    rows = await repository.key_versions(session)
    if not rows:
        return await current_layers(session, secret)
    layers = layers_from_rows(secret, rows)
    _layers_cache[engine] = (now, secret, layers)
    return layers


def forget_layers() -> None:
    """Drop the request path's cached layers (after a rotation in this process, and in tests)."""
    _layers_cache.clear()
