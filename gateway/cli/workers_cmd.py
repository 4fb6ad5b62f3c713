"""One background component per process, for production (``mno relay``, ``mno router``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.engine import make_engine, make_sessionmaker
from gateway.db.migrate import ensure_migrated
from gateway.events.broker import broker_for
from gateway.ops.logging import configure_logging
from gateway.settings import Settings
from gateway.workers import supervise

Worker = Callable[[asyncio.Event], Awaitable[None]]
Build = Callable[[str, async_sessionmaker[AsyncSession]], Worker]


def _serve(name: str, build: Build) -> None:
    settings = Settings()
    configure_logging(settings.log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        engine = make_engine(settings.resolved_database_url)
        try:
            await ensure_migrated(engine)
            async with broker_for(settings) as bootstrap:
                await supervise(name, build(bootstrap, make_sessionmaker(engine)), stop)
        finally:
            await engine.dispose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def run_relay() -> None:
    from gateway.outbox.relay import Relay

    _serve("relay", lambda bootstrap, sm: Relay(sm, bootstrap).run)


def run_router() -> None:
    from consumers.router.handler import Router

    _serve("router", lambda bootstrap, sm: Router(bootstrap, sm).run)


def run_linkage_worker() -> None:
    from consumers.linkage.handler import LinkageWorker
    from gateway.linkage.rekey import linkage_secret
    from gateway.linkage.service import DuplicateRule

    settings = Settings()
    secret = linkage_secret(settings)
    rule = DuplicateRule.from_settings(settings)
    _serve(
        "linkage",
        lambda bootstrap, sm: LinkageWorker(bootstrap, sm, secret=secret, rule=rule).run,
    )
