"""Every query of the consent registry (consents, change counters, purge receipts).

Two reads look at the referrals table: the parties of a subject's referrals are the agencies
with a legitimate link to that subject, and the ones a withdrawal must reach.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import String, any_, bindparam, column, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies.models import Agency
from gateway.consent.models import ConsentRow, ConsentSubject, PurgeReceipt
from gateway.referrals.models import ReferralRow

# Bound parameters per IN list: well under SQLite's limit and PostgreSQL's plan-cache sweet spot.
CHUNK = 500


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def add(session: AsyncSession, row: ConsentRow | PurgeReceipt) -> None:
    session.add(row)


async def get(
    session: AsyncSession, consent_id: str, *, for_update: bool = False
) -> ConsentRow | None:
    query = select(ConsentRow).where(ConsentRow.id == consent_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def by_subject_keys(session: AsyncSession, keys: Iterable[str]) -> list[ConsentRow]:
    wanted = sorted(set(keys))
    rows: list[ConsentRow] = []
    for part in chunks(wanted):
        query = select(ConsentRow).where(ConsentRow.subject_key.in_(part))
        rows.extend((await session.execute(query)).scalars())
    rows.sort(key=lambda r: (r.subject_key, r.recorded_at, r.id))
    return rows


# The counter check runs before every batch of decisions: one bound parameter whatever the
# number of subjects (an array on PostgreSQL, a JSON list on SQLite) keeps it cheap to build.
_VERSIONS_PG = select(ConsentSubject.subject_key, ConsentSubject.version).where(
    ConsentSubject.subject_key == any_(bindparam("keys", type_=ARRAY(String())))
)
_VERSIONS_SQLITE = select(ConsentSubject.subject_key, ConsentSubject.version).where(
    ConsentSubject.subject_key.in_(
        select(column("value", String())).select_from(func.json_each(bindparam("keys")))
    )
)


async def versions(session: AsyncSession, keys: Iterable[str]) -> dict[str, int]:
    """The change counter of each subject (absent: never changed, version 0)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        result = await session.execute(_VERSIONS_PG, {"keys": wanted})
    else:
        result = await session.execute(_VERSIONS_SQLITE, {"keys": json.dumps(wanted)})
    return {key: version for key, version in result.tuples().all()}


async def bump_version(session: AsyncSession, subject_key: str, now: datetime) -> None:
    """Count one change of the subject's consents (an upsert: concurrent writers both count)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ConsentSubject).values(subject_key=subject_key, version=1, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[ConsentSubject.subject_key],
        set_={"version": ConsentSubject.version + 1, "updated_at": now},
    )
    await session.execute(statement)


async def referral_parties(session: AsyncSession, subject_keys: Iterable[str]) -> set[str]:
    """Every agency that sent or received a referral about one of these subjects."""
    wanted = sorted(set(subject_keys))
    agencies: set[str] = set()
    for part in chunks(wanted):
        query = (
            select(ReferralRow.referring_agency, ReferralRow.receiving_agency)
            .where(ReferralRow.subject_key.in_(part))
            .distinct()
        )
        for referring, receiving in (await session.execute(query)).all():
            agencies.update((referring, receiving))
    return agencies


async def has_link(session: AsyncSession, agency: str, subject_keys: Sequence[str]) -> bool:
    """The agency collected a consent of the subject, or is a party to one of its referrals."""
    collected = select(ConsentRow.id).where(
        ConsentRow.subject_key.in_(subject_keys), ConsentRow.collecting_agency == agency
    )
    if (await session.execute(collected.limit(1))).first() is not None:
        return True
    party = select(ReferralRow.id).where(
        ReferralRow.subject_key.in_(subject_keys),
        or_(ReferralRow.referring_agency == agency, ReferralRow.receiving_agency == agency),
    )
    return (await session.execute(party.limit(1))).first() is not None


async def agency_kinds(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(codes))
    kinds: dict[str, str] = {}
    for part in chunks(wanted):
        query = select(Agency.code, Agency.kind).where(Agency.code.in_(part))
        kinds.update(dict((await session.execute(query)).tuples().all()))
    return kinds


async def receipts_of(session: AsyncSession, consent_ids: Iterable[str]) -> list[PurgeReceipt]:
    wanted = sorted(set(consent_ids))
    rows: list[PurgeReceipt] = []
    for part in chunks(wanted):
        query = select(PurgeReceipt).where(PurgeReceipt.consent_id.in_(part))
        rows.extend((await session.execute(query)).scalars())
    rows.sort(key=lambda r: (r.consent_id, r.agency))
    return rows


async def receipt(session: AsyncSession, consent_id: str, agency: str) -> PurgeReceipt | None:
    query = select(PurgeReceipt).where(
        PurgeReceipt.consent_id == consent_id, PurgeReceipt.agency == agency
    )
    return (await session.execute(query)).scalar_one_or_none()


async def confirm_receipt(
    session: AsyncSession, receipt_id: int, at: datetime, client_id: str
) -> bool:
    """Mark a pending receipt confirmed; False if it was confirmed meanwhile."""
    result = await session.execute(
        update(PurgeReceipt)
        .where(PurgeReceipt.id == receipt_id, PurgeReceipt.confirmed_at.is_(None))
        .values(confirmed_at=at, confirmed_by_client=client_id)
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(result, "rowcount", 0))


async def pending_receipts(
    session: AsyncSession, *, agency: str | None = None, limit: int = 1000
) -> list[tuple[PurgeReceipt, ConsentRow]]:
    """Receipts not confirmed yet, oldest request first; those owed by or to ``agency``."""
    query = (
        select(PurgeReceipt, ConsentRow)
        .join(ConsentRow, ConsentRow.id == PurgeReceipt.consent_id)
        .where(PurgeReceipt.confirmed_at.is_(None))
    )
    if agency is not None:
        query = query.where(
            or_(PurgeReceipt.agency == agency, ConsentRow.collecting_agency == agency)
        )
    query = query.order_by(PurgeReceipt.requested_at, PurgeReceipt.id).limit(limit)
    return [(r, c) for r, c in (await session.execute(query)).tuples().all()]


async def referral_rows(session: AsyncSession, referral_ids: Iterable[str]) -> list[ReferralRow]:
    """Referral rows by id, for re-deciding copies of their events (inbox, webhooks)."""
    wanted = sorted(set(referral_ids))
    rows: list[ReferralRow] = []
    for part in chunks(wanted):
        rows.extend(
            (await session.execute(select(ReferralRow).where(ReferralRow.id.in_(part)))).scalars()
        )
    return rows
