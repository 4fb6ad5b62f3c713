"""Write a CloudEvent to the outbox inside the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.outbox import repository
from gateway.outbox.models import OutboxEvent


def enqueue(session: AsyncSession, *, topic: str, key: str, envelope: dict[str, Any]) -> None:
    """Record the event with the change; the relay publishes it once the transaction commits."""
    repository.add(
        session,
        OutboxEvent(
            event_id=str(envelope["id"]),
            topic=topic,
            key=key,
            type=str(envelope["type"]),
            envelope=json.dumps(envelope, separators=(",", ":"), default=str),
            created_at=utcnow(),
            attempts=0,
        ),
    )
