"""The directory table: one row per service, the entry as JSON plus the columns searched on.

The directory is small (hundreds of services nationally), so list filters on areas, languages
and eligibility run in the service layer over the JSON, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, UTCDateTime


class DirectoryServiceRow(Base):
    """A service of the directory; ``body`` is a ``DirectoryService`` (organisational data only)."""

    __tablename__ = "directory_services"
    __table_args__ = (Index("ix_directory_services_category_status", "category", "status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    accepting_referrals: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
