"""Append to the audit chain within the caller's transaction, and verify the whole log."""

from __future__ import annotations

import random
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import repository
from gateway.audit.chain import GENESIS, LANES, entry_hash
from gateway.audit.models import AuditEntry
from gateway.db.base import utcnow

if TYPE_CHECKING:
    from gateway.runtime import Runtime

_LANE_KEY = "mno.audit.lane"


async def start_audit(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Start hook: every lane's head exists, so an append costs one locking select, no insert."""
    async with runtime.sessionmaker() as session:
        await repository.ensure_heads(session, LANES)
        await session.commit()


@dataclass(frozen=True)
class AuditRecord:
    action: str
    object_type: str
    object_id: str | None
    decision: str = "ok"
    client_id: str | None = None
    agency: str | None = None
    detail: str | None = None
    policy_version: str | None = None


async def append(session: AsyncSession, record: AuditRecord) -> AuditEntry:
    """Chain one entry; committed (or rolled back) together with the audited change."""
    # One lane per transaction: two lanes locked in different orders could deadlock.
    lane = session.info.get(_LANE_KEY)
    if lane is None:
        lane = random.randrange(LANES)  # noqa: S311 - load spreading, not security
        session.info[_LANE_KEY] = lane
    head = await repository.lock_head(session, lane)
    seq = head.seq + 1
    fields = {
        "lane": lane,
        "seq": seq,
        "at": utcnow(),
        "client_id": record.client_id,
        "agency": record.agency,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": record.object_id,
        "decision": record.decision,
        "detail": record.detail,
        "policy_version": record.policy_version,
    }
    digest = entry_hash(head.hash, fields)
    entry = AuditEntry(**fields, prev_hash=head.hash, hash=digest)
    repository.add(session, entry)
    head.seq = seq
    head.hash = digest
    return entry


def release_lane(session: AsyncSession) -> None:
    session.info.pop(_LANE_KEY, None)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    problem_fr: str | None = None
    problem_en: str | None = None


async def verify(session: AsyncSession) -> VerifyResult:
    """Walk every lane; report the first altered, missing or reordered entry."""
    heads = await repository.heads(session)
    lanes = sorted(set(heads) | set(await repository.lanes_in_use(session)))
    count = 0
    for lane in lanes:
        prev_hash, expected_seq, last_id = GENESIS, 1, None
        async for entry in repository.lane_entries(session, lane):
            count += 1
            where = f"entrée {entry.id} (voie {lane}, n° {entry.seq})"
            where_en = f"entry {entry.id} (lane {lane}, #{entry.seq})"
            if entry.seq != expected_seq:
                after = f"après l'entrée {last_id}" if last_id else "au début"
                after_en = f"after entry {last_id}" if last_id else "at the start"
                return VerifyResult(
                    False,
                    count,
                    f"Entrée manquante : voie {lane}, n° {expected_seq} ({after}).",
                    f"Missing entry: lane {lane}, #{expected_seq} ({after_en}).",
                )
            fields = {c: getattr(entry, c) for c in AuditEntry.__table__.columns.keys()}
            if entry.prev_hash != prev_hash or entry_hash(prev_hash, fields) != entry.hash:
                return VerifyResult(
                    False, count, f"Entrée modifiée : {where}.", f"Altered entry: {where_en}."
                )
            prev_hash, expected_seq, last_id = entry.hash, expected_seq + 1, entry.id
        head = heads.get(lane)
        last_seq = expected_seq - 1
        if head is not None and head.seq > last_seq:
            after = f"après l'entrée {last_id}" if last_id else "au début"
            after_en = f"after entry {last_id}" if last_id else "at the start"
            return VerifyResult(
                False,
                count,
                f"Entrée manquante : voie {lane}, n° {last_seq + 1} ({after}).",
                f"Missing entry: lane {lane}, #{last_seq + 1} ({after_en}).",
            )
        if head is None or head.seq != last_seq or head.hash != prev_hash:
            return VerifyResult(
                False,
                count,
                f"Fin de chaîne modifiée : voie {lane}, après l'entrée {last_id}.",
                f"Altered chain tail: lane {lane}, after entry {last_id}.",
            )
    return VerifyResult(True, count)
