"""Focal points (role contacts) of agencies, and the e-mail/SMS notices queued for them.

Addresses are role addresses (a referral desk, a duty phone), not personal ones. A notice holds
only codes and ids (kind, referral id, deadline): the text is rendered when it is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, UTCDateTime

CHANNELS = ("email", "sms")
NOTICE_STATUSES = ("pending", "sent", "dead", "skipped")


class AgencyContact(Base):
    """A focal point of an agency on one channel, for some notice kinds."""

    __tablename__ = "agency_contacts"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        UniqueConstraint("agency", "channel", "address", name="uq_agency_contacts_address"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(320))
    events: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Notice(Base):
    """One e-mail or SMS to one contact; unique per (contact, dedup key), so idempotent."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'dead', 'skipped')", name="status"),
        UniqueConstraint("contact_id", "dedup_key", name="uq_notifications_dedup"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    contact_id: Mapped[str] = mapped_column(ForeignKey("agency_contacts.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(160))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
