"""Linkage rules: who is the same person, what they already received, who may learn it.

* :func:`stage_referral` is the hook of the referral submission: it re-keys what the agency
  sent and leaves it in ``linkage_pending``, one row in the submission's transaction.
* :func:`link_referral` is the linkage worker's step (``consumers/linkage``, on
  ``ReferralSubmitted``): it links the referral to an existing pseudonymous subject (or a new
  one), writes the assistance ledger and, when a service of a watched category would be given
  again within the window, writes a ``DuplicateAssistanceSuspected`` event to the outbox.
* :func:`match_subject` answers ``POST /v1/subjects/match`` as far as the policy allows.
* :func:`exclusion_signals` counts the referrals that left a person without the service.

Nothing here commits, and nothing logs a token, a filter or a key.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.pseudonym.match import DEFAULT_CONFIG, Index, LinkageRecord
from gateway.audit.service import AuditRecord, append
from gateway.auth.dependencies import Principal
from gateway.db.base import utcnow
from gateway.errors import ValidationFailed
from gateway.events.topics import REFERRAL_EVENTS
from gateway.linkage import repository
from gateway.linkage.blocking import BLOOM_BYTES, block_keys, probe_ranges
from gateway.linkage.layers import Layers, current_layers, layers_from_rows, request_layers
from gateway.linkage.models import (
    AssistanceEntry,
    LinkageBlockRow,
    LinkagePending,
    LinkageRecordRow,
    LinkageSubject,
    LinkageTokenRow,
)
from gateway.outbox.service import enqueue
from gateway.policy.service import PolicyDecisionPoint
from gateway.settings import Settings
from schemas.codes import (
    NOT_SERVED_OUTCOMES,
    ConsentPurpose,
    MatchMethod,
    ReferralStatus,
    ServiceCategory,
)
from schemas.events import DuplicateAssistanceSuspected, make_envelope
from schemas.referral import Referral
from schemas.subject import SubjectRef

SOURCE = "/mno/gateway/linkage"
# CloudEvents extension attribute: the agencies the router copies the event to (both sides).
PARTIES_ATTRIBUTE = "mnoparties"
DEFAULT_DUPLICATE_CATEGORIES = frozenset(
    {
        ServiceCategory.ECONOMIC_REINTEGRATION.value,
        ServiceCategory.CASH_IN_KIND.value,
        ServiceCategory.VOCATIONAL_TRAINING.value,
        ServiceCategory.SHELTER.value,
    }
)
STATISTICAL_PURPOSES = frozenset({ConsentPurpose.MEAL_STATISTICS, ConsentPurpose.RESEARCH})
# Earlier requests that did not lead to the service: they do not make a new one a repeat.
_NOT_RECEIVED_STATUSES = frozenset({ReferralStatus.DECLINED.value, ReferralStatus.CANCELLED.value})
_NOT_SERVED = frozenset(o.value for o in NOT_SERVED_OUTCOMES)
# Candidates fetched per query (tokens and blocks); far above real block sizes.
CANDIDATE_LIMIT = 2000
MAX_SUBJECTS = 5


@dataclass(frozen=True)
class DuplicateRule:
    """Which repeats are suspicious: a watched service category again within ``window_days``."""

    window_days: int = 365
    categories: frozenset[str] = DEFAULT_DUPLICATE_CATEGORIES

    @classmethod
    def from_settings(cls, settings: Settings) -> DuplicateRule:
        return cls(settings.duplicate_window_days, parse_categories(settings.duplicate_categories))


def parse_categories(text: str) -> frozenset[str]:
    """``MNO_DUPLICATE_CATEGORIES``: service category codes separated by spaces or commas."""
    codes = frozenset(part for part in text.replace(",", " ").split() if part)
    unknown = sorted(codes - {c.value for c in ServiceCategory})
    if unknown:
        raise ValueError(
            f"catégories de service inconnues / unknown service categories: {', '.join(unknown)}"
        )
    return codes


# -- re-keying what an agency sent ----------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """A subject as the gateway compares it: every value already through the layers."""

    pseudonym: str | None
    tokens: tuple[str, ...]
    bloom: bytes | None
    birth_year: int | None
    sex: str | None

    @property
    def lookup_tokens(self) -> list[str]:
        return [*([self.pseudonym] if self.pseudonym else []), *self.tokens]

    def record(self) -> LinkageRecord:
        return LinkageRecord.build(
            pseudonym=self.pseudonym or "",
            tokens=self.tokens,
            bloom=self.bloom or bytes(BLOOM_BYTES),
            birth_year=self.birth_year,
            sex=self.sex,
        )


def decode_bloom(text: str) -> bytes:
    """The agency's filter (base64, standard or URL-safe); ``ValueError`` unless 1024 bits."""
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("bloom is not base64") from None
    if len(raw) != BLOOM_BYTES:
        raise ValueError(f"bloom must be {BLOOM_BYTES * 8} bits")
    return raw


def rekeyed_probe(
    layers: Layers,
    *,
    pseudonym: str | None,
    tokens: Iterable[str],
    bloom: bytes | None,
    birth_year: int | None,
    sex: str | None,
) -> Probe:
    return Probe(
        pseudonym=layers.token(pseudonym) if pseudonym else None,
        tokens=tuple(dict.fromkeys(layers.token(t) for t in tokens if t != pseudonym)),
        bloom=layers.bloom(bloom) if bloom is not None else None,
        birth_year=birth_year,
        sex=None if sex in (None, "unknown") else sex,
    )


# -- finding the subject --------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectCandidate:
    subject_id: str
    score: float
    method: MatchMethod
    record_ids: tuple[int, ...]


def _stored_record(row: LinkageRecordRow, tokens: Sequence[str]) -> LinkageRecord:
    return LinkageRecord.build(
        pseudonym=row.pseudonym,
        tokens=[t for t in tokens if t != row.pseudonym],
        bloom=base64.b64decode(row.bloom) if row.bloom else bytes(BLOOM_BYTES),
        birth_year=row.birth_year,
        sex=row.sex,
    )


def _exact(probe: Probe, row: LinkageRecordRow) -> bool:
    """Without a filter on one side, only the full primary pseudonym links two records.

    It covers names, birth year and sex; it counts only when both are known (else every
    namesake shares it), as in the kit's matcher.
    """
    known = probe.birth_year is not None and probe.sex is not None
    return (
        known
        and row.birth_year is not None
        and row.sex is not None
        and (probe.pseudonym == row.pseudonym)
    )


async def find_subjects(
    session: AsyncSession,
    probe: Probe,
    *,
    threshold: float = DEFAULT_CONFIG.threshold,
    limit: int = MAX_SUBJECTS,
) -> list[SubjectCandidate]:
    """Subjects whose records match the probe, best first (score in [0, 1])."""
    ranges = probe_ranges(probe.bloom, probe.birth_year) if probe.bloom is not None else []
    rows = {
        row.id: row
        for row in await repository.candidate_records(
            session, probe.lookup_tokens, ranges, limit=CANDIDATE_LIMIT
        )
    }
    if not rows:
        return []
    tokens = await repository.tokens_of(session, rows)
    scores: dict[int, float] = {}
    filtered = [row for row in rows.values() if row.bloom]
    if probe.bloom is not None and filtered:
        # The kit's scorer over these candidates only (its namesake adjustment included).
        index = Index(DEFAULT_CONFIG)
        index.add_many((row.id, _stored_record(row, tokens[row.id])) for row in filtered)
        for record_id, value in index.query(probe.record(), threshold=threshold, limit=len(rows)):
            scores[int(record_id)] = float(value)  # type: ignore[call-overload]
    for row in rows.values():
        if (probe.bloom is None or not row.bloom) and _exact(probe, row):
            scores[row.id] = 1.0
    wanted = set(probe.lookup_tokens)
    best: dict[str, SubjectCandidate] = {}
    for record_id, value in scores.items():
        row = rows[record_id]
        method = (
            MatchMethod.EXACT_TOKEN if wanted & set(tokens[record_id]) else MatchMethod.FUZZY_BLOOM
        )
        held = best.get(row.subject_id)
        if held is None:
            best[row.subject_id] = SubjectCandidate(row.subject_id, value, method, (record_id,))
            continue
        ids = (*held.record_ids, record_id)
        if value > held.score:
            best[row.subject_id] = SubjectCandidate(row.subject_id, value, method, ids)
        else:
            best[row.subject_id] = SubjectCandidate(held.subject_id, held.score, held.method, ids)
    ranked = sorted(best.values(), key=lambda c: (-c.score, c.subject_id))
    return ranked[:limit]


# -- the referral hook ----------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """What :func:`link_referral` did."""

    subject_id: str
    new_subject: bool
    duplicate_of: tuple[str, ...] = ()
    overlapping: tuple[str, ...] = ()


def _received_or_underway(line: repository.LedgerLine) -> bool:
    """Served, or still on its way; not declined (closed since or not), cancelled, not served."""
    if line.status in _NOT_RECEIVED_STATUSES or line.decline_reason is not None:
        return False
    return line.outcome not in _NOT_SERVED


@dataclass(frozen=True)
class Staged:
    """What the linkage worker needs of a submitted referral: its subject through the layers
    (the values the ledger stores) and the few referral fields the ledger keeps."""

    version: int
    probe: Probe
    referral_id: str
    subject_key: str  # the gateway's key of the subject, as in the referral events
    referring_agency: str
    receiving_agency: str
    services: tuple[str, ...]
    requested_at: datetime

    def dumps(self) -> str:
        return json.dumps(
            {
                "p": self.probe.pseudonym,
                "t": list(self.probe.tokens),
                "b": base64.b64encode(self.probe.bloom).decode("ascii")
                if self.probe.bloom is not None
                else None,
                "y": self.probe.birth_year,
                "s": self.probe.sex,
                "k": self.subject_key,
                "from": self.referring_agency,
                "to": self.receiving_agency,
                "services": list(self.services),
                "at": self.requested_at.isoformat(),
            },
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, row: LinkagePending) -> Staged:
        data = json.loads(row.probe)
        bloom = data.get("b")
        return cls(
            version=row.key_version,
            probe=Probe(
                pseudonym=data.get("p"),
                tokens=tuple(data.get("t") or ()),
                bloom=base64.b64decode(bloom) if bloom else None,
                birth_year=data.get("y"),
                sex=data.get("s"),
            ),
            referral_id=row.referral_id,
            subject_key=data["k"],
            referring_agency=data["from"],
            receiving_agency=data["to"],
            services=tuple(data.get("services") or ()),
            requested_at=datetime.fromisoformat(data["at"]),
        )

    def lifted(self, layers: Layers) -> Probe:
        """The probe through the layers added since it was staged (none, usually)."""
        newer = layers.rekeyers[self.version :]
        if not newer:
            return self.probe
        partial = Layers(newer)
        probe = self.probe
        return Probe(
            pseudonym=partial.token(probe.pseudonym) if probe.pseudonym else None,
            tokens=tuple(partial.token(t) for t in probe.tokens),
            bloom=partial.bloom(probe.bloom) if probe.bloom is not None else None,
            birth_year=probe.birth_year,
            sex=probe.sex,
        )


async def stage_referral(
    session: AsyncSession, referral: Referral, submitted: SubjectRef, *, secret: bytes
) -> None:
    """The submission's part of linkage: re-key the subject and leave it for the worker.

    ``submitted`` is the subject as the agency sent it (its own tokens and filter), ``secret``
    the gateway linkage secret. One row in the caller's transaction; no query on the ledger.
    """
    layers = await request_layers(session, secret)
    bloom: bytes | None = None
    if submitted.bloom is not None:
        try:
            bloom = decode_bloom(submitted.bloom)
        except ValueError:
            bloom = None  # another filter size: this record links by its tokens only
    probe = rekeyed_probe(
        layers,
        pseudonym=submitted.pseudonym,
        tokens=submitted.tokens,
        bloom=bloom,
        birth_year=submitted.birth_year,
        sex=submitted.sex.value,
    )
    staged = Staged(
        version=layers.version,
        probe=probe,
        referral_id=str(referral.id),
        subject_key=referral.subject.pseudonym,
        referring_agency=referral.referring_agency,
        receiving_agency=referral.receiving_agency,
        services=tuple(dict.fromkeys(c.value for c in referral.services_requested)),
        requested_at=referral.created_at,
    )
    repository.add(
        session,
        LinkagePending(
            referral_id=staged.referral_id,
            key_version=staged.version,
            probe=staged.dumps(),
            created_at=referral.created_at,
        ),
    )


async def link_referral(
    session: AsyncSession,
    referral_id: str,
    *,
    secret: bytes,
    rule: DuplicateRule | None = None,
) -> Recorded | None:
    """The linkage worker's step for one submitted referral: link it to an existing
    pseudonymous subject (or a new one), write the ledger and, when a service of a watched
    category would be given again within the window, enqueue ``DuplicateAssistanceSuspected``
    for every agency involved. In the caller's transaction; ``None`` when there is nothing to
    do (already linked: a redelivered event changes nothing)."""
    row = await repository.pending(session, referral_id)
    if row is None:
        return None
    staged = Staged.loads(row)
    await repository.delete_pending(session, row)
    rule = rule or DuplicateRule()
    layers = await current_layers(session, secret)
    probe = staged.lifted(layers)
    candidates = await find_subjects(session, probe, limit=1)
    now = utcnow()
    if candidates:
        best: SubjectCandidate | None = candidates[0]
        subject_id = candidates[0].subject_id
    else:
        best = None
        subject_id = str(uuid.uuid4())
        repository.add(session, LinkageSubject(id=subject_id, created_at=now))
        await session.flush()
    record = LinkageRecordRow(
        subject_id=subject_id,
        referral_id=referral_id,
        agency=staged.referring_agency,
        pseudonym=probe.pseudonym or "",
        bloom=base64.b64encode(probe.bloom).decode("ascii") if probe.bloom else None,
        birth_year=probe.birth_year,
        sex=probe.sex,
        key_version=layers.version,
        created_at=now,
    )
    repository.add(session, record)
    await session.flush()
    # One bulk statement per table (executemany), not one INSERT per row.
    tokens = [
        {"record_id": record.id, "token": token, "key_version": layers.version}
        for token in dict.fromkeys(probe.lookup_tokens)
    ]
    if tokens:
        await session.execute(insert(LinkageTokenRow), tokens)
    if probe.bloom is not None:
        blocks = [
            {"block": key, "record_id": record.id}
            for key in dict.fromkeys(block_keys(probe.bloom, probe.birth_year))
        ]
        if blocks:
            await session.execute(insert(LinkageBlockRow), blocks)
    categories = list(staged.services)
    entries = [
        {
            "subject_id": subject_id,
            "referral_id": referral_id,
            "service_category": category,
            "referring_agency": staged.referring_agency,
            "receiving_agency": staged.receiving_agency,
            "requested_at": staged.requested_at,
        }
        for category in categories
    ]
    if entries:
        await session.execute(insert(AssistanceEntry), entries)
    await session.flush()
    if best is None:
        return Recorded(subject_id, new_subject=True)
    watched = [c for c in categories if c in rule.categories]
    if not watched:
        return Recorded(subject_id, new_subject=False)
    since = staged.requested_at - timedelta(days=rule.window_days)
    earlier = [
        line
        for line in await repository.ledger(session, [subject_id], categories=watched, since=since)
        if line.referral_id != referral_id and _received_or_underway(line)
    ]
    if not earlier:
        return Recorded(subject_id, new_subject=False)
    matching = list(dict.fromkeys(line.referral_id for line in earlier))
    overlapping = sorted({line.service_category for line in earlier})
    parties = {staged.referring_agency, staged.receiving_agency}
    for line in earlier:
        parties.update((line.referring_agency, line.receiving_agency))
    _publish_duplicate(session, staged, matching, overlapping, best, parties)
    await append(
        session,
        AuditRecord(
            action="linkage.duplicate_suspected",
            object_type="referral",
            object_id=referral_id,
            decision="ok",
            agency=staged.referring_agency,
            detail=f"matches:{len(matching)} services:{','.join(overlapping)}",
        ),
    )
    return Recorded(subject_id, False, tuple(matching), tuple(overlapping))


async def link_pending(
    session: AsyncSession,
    *,
    secret: bytes,
    rule: DuplicateRule | None = None,
    limit: int = 500,
) -> int:
    """Link the oldest referrals still waiting (the worker's catch-up at start). Returns how
    many were linked; the caller commits."""
    done = 0
    for referral_id in await repository.pending_ids(session, limit=limit):
        if await link_referral(session, referral_id, secret=secret, rule=rule) is not None:
            done += 1
    return done


def _publish_duplicate(
    session: AsyncSession,
    staged: Staged,
    matching: Sequence[str],
    overlapping: Sequence[str],
    best: SubjectCandidate,
    parties: Iterable[str],
) -> None:
    data = DuplicateAssistanceSuspected(
        referral_id=uuid.UUID(staged.referral_id),
        subject_pseudonym=staged.subject_key,  # the gateway's key, as in referral events
        matching_referral_ids=[uuid.UUID(r) for r in matching[:50]],
        match_method=best.method,
        score=round(min(max(best.score, 0.0), 1.0), 4),
        overlapping_services=[ServiceCategory(c) for c in overlapping],
    )
    envelope = make_envelope(
        type=DuplicateAssistanceSuspected.event_type,
        source=SOURCE,
        data=data.model_dump(mode="json"),
    )
    envelope[PARTIES_ATTRIBUTE] = " ".join(sorted(set(parties)))
    enqueue(session, topic=REFERRAL_EVENTS, key=staged.referral_id, envelope=envelope)


# -- POST /v1/subjects/match ----------------------------------------------------------------


@dataclass(frozen=True)
class MatchQuery:
    """What an agency sends: its own tokens and filter (keyed with the MoU key), a purpose."""

    purpose: ConsentPurpose
    pseudonym: str | None = None
    tokens: tuple[str, ...] = ()
    bloom: str | None = None
    birth_year: int | None = None
    sex: str | None = None


@dataclass(frozen=True)
class MatchedReferral:
    """One earlier referral of a matched subject, as far as the policy lets the caller see it."""

    referral_id: str
    referring_agency: str
    receiving_agency: str
    service_categories: tuple[str, ...]
    requested_at: datetime
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class SubjectMatch:
    subject_id: str
    score: float
    method: MatchMethod
    referrals: tuple[MatchedReferral, ...]
    other_referrals: int  # referrals the caller may not see: counted, never described
    other_agencies: int


@dataclass(frozen=True)
class MatchResult:
    purpose: ConsentPurpose
    counts_only: bool
    matched_subjects: int
    matched_referrals: int
    subjects: tuple[SubjectMatch, ...] = field(default_factory=tuple)


def _bad_query(field_name: str, fr: str, en: str) -> ValidationFailed:
    return ValidationFailed(
        fr, en, code="invalid_match_query", errors=[{"field": field_name, "type": "invalid"}]
    )


async def match_subject(
    session: AsyncSession,
    principal: Principal,
    query: MatchQuery,
    *,
    secret: bytes,
    point: PolicyDecisionPoint,
) -> MatchResult:
    """The subjects an agency's tokens designate, and their referrals as the policy allows.

    For a statistical purpose (MEAL, research), counts only. Otherwise each earlier referral
    is described only if the policy lets the caller read it (its own referrals, or another's
    under consent); the rest are counted.
    """
    if not (query.pseudonym or query.tokens or query.bloom):
        raise _bad_query(
            "body",
            "Donnez au moins un pseudonyme, un jeton ou un filtre de Bloom.",
            "Give at least a pseudonym, a token or a Bloom filter.",
        )
    bloom: bytes | None = None
    if query.bloom is not None:
        try:
            bloom = decode_bloom(query.bloom)
        except ValueError:
            raise _bad_query(
                "body.bloom",
                f"Filtre de Bloom invalide : base64 de {BLOOM_BYTES * 8} bits attendu.",
                f"Invalid Bloom filter: base64 of {BLOOM_BYTES * 8} bits expected.",
            ) from None
    rows = await repository.key_versions(session)
    candidates: list[SubjectCandidate] = []
    if rows:  # nothing was ever stored otherwise
        probe = rekeyed_probe(
            layers_from_rows(secret, rows),
            pseudonym=query.pseudonym,
            tokens=query.tokens,
            bloom=bloom,
            birth_year=query.birth_year,
            sex=query.sex,
        )
        candidates = await find_subjects(session, probe)
    lines = await repository.ledger(session, [c.subject_id for c in candidates])
    by_referral: dict[str, list[repository.LedgerLine]] = {}
    for line in lines:
        by_referral.setdefault(line.referral_id, []).append(line)
    counts_only = query.purpose in STATISTICAL_PURPOSES
    subjects: list[SubjectMatch] = []
    visible: set[str] = set()
    if not counts_only and by_referral:
        referral_rows = await repository.referral_rows(session, by_referral)
        decisions = await point.decide_referrals(session, referral_rows, principal.agency)
        visible = {rid for rid, decision in decisions.items() if decision.permitted}
    for candidate in candidates if not counts_only else ():
        own = [rid for rid, ls in by_referral.items() if ls[0].subject_id == candidate.subject_id]
        shown = [_matched(by_referral[rid]) for rid in own if rid in visible]
        hidden = [by_referral[rid][0] for rid in own if rid not in visible]
        agencies = {a for line in hidden for a in (line.referring_agency, line.receiving_agency)}
        subjects.append(
            SubjectMatch(
                candidate.subject_id,
                round(candidate.score, 4),
                candidate.method,
                tuple(sorted(shown, key=lambda m: (m.requested_at, m.referral_id))),
                len(hidden),
                len(agencies - {principal.agency}),
            )
        )
    result = MatchResult(
        query.purpose,
        counts_only,
        len(candidates),
        len(by_referral),
        tuple(subjects),
    )
    await append(
        session,
        AuditRecord(
            action="subject.match",
            object_type="subject",
            object_id=candidates[0].subject_id if candidates and not counts_only else None,
            decision="permit" if visible else "ok",
            client_id=principal.client_id,
            agency=principal.agency,
            detail=(
                f"purpose:{query.purpose.value} subjects:{len(candidates)} "
                f"referrals:{len(by_referral)} shown:{len(visible)}"
            ),
            policy_version=point.tag,
        ),
    )
    return result


def _matched(lines: Sequence[repository.LedgerLine]) -> MatchedReferral:
    first = lines[0]
    return MatchedReferral(
        first.referral_id,
        first.referring_agency,
        first.receiving_agency,
        tuple(sorted({line.service_category for line in lines})),
        first.requested_at,
        first.status,
        first.updated_at,
    )


# -- exclusion signals ----------------------------------------------------------------------

NO_RESPONSE = "no_response_by_deadline"
NOT_SERVED = "not_served"
DECLINED_NO_ALTERNATIVE = "declined_without_alternative"
EXCLUSION_REASONS: dict[str, tuple[str, str]] = {
    NO_RESPONSE: (
        "Sans réponse à l'échéance de la procédure (SOP)",
        "No response by the SOP deadline",
    ),
    NOT_SERVED: ("Clôturé sans service rendu", "Ended without the service"),
    DECLINED_NO_ALTERNATIVE: (
        "Refusé sans autre orientation dans le délai",
        "Declined without an alternative referral in time",
    ),
}
_WAITING = (ReferralStatus.SUBMITTED.value, ReferralStatus.ACKNOWLEDGED.value)


async def referred_not_served(
    session: AsyncSession, *, now: datetime | None = None
) -> dict[str, list[repository.ReferralFact]]:
    """Referrals past their SOP response deadline without an answer, and those that ended
    with a "not served" outcome, by reason."""
    now = now or utcnow()
    return {
        NO_RESPONSE: await repository.unanswered_after_deadline(session, now, _WAITING),
        NOT_SERVED: await repository.ended_not_served(session, sorted(_NOT_SERVED)),
    }


async def declined_without_alternative(
    session: AsyncSession, *, days: int = 30, now: datetime | None = None
) -> list[repository.ReferralFact]:
    """Declines older than ``days`` after which no other referral of the same person came
    within ``days`` (the same person: the linkage subject, else the same pseudonym)."""
    now = now or utcnow()
    window = timedelta(days=days)
    declined = await repository.declined_before(session, now - window)
    if not declined:
        return []
    subjects = await repository.subjects_of_referrals(session, (d.id for d in declined))
    later: dict[str, list[datetime]] = {}
    for subject_id, _referral, at in await repository.referrals_of_subjects(
        session, set(subjects.values())
    ):
        later.setdefault(subject_id, []).append(at)
    keyed = await repository.referrals_by_subject_keys(
        session, {d.subject_key for d in declined if d.id not in subjects}
    )
    found = []
    for fact in declined:
        subject = subjects.get(fact.id)
        times = later.get(subject, []) if subject else keyed.get(fact.subject_key, [])
        if fact.responded_at is None:  # declined_before selects on it; for the type checker
            continue
        start, end = fact.responded_at, fact.responded_at + window
        if not any(start <= at <= end for at in times):
            found.append(fact)
    return found


@dataclass(frozen=True)
class ExclusionCount:
    reason: str
    agency: str  # the receiving agency
    month: str  # YYYY-MM of the referral's submission
    count: int


async def exclusion_signals(
    session: AsyncSession,
    *,
    days: int = 30,
    since: datetime | None = None,
    now: datetime | None = None,
) -> list[ExclusionCount]:
    """Counts by reason, receiving agency and month of submission: statistics only."""
    signals = await referred_not_served(session, now=now)
    signals[DECLINED_NO_ALTERNATIVE] = await declined_without_alternative(
        session, days=days, now=now
    )
    counts: Counter[tuple[str, str, str]] = Counter()
    for reason, facts in signals.items():
        for fact in facts:
            if since is not None and fact.created_at < since:
                continue
            counts[(reason, fact.receiving_agency, fact.created_at.strftime("%Y-%m"))] += 1
    return [
        ExclusionCount(reason, agency, month, count)
        for (reason, agency, month), count in sorted(counts.items())
    ]


def describe(signal: ExclusionCount) -> dict[str, Any]:
    fr, en = EXCLUSION_REASONS[signal.reason]
    return {
        "reason": signal.reason,
        "label_fr": fr,
        "label_en": en,
        "agency": signal.agency,
        "month": signal.month,
        "count": signal.count,
    }
