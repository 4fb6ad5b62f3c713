"""MEAL fact tables: statistical facts materialised from the events, never a person.

Facts hold codes, age bands, regions, agency codes and times. They never hold a pseudonym,
a linkage token or anything from the encrypted payload; the referral id (a gateway UUID) is
kept only so that each referral is one row (events are snapshots) and the overdue list can
name it to staff.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

# Re-exported so that importing this module registers the dashboard's staff table too.
from gateway.dashboard.models import StaffUser
from gateway.db.base import Base, UTCDateTime

__all__ = [
    "MealAgencyActivity",
    "MealConsentWithdrawal",
    "MealDuplicateFact",
    "MealReferralFact",
    "MealState",
    "StaffUser",
]

UNKNOWN = "unknown"


class MealReferralFact(Base):
    """One referral as the MEAL plan sees it: its latest snapshot, flattened."""

    __tablename__ = "meal_referral_facts"
    __table_args__ = (
        Index("ix_meal_referral_facts_submitted", "submitted_at"),
        Index("ix_meal_referral_facts_month", "submitted_month"),
        Index("ix_meal_referral_facts_open", "status", "respond_by"),
    )

    referral_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    referring_agency: Mapped[str] = mapped_column(String(32))
    receiving_agency: Mapped[str] = mapped_column(String(32))
    # The directory service id when given, else "<receiving agency>/<first category>".
    service_key: Mapped[str] = mapped_column(String(100))
    # The categories requested, sorted, comma-separated: the service breakdown groups on this
    # (a few distinct values) and spreads each group over its categories, with no join.
    services: Mapped[str] = mapped_column(String(400))
    sex: Mapped[str] = mapped_column(String(16))
    age_band: Mapped[str] = mapped_column(String(8))
    region: Mapped[str] = mapped_column(String(8))  # region of residence, or "unknown"
    case_category: Mapped[str] = mapped_column(String(48))
    urgency: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_month: Mapped[str] = mapped_column(String(7))  # "YYYY-MM" (UTC = Guinea time)
    acknowledge_by: Mapped[datetime] = mapped_column(UTCDateTime())
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime())
    # First of acknowledge / accept / decline: accepting at once also acknowledges.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ack_seconds: Mapped[float | None] = mapped_column(Float)
    accept_seconds: Mapped[float | None] = mapped_column(Float)
    complete_seconds: Mapped[float | None] = mapped_column(Float)
    decline_reason: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))


class MealDuplicateFact(Base):
    """A referral flagged as possible duplicate assistance (first detection only)."""

    __tablename__ = "meal_duplicate_facts"

    referral_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    match_method: Mapped[str] = mapped_column(String(32))
    matches: Mapped[int] = mapped_column(Integer)


class MealConsentWithdrawal(Base):
    """A consent withdrawal: who collected it, when, why. No pseudonym."""

    __tablename__ = "meal_consent_withdrawals"

    consent_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    collecting_agency: Mapped[str] = mapped_column(String(32))
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    reason: Mapped[str] = mapped_column(String(48))
    subject_is_minor: Mapped[bool] = mapped_column(Boolean)


class MealAgencyActivity(Base):
    """An agency sent data on that day: API traffic (``api``) or a connector heartbeat
    (``connector``). Presence only, so that replaying any event is harmless."""

    __tablename__ = "meal_agency_activity"

    agency: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), primary_key=True)


class MealState(Base):
    """Small key/value state of the aggregator (its current consumer group)."""

    __tablename__ = "meal_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
