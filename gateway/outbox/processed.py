"""Idempotency of consumers: the event ids each consumer has already handled."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, UTCDateTime


class ProcessedEvent(Base):
    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())


async def already_processed(
    session: AsyncSession, consumer: str, event_ids: Iterable[str]
) -> set[str]:
    ids = list(event_ids)
    if not ids:
        return set()
    query = select(ProcessedEvent.event_id).where(
        ProcessedEvent.consumer == consumer, ProcessedEvent.event_id.in_(ids)
    )
    return set((await session.execute(query)).scalars())


def mark_processed(session: AsyncSession, consumer: str, event_id: str, at: datetime) -> None:
    session.add(ProcessedEvent(consumer=consumer, event_id=event_id, processed_at=at))
