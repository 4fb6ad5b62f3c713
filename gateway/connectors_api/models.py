"""Connector heartbeats: one row per successful poll of an agency-side connector.

Counters only (rows read, sent, rejected, lag): no row content, no personal data. The MEAL
indicator "% of actors submitting data regularly" is computed from this table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, UTCDateTime


class ConnectorHeartbeat(Base):
    __tablename__ = "connector_heartbeats"
    __table_args__ = (
        Index("ix_connector_heartbeats_agency_received", "agency", "received_at"),
        Index("ix_connector_heartbeats_connector_received", "connector_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    client_id: Mapped[str] = mapped_column(String(64))
    connector_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_sent: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    lag_seconds: Mapped[float | None] = mapped_column(Float)
