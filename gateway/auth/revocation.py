"""Whether a token id is revoked or its client withdrawn, cached briefly in this process."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth import repository


class TokenStatusCache:
    """A revocation made in this process applies at once; one made elsewhere (another
    replica, the CLI) within ``ttl`` seconds, the time a "still valid" answer is trusted."""

    MAX_ENTRIES = 200_000

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.ttl = ttl
        self._clock = clock
        self._revoked: dict[str, float] = {}  # jti -> token expiry (epoch seconds)
        self._valid_jti: dict[str, float] = {}  # jti -> checked at (monotonic)
        self._client_ok: dict[str, tuple[bool, float]] = {}  # client_id -> (ok, checked at)

    def mark_revoked(self, jti: str, expires_at: float) -> None:
        self._valid_jti.pop(jti, None)
        self._revoked[jti] = expires_at

    def mark_client_revoked(self, client_id: str) -> None:
        self._client_ok[client_id] = (False, self._clock())

    def forget_client(self, client_id: str) -> None:
        self._client_ok.pop(client_id, None)

    def _fresh(self, checked_at: float, now: float) -> bool:
        return now - checked_at < self.ttl

    async def is_refused(self, jti: str, client_id: str, expires_at: float) -> bool:
        """True when the token was revoked or its client may no longer act."""
        if jti in self._revoked:
            return True
        now = self._clock()
        jti_checked = self._valid_jti.get(jti)
        client = self._client_ok.get(client_id)
        need_jti = jti_checked is None or not self._fresh(jti_checked, now)
        need_client = client is None or not self._fresh(client[1], now)
        if need_jti or need_client:
            await self._refresh(
                jti if need_jti else None, client_id if need_client else None, expires_at
            )
            if jti in self._revoked:
                return True
            client = self._client_ok.get(client_id)
        return client is not None and not client[0]

    async def _refresh(self, jti: str | None, client_id: str | None, expires_at: float) -> None:
        async with self._sessionmaker() as session:
            refused = await repository.refused_jtis(session, [jti] if jti else [])
            clients = (
                await repository.clients_that_may_authenticate(session, [client_id])
                if client_id
                else None
            )
        now = self._clock()
        if len(self._valid_jti) + len(self._client_ok) > self.MAX_ENTRIES:
            self._prune(now)
        if jti is not None:
            if jti in refused:
                self._revoked[jti] = expires_at
            else:
                self._valid_jti[jti] = now
        if client_id is not None and clients is not None:
            self._client_ok[client_id] = (bool(clients), now)

    def _prune(self, now: float) -> None:
        self._valid_jti = {k: v for k, v in self._valid_jti.items() if self._fresh(v, now)}
        self._client_ok = {k: v for k, v in self._client_ok.items() if self._fresh(v[1], now)}
        wall = time.time()
        self._revoked = {k: v for k, v in self._revoked.items() if v > wall}
