"""Every query on the MEAL facts: idempotent writes for the aggregator, aggregates for reading.

Writes are upserts that are harmless to repeat (a referral row is replaced only by a snapshot of
the same or a later version; other facts are insert-if-absent), so a replay of the topics, or an
event delivered twice, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    cast,
    delete,
    distinct,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import KeyedColumnElement

from gateway.agencies.models import Agency
from gateway.connectors_api.models import ConnectorHeartbeat
from gateway.meal.models import (
    MealAgencyActivity,
    MealConsentWithdrawal,
    MealDuplicateFact,
    MealReferralFact,
    MealState,
)
from gateway.outbox.processed import ProcessedEvent
from schemas.codes import NOT_SERVED_OUTCOMES

F = MealReferralFact
D = MealDuplicateFact
W = MealConsentWithdrawal
A = MealAgencyActivity
H = ConnectorHeartbeat

# --------------------------------------------------------------------------- writes


def _insert(session: AsyncSession, entity: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    # On the Core table, not the ORM entity: the ORM's bulk insert splits a batch into one
    # statement per set of non-null columns, which costs ~10x on mixed snapshots.
    return module.insert(entity.__table__)


REFERRAL_COLUMNS = tuple(c.name for c in F.__table__.columns)


async def upsert_referral_facts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace by a newer (or equal) version; one row per referral id in ``rows``."""
    if not rows:
        return
    stmt = _insert(session, F)
    stmt = stmt.on_conflict_do_update(
        index_elements=[F.__table__.c.referral_id],
        set_={name: stmt.excluded[name] for name in REFERRAL_COLUMNS if name != "referral_id"},
        where=F.__table__.c.version <= stmt.excluded.version,
    )
    await session.execute(stmt, list(rows))


async def _insert_absent(
    session: AsyncSession, table: Any, keys: Sequence[Any], rows: Sequence[dict[str, Any]]
) -> None:
    if not rows:
        return
    stmt = _insert(session, table).on_conflict_do_nothing(index_elements=[k.key for k in keys])
    await session.execute(stmt, list(rows))


async def add_duplicates(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await _insert_absent(session, D, [D.referral_id], rows)


async def add_withdrawals(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await _insert_absent(session, W, [W.consent_id], rows)


async def add_activity(session: AsyncSession, rows: Iterable[tuple[str, date, str]]) -> None:
    unique = sorted(set(rows))
    await _insert_absent(
        session,
        A,
        [A.agency, A.day, A.source],
        [{"agency": a, "day": d, "source": s} for a, d, s in unique],
    )


async def get_state(session: AsyncSession, key: str) -> str | None:
    row = await session.get(MealState, key)
    return row.value if row is not None else None


async def set_state(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(MealState, key)
    if row is None:
        session.add(MealState(key=key, value=value))
    else:
        row.value = value


async def reset_facts(session: AsyncSession, consumer: str) -> None:
    """Forget every fact and every event id the aggregator has seen (before a replay)."""
    for table in (F, D, W, A):
        await session.execute(delete(table))
    await session.execute(delete(ProcessedEvent).where(ProcessedEvent.consumer == consumer))


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class Scope:
    """The referral cohort: submitted in [start, end), optionally in one region."""

    start: datetime
    end: datetime
    region: str | None
    as_of: datetime


def _cohort(scope: Scope) -> list[ColumnElement[bool]]:
    where = [F.submitted_at >= scope.start, F.submitted_at < scope.end]
    if scope.region:
        where.append(F.region == scope.region)
    return where


def referral_conditions(as_of: datetime) -> dict[str, ColumnElement[bool]]:
    """Per referral, whether it counts in each measure (formulas in docs/meal.md)."""
    responded = F.first_response_at.is_not(None)
    accepted = F.accepted_at.is_not(None)
    ack_den = or_(
        responded,
        and_(
            F.acknowledge_by <= as_of,
            or_(F.cancelled_at.is_(None), F.cancelled_at > F.acknowledge_by),
        ),
    )
    acc_den = or_(
        accepted,
        and_(
            F.declined_at.is_(None),
            F.respond_by <= as_of,
            or_(F.cancelled_at.is_(None), F.cancelled_at > F.respond_by),
        ),
    )
    overdue = and_(
        F.status.in_(("submitted", "acknowledged")),
        or_(and_(F.status == "submitted", F.acknowledge_by < as_of), F.respond_by < as_of),
    )
    return {
        "ack_num": and_(responded, F.first_response_at <= F.acknowledge_by),
        "ack_den": ack_den,
        "acc_num": and_(accepted, F.accepted_at <= F.respond_by),
        "acc_den": acc_den,
        "done_num": F.completed_at.is_not(None),
        "done_den": accepted,
        "overdue": overdue,
        "not_served": F.outcome.in_(sorted(o.value for o in NOT_SERVED_OUTCOMES)),
    }


def _as_int(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


def referral_measures(as_of: datetime) -> dict[str, Any]:
    """The measures of the referral indicators, as SQL sums."""
    sums = {
        name: func.coalesce(func.sum(_as_int(c)), 0)
        for name, c in referral_conditions(as_of).items()
    }
    return {"total": func.count(), **sums}


# Internal grouping columns of the referral facts (the "agency" dimension is resolved to the
# referring or receiving agency by the indicator).
REFERRAL_GROUPS: dict[str, Any] = {
    "sex": F.sex,
    "age_band": F.age_band,
    "region": F.region,
    "case_category": F.case_category,
    "urgency": F.urgency,
    "referring_agency": F.referring_agency,
    "receiving_agency": F.receiving_agency,
    "reason": F.outcome,
    "month": F.submitted_month,
    "service": F.services,  # spread over its categories by _spread
}

Row = tuple[Any, ...]


def _categories(services: str | None) -> list[str]:
    return [c for c in (services or "").split(",") if c]


def _spread(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows grouped by the set of categories requested → rows per category (a referral that
    requested two categories counts in both)."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        for category in _categories(row["group"]):
            into = merged.setdefault(category, {k: 0 for k in row} | {"group": category})
            for key, value in row.items():
                if key != "group":
                    into[key] += value
    return list(merged.values())


async def referral_aggregates(
    session: AsyncSession, scope: Scope, group: str | None
) -> list[dict[str, Any]]:
    """One dict of measures per group value (or one for the whole cohort)."""
    measures = referral_measures(scope.as_of)
    columns: list[Any] = [m.label(name) for name, m in measures.items()]
    query: Any
    if group is None:
        query = select(*columns).where(*_cohort(scope))
    else:
        key: KeyedColumnElement[Any] = REFERRAL_GROUPS[group]
        query = select(key.label("group"), *columns).where(*_cohort(scope)).group_by(key)
        if group == "month":
            query = query.order_by(key)
    rows = [dict(row._mapping) for row in await session.execute(query)]
    return _spread(rows) if group == "service" else rows


async def referral_durations(
    session: AsyncSession, scope: Scope, group: str | None
) -> list[tuple[str | None, float | None, float | None, float | None]]:
    """(group, ack, accept, complete seconds) of each responded referral of the cohort."""
    key: Any = REFERRAL_GROUPS[group] if group else literal(None)
    query: Any = select(key, F.ack_seconds, F.accept_seconds, F.complete_seconds).where(
        *_cohort(scope), F.ack_seconds.is_not(None)
    )
    rows = [(r[0], r[1], r[2], r[3]) for r in await session.execute(query)]
    if group == "service":
        return [(c, a, b, d) for g, a, b, d in rows for c in _categories(g)]
    return rows


# Columns of the one-pass cohort read (gateway.meal.service.Cohort groups them in memory).
COHORT_GROUPS: dict[str, Any] = {
    "sex": F.sex,
    "age_band": F.age_band,
    "region": F.region,
    "case_category": F.case_category,
    "urgency": F.urgency,
    "referring_agency": F.referring_agency,
    "receiving_agency": F.receiving_agency,
    "reason": F.outcome,
    "service": F.services,
}
COHORT_DURATIONS = ("ack_seconds", "accept_seconds", "complete_seconds")


@dataclass(frozen=True)
class CohortRows:
    groups: tuple[str, ...]
    flags: tuple[str, ...]
    durations: tuple[str, ...]
    rows: list[tuple[Any, ...]]


async def referral_cohort(session: AsyncSession, scope: Scope) -> CohortRows:
    """Every referral of the cohort in one read: group codes, 0/1 flags, durations. One scan
    instead of one per breakdown (SQLite reads the cohort's pages once)."""
    conditions = referral_conditions(scope.as_of)
    columns = [
        *COHORT_GROUPS.values(),
        *(_as_int(c) for c in conditions.values()),
        *(getattr(F, name) for name in COHORT_DURATIONS),
    ]
    # Core, not the ORM session: no ORM row processing for the tens of thousands of rows.
    connection = await session.connection()
    result = await connection.execute(select(*columns).where(*_cohort(scope)))
    return CohortRows(
        tuple(COHORT_GROUPS),
        tuple(conditions),
        COHORT_DURATIONS,
        [tuple(row) for row in result],
    )


DUPLICATE_GROUPS: dict[str, Any] = {
    "sex": F.sex,
    "age_band": F.age_band,
    "region": F.region,
    "case_category": F.case_category,
    "receiving_agency": F.receiving_agency,
    "match_method": D.match_method,
}


async def duplicate_counts(
    session: AsyncSession, scope: Scope, group: str | None
) -> list[tuple[str | None, int]]:
    where: list[ColumnElement[bool]] = [D.detected_at >= scope.start, D.detected_at < scope.end]
    if scope.region:
        where.append(F.region == scope.region)
    count = func.count(distinct(D.referral_id))
    query: Any
    if group is None:
        query = select(literal(None), count)
    else:
        query = select(DUPLICATE_GROUPS[group], count)
    query = query.select_from(D).outerjoin(F, F.referral_id == D.referral_id).where(*where)
    if group is not None:
        # A suspicion about a referral MEAL has not seen groups under None ("unknown").
        query = query.group_by(DUPLICATE_GROUPS[group])
    result = await session.execute(query)
    return [(r[0], int(r[1])) for r in result]


WITHDRAWAL_GROUPS: dict[str, Any] = {"collecting_agency": W.collecting_agency, "reason": W.reason}


async def withdrawal_counts(
    session: AsyncSession, start: datetime, end: datetime, group: str | None
) -> list[tuple[str | None, int]]:
    where = [W.withdrawn_at >= start, W.withdrawn_at < end]
    query: Any
    if group is None:
        query = select(literal(None), func.count()).where(*where)
    else:
        key = WITHDRAWAL_GROUPS[group]
        query = select(key, func.count()).where(*where).group_by(key)
    result = await session.execute(query)
    return [(r[0], int(r[1])) for r in result]


def _utc_day(session: AsyncSession, column: Any) -> Any:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite stores UTC text: 'YYYY-MM-DD'


async def _heartbeat_days(session: AsyncSession, first: date, last: date) -> set[tuple[str, date]]:
    """(agency, day) of the connector heartbeats the connectors part records in its table.

    Read where they are, at query time, so a rebuild of the facts never loses them."""
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    day = _utc_day(session, H.received_at)
    query = (
        select(H.agency, day)
        .where(H.received_at >= start, H.received_at < end)
        .group_by(H.agency, day)
    )
    out = set()
    for agency, value in await session.execute(query):
        out.add((agency, value if isinstance(value, date) else date.fromisoformat(str(value))))
    return out


async def _activity_days(session: AsyncSession, first: date, last: date) -> set[tuple[str, date]]:
    query = select(A.agency, A.day).where(A.day >= first, A.day <= last).distinct()
    days = {(agency, day) for agency, day in await session.execute(query)}
    return days | await _heartbeat_days(session, first, last)


async def active_days_by_agency(session: AsyncSession, first: date, last: date) -> dict[str, int]:
    """Distinct days with activity of each agency, ``first`` to ``last`` inclusive: API
    traffic and heartbeats from the events, plus the connector heartbeats table."""
    counts: dict[str, int] = {}
    for agency, _day in await _activity_days(session, first, last):
        counts[agency] = counts.get(agency, 0) + 1
    return counts


async def member_agencies(session: AsyncSession) -> list[str]:
    query = select(Agency.code).where(Agency.active.is_(True)).order_by(Agency.code)
    return list((await session.execute(query)).scalars())


async def active_agency_count(session: AsyncSession, first: date, last: date) -> int:
    return len({agency for agency, _day in await _activity_days(session, first, last)})


async def active_service_count(session: AsyncSession, scope: Scope) -> int:
    query = select(func.count(distinct(F.service_key))).where(*_cohort(scope))
    return int((await session.execute(query)).scalar_one())


@dataclass(frozen=True)
class OverdueReferral:
    referral_id: str
    receiving_agency: str
    urgency: str
    status: str
    deadline: str  # "acknowledge" | "respond"
    due_at: datetime


async def overdue_referrals(
    session: AsyncSession, scope: Scope, limit: int = 200
) -> list[OverdueReferral]:
    """Open referrals past an SOP deadline, most overdue first (referral ids, no person)."""
    as_of = scope.as_of
    ack_late = and_(F.status == "submitted", F.acknowledge_by < as_of)
    query = (
        select(F.referral_id, F.receiving_agency, F.urgency, F.status, F.acknowledge_by)
        .add_columns(F.respond_by)
        .where(
            *_cohort(scope),
            F.status.in_(("submitted", "acknowledged")),
            or_(ack_late, F.respond_by < as_of),
        )
        .order_by(
            case((ack_late, F.acknowledge_by), else_=F.respond_by),
            F.referral_id,
        )
        .limit(limit)
    )
    out = []
    for rid, agency, urgency, status, ack_by, respond_by in await session.execute(query):
        if status == "submitted" and ack_by < as_of:
            out.append(OverdueReferral(rid, agency, urgency, status, "acknowledge", ack_by))
        else:
            out.append(OverdueReferral(rid, agency, urgency, status, "respond", respond_by))
    return out


async def count_facts(session: AsyncSession) -> dict[str, int]:
    """Rows per fact table (health checks, the benchmark, the rebuild command)."""
    out = {}
    for name, table in (
        ("referrals", F),
        ("duplicates", D),
        ("withdrawals", W),
        ("activity", A),
    ):
        out[name] = int(
            (await session.execute(select(func.count()).select_from(table))).scalar_one()
        )
    return out
