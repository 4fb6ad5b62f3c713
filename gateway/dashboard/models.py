"""Staff users of the dashboard: an e-mail, a scrypt hash and a role. Staff, not beneficiaries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, UTCDateTime

STAFF_ROLES = ("viewer", "admin")


class StaffUser(Base):
    """A person of the secretariat or the steering committee who reads the dashboard."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
