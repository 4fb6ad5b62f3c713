"""Linkage tables: layer keys, pseudonymous subjects, their re-keyed records, the assistance ledger.

Nothing here names a person. A subject is a random id; its records hold only values re-keyed
with the gateway's layer secrets (tokens: HMAC chains; Bloom filters: keyed permutations of bit
positions), coarse demographics (birth year, sex) needed for blocking, and the referral they came
with. Every re-keyed value carries the layer version it was computed under (``key_version``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, UTCDateTime

BIGID = BigInteger().with_variant(Integer, "sqlite")


class LinkageKeyVersion(Base):
    """One layer of the gateway's re-keying; the highest version is the current one.

    The layer secret is random and stored only wrapped (AES-256-GCM) under a key derived from
    ``MNO_SECRET_KEY``: the database alone does not give it, nor the master secret alone.
    """

    __tablename__ = "linkage_key_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    wrapped_secret: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkageSubject(Base):
    """A pseudonymous person as the gateway knows them: an id and nothing else."""

    __tablename__ = "linkage_subjects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkageRecordRow(Base):
    """What one referral said about its subject, re-keyed: the matcher's input."""

    __tablename__ = "linkage_records"

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(
        ForeignKey("linkage_subjects.id", ondelete="CASCADE"), index=True
    )
    referral_id: Mapped[str] = mapped_column(String(36), unique=True)
    agency: Mapped[str] = mapped_column(String(32))  # the agency that sent the record
    pseudonym: Mapped[str] = mapped_column(String(64))  # re-keyed primary token
    bloom: Mapped[str | None] = mapped_column(Text)  # base64 of the permuted filter
    birth_year: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(16))
    key_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkageTokenRow(Base):
    """One re-keyed exact token of a record (the primary pseudonym included)."""

    __tablename__ = "linkage_tokens"
    __table_args__ = (Index("ix_linkage_tokens_token", "token"),)

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("linkage_records.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(64))
    key_version: Mapped[int] = mapped_column(Integer)


class LinkageBlockRow(Base):
    """A blocking key of a record's (permuted) Bloom filter: fuzzy candidates without a scan."""

    __tablename__ = "linkage_blocks"

    block: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("linkage_records.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AssistanceEntry(Base):
    """The ledger: a service category requested for a subject, from which agency, when.

    Whether it was then received is read from the referral (status and outcome), which the
    SOP workflow keeps current.
    """

    __tablename__ = "linkage_assistance"
    __table_args__ = (
        Index("ix_linkage_assistance_subject", "subject_id", "service_category", "requested_at"),
    )

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("linkage_subjects.id", ondelete="CASCADE"))
    referral_id: Mapped[str] = mapped_column(String(36), index=True)
    service_category: Mapped[str] = mapped_column(String(32))
    referring_agency: Mapped[str] = mapped_column(String(32))
    receiving_agency: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkagePending(Base):
    """A submitted referral waiting for the linkage worker (``mno linkage-worker``).

    Written in the submission's transaction, with the subject already through the gateway's
    layers (what the ledger would store, nothing the agency sent), so that matching happens
    off the request path. The worker deletes the row once the referral is in the ledger.
    """

    __tablename__ = "linkage_pending"

    referral_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_version: Mapped[int] = mapped_column(Integer)
    probe: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
