"""Queries of the authorization server: signing keys, refused token ids, clients."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies.models import Agency, OAuthClient
from gateway.auth.models import RevokedToken, SigningKey


async def add_signing_key(session: AsyncSession, row: SigningKey) -> None:
    session.add(row)
    await session.flush()


async def active_signing_keys(session: AsyncSession) -> Sequence[SigningKey]:
    result = await session.scalars(
        select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at)
    )
    return result.all()


async def published_signing_keys(session: AsyncSession, now: datetime) -> Sequence[SigningKey]:
    """Active keys and retired keys whose tokens may still be alive."""
    result = await session.scalars(
        select(SigningKey)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.not_after > now))
        .order_by(SigningKey.created_at)
    )
    return result.all()


async def all_signing_keys(session: AsyncSession) -> Sequence[SigningKey]:
    result = await session.scalars(select(SigningKey).order_by(SigningKey.created_at))
    return result.all()


async def insert_refused_jti(session: AsyncSession, jti: str, expires_at: datetime) -> bool:
    """Add a token id to the denylist; False when it was already there (a replay)."""
    values = {"jti": jti, "expires_at": expires_at}
    dialect = session.get_bind().dialect.name
    stmt: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        stmt = postgresql.insert(RevokedToken).values(values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(RevokedToken).values(values).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def refused_jtis(session: AsyncSession, jtis: Iterable[str]) -> set[str]:
    wanted = list(jtis)
    if not wanted:
        return set()
    result = await session.scalars(select(RevokedToken.jti).where(RevokedToken.jti.in_(wanted)))
    return set(result.all())


async def purge_expired_jtis(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))


async def clients_that_may_authenticate(
    session: AsyncSession, client_ids: Iterable[str]
) -> Sequence[OAuthClient]:
    """Clients not revoked, of an active agency."""
    wanted = list(client_ids)
    if not wanted:
        return []
    result = await session.scalars(
        select(OAuthClient)
        .join(Agency, Agency.code == OAuthClient.agency_code)
        .where(
            OAuthClient.client_id.in_(wanted),
            OAuthClient.revoked_at.is_(None),
            Agency.active.is_(True),
        )
    )
    return result.all()
