"""Consent tables: the consents, a change counter per subject, and the purge receipts.

Subjects appear only as the gateway's re-keyed pseudonym (``subject_key``), as in referrals.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, UTCDateTime


class ConsentRow(Base):
    """One consent as collected by an agency. Lists are stored as comma-separated codes."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_subject_key", "subject_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_key: Mapped[str] = mapped_column(String(64))
    collecting_agency: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    recorded_by_client: Mapped[str] = mapped_column(String(64))
    purposes: Mapped[str] = mapped_column(String(200))
    data_categories: Mapped[str] = mapped_column(String(200))
    recipients: Mapped[str] = mapped_column(String(2200))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    method: Mapped[str] = mapped_column(String(16))
    evidence_reference: Mapped[str | None] = mapped_column(String(64))
    subject_is_minor: Mapped[bool] = mapped_column(Boolean)
    guardian_consent: Mapped[bool | None] = mapped_column(Boolean)
    child_assent: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str | None] = mapped_column(String(32))
    withdrawn_by_agency: Mapped[str | None] = mapped_column(String(32))


class ConsentSubject(Base):
    """A counter bumped by every change of a subject's consents or break-glass grants.

    Decision caches key on it: any process reads the counter (a primary-key lookup) and knows
    whether what it holds for the subject is still current.
    """

    __tablename__ = "consent_subjects"

    subject_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PurgeReceipt(Base):
    """An agency that received data about a subject confirms it deleted its copies."""

    __tablename__ = "consent_purge_receipts"
    __table_args__ = (
        UniqueConstraint("consent_id", "agency", name="uq_consent_purge_receipts_agency"),
        Index("ix_consent_purge_receipts_pending", "confirmed_at", "agency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_client: Mapped[str | None] = mapped_column(String(64))
