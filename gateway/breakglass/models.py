"""Break-glass grants: who used emergency access, for which subject, why, until when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, UTCDateTime


class BreakGlassGrantRow(Base):
    """One emergency access. ``justification`` is a short, non-identifying text."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (Index("ix_break_glass_grants_subject", "subject_key", "valid_until"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    client_id: Mapped[str] = mapped_column(String(64))
    subject_key: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))
    reason_code: Mapped[str] = mapped_column(String(32))
    justification: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    policy_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
