"""Supervised background workers (relay, router, …) for ``mno run`` and the one-component
commands: each worker is restarted with backoff if it crashes, and stopped with one event."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger("mno.workers")

WorkerFactory = Callable[[asyncio.Event], Awaitable[None]]


async def supervise(name: str, factory: WorkerFactory, stop: asyncio.Event) -> None:
    """Run ``factory(stop)`` until ``stop`` is set, restarting it after a crash."""
    backoff = 0.5
    while not stop.is_set():
        try:
            await factory(stop)
            backoff = 0.5
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a worker crash must not take the others down
            logger.error(
                "worker crashed, restarting",
                extra={"worker": name, "error_type": type(exc).__name__, "retry_in_s": backoff},
            )
            try:
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            except TimeoutError:
                pass
            backoff = min(backoff * 2, 10.0)
