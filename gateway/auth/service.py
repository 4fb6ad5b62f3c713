"""What the token endpoints read and write around authlib. Services never commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import repository
from gateway.auth.server import ClientRecord
from gateway.auth.tokens import AccessClaims
from gateway.db.base import utcnow


async def clients_for_request(
    session: AsyncSession, client_ids: Iterable[str]
) -> dict[str, ClientRecord]:
    """The clients a request names that may authenticate (not revoked, agency active)."""
    rows = await repository.clients_that_may_authenticate(session, client_ids)
    return {
        row.client_id: ClientRecord(
            client_id=row.client_id,
            agency=row.agency_code,
            scopes=tuple(row.scopes.split()),
            secret_hash=row.secret_hash,
            jwks=row.jwks,
        )
        for row in rows
    }


async def burn_client_assertion(session: AsyncSession, key: str, expires_at: int) -> bool:
    """Record a used RFC 7523 assertion until it expires; False when it was already used."""
    expires = datetime.fromtimestamp(expires_at, UTC)
    fresh = await repository.insert_refused_jti(session, key, expires)
    # Token requests are rare (one per client per token lifetime): a cheap place to clean up.
    await repository.purge_expired_jtis(session, utcnow())
    return fresh


async def revoke_access_tokens(session: AsyncSession, tokens: Iterable[AccessClaims]) -> None:
    """Deny these token ids until they expire, and forget ids that expired long ago."""
    for claims in tokens:
        await repository.insert_refused_jti(
            session, claims.jti, datetime.fromtimestamp(claims.exp, UTC)
        )
    await repository.purge_expired_jtis(session, utcnow())
