"""Start hook: the inbox reader and the broker readiness probe, when a broker is configured."""

from __future__ import annotations

from contextlib import AsyncExitStack

from gateway.events.broker import cluster_answers
from gateway.inbox.reader import InboxReader
from gateway.runtime import Runtime


async def start_inbox(runtime: Runtime, stack: AsyncExitStack) -> None:
    bootstrap = runtime.settings.kafka_bootstrap
    if not bootstrap:
        return
    reader = InboxReader(bootstrap)
    stack.push_async_callback(reader.close)
    runtime.components["inbox_reader"] = reader

    async def probe() -> bool:
        return await cluster_answers(bootstrap, timeout=2.0)

    runtime.components.setdefault("readiness", {})["kafka"] = probe
