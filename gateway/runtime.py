"""What the app's lifespan builds once and every request or worker shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    metrics: CollectorRegistry
    # Components that later parts attach at start (key set, policy, broker client …),
    # looked up through typed accessors in their own packages.
    components: dict[str, Any] = field(default_factory=dict)
