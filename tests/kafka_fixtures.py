"""pytest plugin: one real Apache Kafka broker for the whole test session.

List it in ``pytest_plugins``. The ``kafka`` fixture starts the embedded single-node KRaft broker
(``gateway.events.broker``) once, or uses the cluster named by ``MNO_KAFKA_BOOTSTRAP``. Fault
tests stop, kill and restart the embedded broker through the handle; ``async with kafka.down():``
guarantees it is back (same port, same data) for the tests that follow.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from gateway.events.broker import EmbeddedKafka
from gateway.settings import Settings


@dataclass
class KafkaHandle:
    """The session's broker: ``bootstrap``, and stop/start/kill for fault tests."""

    bootstrap: str
    broker: EmbeddedKafka | None

    @property
    def embedded(self) -> bool:
        return self.broker is not None

    def _own(self) -> EmbeddedKafka:
        if self.broker is None:
            raise RuntimeError(
                "Ce test arrête le courtier : il faut le courtier embarqué (MNO_KAFKA_BOOTSTRAP "
                "non défini). / This test stops the broker: it needs the embedded broker "
                "(unset MNO_KAFKA_BOOTSTRAP)."
            )
        return self.broker

    async def stop(self) -> None:
        await self._own().stop()

    async def kill(self) -> None:
        await self._own().kill()

    async def start(self) -> None:
        await self._own().start()

    async def restart(self) -> None:
        await self._own().restart()

    @asynccontextmanager
    async def down(self, *, crash: bool = False) -> AsyncIterator[None]:
        """The broker is stopped (killed if ``crash``) inside the block, running after it."""
        broker = self._own()
        await (broker.kill() if crash else broker.stop())
        try:
            yield
        finally:
            await broker.start()

    @staticmethod
    def unique_topic(prefix: str = "test") -> str:
        """A topic name no other test uses (tests share the session's broker)."""
        return f"{prefix}.{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
async def kafka(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KafkaHandle]:
    """The session's Apache Kafka: embedded broker, or ``MNO_KAFKA_BOOTSTRAP`` when set."""
    external = Settings().kafka_bootstrap
    if external:
        yield KafkaHandle(external, None)
        return
    broker = EmbeddedKafka(tmp_path_factory.mktemp("kafka"))
    await broker.start()
    try:
        yield KafkaHandle(broker.bootstrap, broker)
    finally:
        await broker.stop()
