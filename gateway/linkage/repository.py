"""Every query of the linkage tables (and the few reads of referrals the ledger needs)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import Base
from gateway.linkage.models import (
    AssistanceEntry,
    LinkageBlockRow,
    LinkageKeyVersion,
    LinkagePending,
    LinkageRecordRow,
    LinkageSubject,
    LinkageTokenRow,
)
from gateway.referrals.models import ReferralRow

# Both backends take a few hundred bound parameters per statement comfortably.
_CHUNK = 400


def add(session: AsyncSession, row: Base) -> None:
    session.add(row)


# -- referrals waiting for the linkage worker ----------------------------------------------


async def pending(session: AsyncSession, referral_id: str) -> LinkagePending | None:
    """The waiting row, locked (PostgreSQL) so that two workers never link it twice."""
    query = (
        select(LinkagePending).where(LinkagePending.referral_id == referral_id).with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


async def pending_ids(session: AsyncSession, *, limit: int) -> list[str]:
    query = select(LinkagePending.referral_id).order_by(LinkagePending.created_at).limit(limit)
    return list((await session.execute(query)).scalars())


async def delete_pending(session: AsyncSession, row: LinkagePending) -> None:
    await session.delete(row)


# -- layer keys ---------------------------------------------------------------------------


async def key_versions(
    session: AsyncSession, *, lock: Literal["share", "update"] | None = None
) -> list[LinkageKeyVersion]:
    query = select(LinkageKeyVersion).order_by(LinkageKeyVersion.version)
    if lock == "share":
        query = query.with_for_update(read=True)
    elif lock == "update":
        query = query.with_for_update()
    return list((await session.execute(query)).scalars())


# -- records ------------------------------------------------------------------------------


async def candidate_records(
    session: AsyncSession,
    tokens: Iterable[str],
    ranges: Sequence[tuple[int, int]],
    *,
    limit: int,
) -> list[LinkageRecordRow]:
    """Records sharing an exact token, or a blocking key in one of ``ranges`` (one query)."""
    wanted = sorted(set(tokens))
    conditions = []
    if wanted:
        conditions.append(
            LinkageRecordRow.id.in_(
                select(LinkageTokenRow.record_id).where(LinkageTokenRow.token.in_(wanted))
            )
        )
    if ranges:
        conditions.append(
            LinkageRecordRow.id.in_(
                select(LinkageBlockRow.record_id).where(
                    or_(*(LinkageBlockRow.block.between(low, high) for low, high in ranges))
                )
            )
        )
    if not conditions:
        return []
    query = (
        select(LinkageRecordRow)
        .where(or_(*conditions))
        .order_by(LinkageRecordRow.id.desc())  # the newest first when a block is crowded
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def tokens_of(session: AsyncSession, record_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = sorted(set(record_ids))
    found: dict[int, list[str]] = {record_id: [] for record_id in ids}
    for start in range(0, len(ids), _CHUNK):
        rows = await session.execute(
            select(LinkageTokenRow.record_id, LinkageTokenRow.token).where(
                LinkageTokenRow.record_id.in_(ids[start : start + _CHUNK])
            )
        )
        for record_id, token in rows:
            found[record_id].append(token)
    return found


async def record_of_referral(session: AsyncSession, referral_id: str) -> LinkageRecordRow | None:
    return (
        await session.execute(
            select(LinkageRecordRow).where(LinkageRecordRow.referral_id == referral_id)
        )
    ).scalar_one_or_none()


async def records_after(
    session: AsyncSession, after_id: int, limit: int, *, below_version: int
) -> list[LinkageRecordRow]:
    """A batch of records not yet re-keyed to ``below_version``, in id order."""
    query = (
        select(LinkageRecordRow)
        .where(LinkageRecordRow.id > after_id, LinkageRecordRow.key_version < below_version)
        .order_by(LinkageRecordRow.id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def token_rows_of(session: AsyncSession, record_ids: Sequence[int]) -> list[LinkageTokenRow]:
    rows: list[LinkageTokenRow] = []
    for start in range(0, len(record_ids), _CHUNK):
        rows.extend(
            (
                await session.execute(
                    select(LinkageTokenRow).where(
                        LinkageTokenRow.record_id.in_(record_ids[start : start + _CHUNK])
                    )
                )
            ).scalars()
        )
    return rows


async def delete_blocks(session: AsyncSession, record_ids: Sequence[int]) -> None:
    for start in range(0, len(record_ids), _CHUNK):
        await session.execute(
            delete(LinkageBlockRow).where(
                LinkageBlockRow.record_id.in_(record_ids[start : start + _CHUNK])
            )
        )


async def count_by_version(session: AsyncSession) -> dict[str, dict[int, int]]:
    """Stored values per layer version, per table (for ``mno linkage status``)."""
    result: dict[str, dict[int, int]] = {}
    for name, column in (
        ("records", LinkageRecordRow.key_version),
        ("tokens", LinkageTokenRow.key_version),
    ):
        rows = await session.execute(select(column, func.count()).group_by(column))
        result[name] = {int(version): int(count) for version, count in rows}
    return result


async def subject_count(session: AsyncSession) -> int:
    query = select(func.count()).select_from(LinkageSubject)
    return int((await session.execute(query)).scalar_one())


# -- ledger -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerLine:
    """One ledger entry with the state of its referral."""

    subject_id: str
    referral_id: str
    service_category: str
    referring_agency: str
    receiving_agency: str
    requested_at: datetime
    status: str
    outcome: str | None
    decline_reason: str | None
    updated_at: datetime


async def ledger(
    session: AsyncSession,
    subject_ids: Iterable[str],
    *,
    categories: Iterable[str] | None = None,
    since: datetime | None = None,
) -> list[LedgerLine]:
    ids = sorted(set(subject_ids))
    if not ids:
        return []
    query = (
        select(
            AssistanceEntry.subject_id,
            AssistanceEntry.referral_id,
            AssistanceEntry.service_category,
            AssistanceEntry.referring_agency,
            AssistanceEntry.receiving_agency,
            AssistanceEntry.requested_at,
            ReferralRow.status,
            ReferralRow.outcome,
            ReferralRow.decline_reason,
            ReferralRow.updated_at,
        )
        .join(ReferralRow, ReferralRow.id == AssistanceEntry.referral_id)
        .where(AssistanceEntry.subject_id.in_(ids))
        .order_by(AssistanceEntry.requested_at, AssistanceEntry.id)
    )
    if categories is not None:
        query = query.where(AssistanceEntry.service_category.in_(sorted(set(categories))))
    if since is not None:
        query = query.where(AssistanceEntry.requested_at >= since)
    return [LedgerLine(*row) for row in await session.execute(query)]


async def referral_rows(session: AsyncSession, referral_ids: Iterable[str]) -> list[ReferralRow]:
    ids = sorted(set(referral_ids))
    rows: list[ReferralRow] = []
    for start in range(0, len(ids), _CHUNK):
        rows.extend(
            (
                await session.execute(
                    select(ReferralRow).where(ReferralRow.id.in_(ids[start : start + _CHUNK]))
                )
            ).scalars()
        )
    return rows


# -- exclusion signals --------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralFact:
    """The few columns of a referral the exclusion signals look at."""

    id: str
    subject_key: str
    referring_agency: str
    receiving_agency: str
    status: str
    created_at: datetime
    respond_by: datetime
    responded_at: datetime | None
    decline_reason: str | None
    outcome: str | None


def _facts_query() -> Select[Any]:
    return select(
        ReferralRow.id,
        ReferralRow.subject_key,
        ReferralRow.referring_agency,
        ReferralRow.receiving_agency,
        ReferralRow.status,
        ReferralRow.created_at,
        ReferralRow.respond_by,
        ReferralRow.responded_at,
        ReferralRow.decline_reason,
        ReferralRow.outcome,
    )


async def unanswered_after_deadline(
    session: AsyncSession, now: datetime, statuses: Sequence[str]
) -> list[ReferralFact]:
    """Referrals still waiting for an answer whose SOP response deadline has passed."""
    query = _facts_query().where(ReferralRow.status.in_(statuses), ReferralRow.respond_by < now)
    return [ReferralFact(*row) for row in await session.execute(query)]


async def ended_not_served(session: AsyncSession, outcomes: Sequence[str]) -> list[ReferralFact]:
    query = _facts_query().where(ReferralRow.outcome.in_(outcomes))
    return [ReferralFact(*row) for row in await session.execute(query)]


async def declined_before(session: AsyncSession, before: datetime) -> list[ReferralFact]:
    """Declined referrals (closed since or not) whose decline is older than ``before``."""
    query = _facts_query().where(
        ReferralRow.decline_reason.is_not(None), ReferralRow.responded_at < before
    )
    return [ReferralFact(*row) for row in await session.execute(query)]


async def subjects_of_referrals(
    session: AsyncSession, referral_ids: Iterable[str]
) -> dict[str, str]:
    ids = sorted(set(referral_ids))
    found: dict[str, str] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = await session.execute(
            select(LinkageRecordRow.referral_id, LinkageRecordRow.subject_id).where(
                LinkageRecordRow.referral_id.in_(ids[start : start + _CHUNK])
            )
        )
        found.update({referral_id: subject_id for referral_id, subject_id in rows})
    return found


async def referrals_of_subjects(
    session: AsyncSession, subject_ids: Iterable[str]
) -> list[tuple[str, str, datetime]]:
    """(subject id, referral id, submitted at) of every referral of these subjects."""
    ids = sorted(set(subject_ids))
    found: list[tuple[str, str, datetime]] = []
    for start in range(0, len(ids), _CHUNK):
        rows = await session.execute(
            select(
                LinkageRecordRow.subject_id, LinkageRecordRow.referral_id, ReferralRow.created_at
            )
            .join(ReferralRow, ReferralRow.id == LinkageRecordRow.referral_id)
            .where(LinkageRecordRow.subject_id.in_(ids[start : start + _CHUNK]))
        )
        found.extend((s, r, at) for s, r, at in rows)
    return found


async def referrals_by_subject_keys(
    session: AsyncSession, subject_keys: Iterable[str]
) -> dict[str, list[datetime]]:
    """Submission times of the referrals of each subject key (the referral's own pseudonym)."""
    keys = sorted(set(subject_keys))
    found: dict[str, list[datetime]] = {}
    for start in range(0, len(keys), _CHUNK):
        rows = await session.execute(
            select(ReferralRow.subject_key, ReferralRow.created_at).where(
                ReferralRow.subject_key.in_(keys[start : start + _CHUNK])
            )
        )
        for key, at in rows:
            found.setdefault(key, []).append(at)
    return found
