"""Database sessions for the notifier's parts.

On SQLite every transaction takes the write lock at BEGIN (gateway/db/engine.py), and a
connection that finds it taken sleeps in SQLite's busy handler with growing pauses. The
notifier's parts (intake, dispatch, recording, notices) would then wait on each other for tens
of milliseconds at a time; handing the lock over inside the process, in order, avoids that.
PostgreSQL sessions are not serialised.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def notifier_sessions(sessionmaker: async_sessionmaker[AsyncSession]) -> SessionFactory:
    bind = sessionmaker.kw.get("bind")
    dialect = getattr(getattr(bind, "dialect", None), "name", "")
    if dialect != "sqlite":
        return sessionmaker
    lock = asyncio.Lock()

    @asynccontextmanager
    async def serial() -> AsyncIterator[AsyncSession]:
        async with lock, sessionmaker() as session:
            yield session

    return serial


async def bookkeeping(session: AsyncSession) -> None:
    """Do not wait for the WAL flush of this transaction (PostgreSQL).

    For leases and attempt outcomes only: if the server crashed before the flush, a delivery
    would at worst be sent again (at least once, same webhook-id). The deliveries themselves
    are written by the intake with full durability before the Kafka offsets move.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL synchronous_commit TO OFF"))
