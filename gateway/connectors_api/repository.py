"""Queries on connector heartbeats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors_api.models import ConnectorHeartbeat


def add(session: AsyncSession, heartbeat: ConnectorHeartbeat) -> None:
    session.add(heartbeat)


async def latest_per_connector(
    session: AsyncSession, agency: str | None = None
) -> Sequence[ConnectorHeartbeat]:
    """The last heartbeat of each connector (of one agency, or of all)."""
    last = select(
        ConnectorHeartbeat.connector_id,
        ConnectorHeartbeat.agency,
        func.max(ConnectorHeartbeat.id).label("last_id"),
    ).group_by(ConnectorHeartbeat.connector_id, ConnectorHeartbeat.agency)
    if agency is not None:
        last = last.where(ConnectorHeartbeat.agency == agency)
    sub = last.subquery()
    stmt = (
        select(ConnectorHeartbeat)
        .join(sub, ConnectorHeartbeat.id == sub.c.last_id)
        .order_by(ConnectorHeartbeat.agency, ConnectorHeartbeat.connector_id)
    )
    return (await session.scalars(stmt)).all()


async def agencies_reporting_since(session: AsyncSession, since: datetime) -> Sequence[str]:
    """Agencies with at least one heartbeat since ``since``."""
    stmt = (
        select(ConnectorHeartbeat.agency)
        .where(ConnectorHeartbeat.received_at >= since)
        .distinct()
        .order_by(ConnectorHeartbeat.agency)
    )
    return (await session.scalars(stmt)).all()
