"""What the authorization server keeps for the life of the process, and its start hook."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth.crypto import KeyEncryptor
from gateway.auth.keys import KeyStore, ensure_signing_key, load_keyring
from gateway.auth.ratelimit import SlidingWindowLimiter
from gateway.auth.revocation import TokenStatusCache
from gateway.auth.server import GatewayAuthorizationServer
from gateway.runtime import Runtime
from gateway.settings import Settings

logger = logging.getLogger("mno.auth")

KEYSET = "keyset"
AUTH = "auth"


@dataclass
class AuthState:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    keys: KeyStore
    status: TokenStatusCache
    limiter: SlidingWindowLimiter
    server: GatewayAuthorizationServer


def key_encryptor(settings: Settings) -> KeyEncryptor:
    return KeyEncryptor(settings.secret_key.get_secret_value())


async def start_auth(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Create the first signing key if there is none, then load the key set."""
    settings = runtime.settings
    encryptor = key_encryptor(settings)
    async with runtime.sessionmaker() as session:
        if await ensure_signing_key(session, encryptor):
            logger.info("signing key created")
        await session.commit()
        ring = await load_keyring(session, encryptor)
    keys = KeyStore(ring, runtime.sessionmaker, encryptor)
    runtime.components[KEYSET] = keys
    runtime.components[AUTH] = AuthState(
        settings=settings,
        sessionmaker=runtime.sessionmaker,
        keys=keys,
        status=TokenStatusCache(runtime.sessionmaker),
        limiter=SlidingWindowLimiter(settings.token_rate_limit_per_minute),
        server=GatewayAuthorizationServer(
            issuer=settings.issuer,
            audience=settings.audience,
            token_ttl_seconds=settings.access_token_ttl_seconds,
        ),
    )


def auth_state(runtime: Runtime) -> AuthState:
    state: AuthState = runtime.components[AUTH]
    return state
