"""Helpers shared by CLI commands: settings, an engine and one session per command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.engine import make_engine, make_sessionmaker
from gateway.settings import Settings

T = TypeVar("T")


def run_with_session(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction that commits when it returns."""

    async def _main() -> T:
        settings = Settings()
        engine = make_engine(settings.resolved_database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                result = await work(session, settings)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(_main())
