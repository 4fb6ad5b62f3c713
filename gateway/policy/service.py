"""The one policy decision point of the gateway, fed with consent facts from the database.

Every sharing path asks it: REST reads of referrals (field-level redaction), the router's
fan-out to agency inboxes, inbox reads and webhook retries or replays (a re-check: a consent
withdrawn since routing stops copies already queued), the consent check API and break-glass.

Two caches sit in front of the database, and both stay correct across processes:

* facts: per subject, its consents and unexpired break-glass grants, tagged with the subject's
  change counter (``consent_subjects.version``, bumped in the same transaction as any change).
  Every use first reads the counters of the subjects involved (one primary-key query for a whole
  batch) and reloads the facts whose counter moved;
* decisions: :class:`~gateway.policy.cache.CachedDecisionPoint`, keyed with that counter as
  ``consent_version``, so a decision made from older facts is never served again. Changes made
  by this process also drop the subject's entries at once (:meth:`PolicyDecisionPoint.invalidate`).
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.service import AuditRecord
from gateway.breakglass import repository as breakglass_repository
from gateway.breakglass.models import BreakGlassGrantRow
from gateway.consent import repository as consent_repository
from gateway.consent.models import ConsentRow
from gateway.deps import RuntimeDep
from gateway.errors import MnoError, ServiceUnavailable
from gateway.policy import reasons as R
from gateway.policy.cache import CachedDecisionPoint
from gateway.policy.engine import (
    UNKNOWN_SUBJECT,
    AgencyRef,
    BreakGlassGrant,
    CompiledPolicy,
    ConsentFact,
    Decision,
    DecisionRequest,
    Party,
    SubjectContext,
)
from gateway.policy.loader import load_policy
from gateway.policy.models import DATA_CATEGORIES
from gateway.referrals.models import ReferralRow
from gateway.runtime import Runtime
from gateway.settings import Settings
from schemas.categories import redact_referral

ALL_CATEGORIES: frozenset[str] = frozenset(DATA_CATEGORIES)
REFERRAL_PURPOSE = "referral"
REFERRAL_TYPE_PREFIX = "gn.mno.referral."
CONSENT_TYPE_PREFIX = "gn.mno.consent."
BREAK_GLASS_TYPE_PREFIX = "gn.mno.breakglass."
COMPONENT = "policy"

_MINOR = SubjectContext(is_minor=True)
_ADULT = SubjectContext(is_minor=False)


def split_codes(value: str) -> list[str]:
    return [item for item in value.split(",") if item]


def join_codes(values: Iterable[str]) -> str:
    return ",".join(str(v) for v in values)


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """What the registry holds about one subject, as of change number ``version``."""

    subject_key: str
    version: int = 0
    consents: tuple[ConsentFact, ...] = ()
    grants: tuple[BreakGlassGrant, ...] = ()
    minor: bool | None = None  # as the consents recorded it; None without consent

    def grant_for(self, recipient: str, purpose: str, at: datetime) -> BreakGlassGrant | None:
        """The running grant of ``recipient`` for ``purpose`` that lasts longest, if any."""
        best: BreakGlassGrant | None = None
        for grant in self.grants:
            if (
                grant.recipient == recipient
                and grant.purpose == purpose
                and grant.valid_from <= at < grant.valid_until
                and (best is None or grant.valid_until > best.valid_until)
            ):
                best = grant
        return best


def consent_fact(row: ConsentRow) -> ConsentFact:
    return ConsentFact(
        consent_id=row.id,
        purposes=frozenset(split_codes(row.purposes)),
        data_categories=frozenset(split_codes(row.data_categories)),
        recipients=frozenset(split_codes(row.recipients)),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        guardian_consent=bool(row.guardian_consent),
        child_assent=bool(row.child_assent),
        withdrawn=row.status == "withdrawn",
    )


def grant_fact(row: BreakGlassGrantRow) -> BreakGlassGrant:
    return BreakGlassGrant(
        grant_id=row.id,
        recipient=row.agency,
        purpose=row.purpose,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )


def subject_facts(
    subject_key: str,
    version: int,
    consents: Sequence[ConsentRow],
    grants: Sequence[BreakGlassGrantRow] = (),
) -> SubjectFacts:
    minor = any(c.subject_is_minor for c in consents) if consents else None
    return SubjectFacts(
        subject_key,
        version,
        tuple(consent_fact(c) for c in consents),
        tuple(grant_fact(g) for g in grants),
        minor,
    )


def subject_context(
    subject: SubjectContext | None, minor_by_consent: bool | None
) -> SubjectContext:
    """The subject as the event or referral says, made safer by what the consents recorded."""
    if subject is None or (subject.is_minor is None and subject.age is None):
        if minor_by_consent is None:
            return UNKNOWN_SUBJECT
        return _MINOR if minor_by_consent else _ADULT
    if minor_by_consent and subject.age is None and not subject.is_minor:
        return _MINOR  # a consent recorded the person as a child: protect as one
    return subject


@dataclass(frozen=True, slots=True)
class ReferralSharing:
    """What the policy needs to know about a referral to decide who may get a copy of it."""

    referral_id: str
    subject_key: str
    referring_agency: str
    receiving_agency: str
    subject: SubjectContext

    def relation(self, agency: str) -> Party | None:
        if agency == self.receiving_agency:
            return "receiver"
        if agency == self.referring_agency:
            return "referrer"
        return None

    @classmethod
    def from_row(cls, row: ReferralRow) -> ReferralSharing:
        try:
            stored = json.loads(row.body)
            minor = stored.get("subject", {}).get("is_minor")
        except (ValueError, AttributeError):
            minor = None
        return cls(
            row.id,
            row.subject_key,
            row.referring_agency,
            row.receiving_agency,
            _MINOR if minor is True else _ADULT if minor is False else UNKNOWN_SUBJECT,
        )

    @classmethod
    def from_event_data(cls, data: Mapping[str, Any]) -> ReferralSharing | None:
        """From the flat referral snapshot of a referral event; None if it lacks the keys."""
        subject = data.get("subject")
        referrer, receiver = data.get("referring_agency"), data.get("receiving_agency")
        if not isinstance(subject, Mapping) or not isinstance(subject.get("pseudonym"), str):
            return None
        if not isinstance(referrer, str) or not isinstance(receiver, str):
            return None
        minor = subject.get("is_minor")
        return cls(
            str(data.get("id", "")),
            subject["pseudonym"],
            referrer,
            receiver,
            _MINOR if minor is True else _ADULT if minor is False else UNKNOWN_SUBJECT,
        )


@dataclass(frozen=True)
class Recheck:
    """The answer for one copy re-checked before delivery (inbox read, webhook, replay).

    Shaped like ``gateway.subscriptions.policy.DeliveryVerdict`` (``permit``,
    ``policy_version``, ``reasons``) plus ``envelope``: the copy redacted to what the policy
    permits now (never more than it held), None when denied.
    """

    permit: bool
    policy_version: str
    reasons: tuple[str, ...]
    envelope: dict[str, Any] | None
    object_id: str


def reason_codes(decision: Decision) -> tuple[str, ...]:
    return tuple(dict.fromkeys(reason.code for reason in decision.reasons))


def redact_copy(
    envelope: Mapping[str, Any], decision: Decision, relation: Party | None, tag: str
) -> dict[str, Any]:
    """A referral event copy with only the permitted categories; the JWE for the receiver only."""
    data = envelope.get("data")
    redacted = redact_referral(
        data if isinstance(data, Mapping) else {}, decision.permitted_categories
    )
    if relation != "receiver":
        redacted.pop("protected", None)  # encrypted for the receiver: useless to anyone else
    return {**envelope, "data": redacted, "mnopolicyversion": tag}


class PolicyDecisionPoint:
    """The MoU engine with its caches, and the consent facts it reads from the database."""

    def __init__(
        self,
        policy: CompiledPolicy,
        *,
        max_subjects: int = 200_000,
        max_decisions: int = 200_000,
    ) -> None:
        self.policy = policy
        self.decisions = CachedDecisionPoint(
            policy, max_entries=max_decisions, max_tracked_subjects=max_subjects
        )
        self._facts: OrderedDict[str, SubjectFacts] = OrderedDict()
        self._max_subjects = max_subjects
        self.fact_loads = 0

    @classmethod
    def from_file(cls, path: Path) -> PolicyDecisionPoint:
        """Load, validate and compile an MoU file (raises ``PolicyFileError``)."""
        return cls(load_policy(path).compiled)

    @property
    def version(self) -> str:
        return self.policy.version

    @property
    def tag(self) -> str:
        """``<policy_id>@<version>``: what audit entries and copies record."""
        return f"{self.policy.policy_id}@{self.policy.version}"

    # ----------------------------------------------------------------------- facts

    async def facts(
        self, session: AsyncSession, subject_keys: Iterable[str], *, at: datetime | None = None
    ) -> dict[str, SubjectFacts]:
        """Current facts of these subjects: from memory when their change counter is unchanged."""
        keys = list(dict.fromkeys(subject_keys))
        if not keys:
            return {}
        # Counters first, then consents: facts are never older than the counter they carry.
        counters = await consent_repository.versions(session, keys)
        found: dict[str, SubjectFacts] = {}
        stale: list[tuple[str, int]] = []
        for key in keys:
            version = counters.get(key, 0)
            held = self._facts.get(key)
            if held is not None and held.version == version:
                self._facts.move_to_end(key)
                found[key] = held
            else:
                stale.append((key, version))
        if stale:
            stale_keys = [key for key, _ in stale]
            rows = await consent_repository.by_subject_keys(session, stale_keys)
            grants = await breakglass_repository.unexpired(
                session, stale_keys, at or datetime.now(UTC)
            )
            rows_by: dict[str, list[ConsentRow]] = {}
            for row in rows:
                rows_by.setdefault(row.subject_key, []).append(row)
            grants_by: dict[str, list[BreakGlassGrantRow]] = {}
            for grant in grants:
                grants_by.setdefault(grant.subject_key, []).append(grant)
            for key, version in stale:
                facts = subject_facts(key, version, rows_by.get(key, ()), grants_by.get(key, ()))
                self.remember(facts)
                found[key] = facts
            self.fact_loads += len(stale)
        return found

    def remember(self, facts: SubjectFacts) -> None:
        self._facts[facts.subject_key] = facts
        self._facts.move_to_end(facts.subject_key)
        while len(self._facts) > self._max_subjects:
            self._facts.popitem(last=False)

    def invalidate(self, subject_key: str) -> None:
        """Forget a subject's facts and decisions (call after committing a change)."""
        self._facts.pop(subject_key, None)
        self.decisions.invalidate_subject(subject_key)

    # ----------------------------------------------------------------------- decisions

    def decide(
        self,
        facts: SubjectFacts,
        *,
        recipient: AgencyRef,
        purpose: str,
        categories: frozenset[str] = ALL_CATEGORIES,
        party: Party | None = None,
        source: AgencyRef | None = None,
        subject: SubjectContext | None = None,
        at: datetime | None = None,
    ) -> Decision:
        """One decision about one subject, through the decision cache."""
        when = at or datetime.now(UTC)
        return self.decisions.decide(
            DecisionRequest(
                recipient,
                purpose,
                categories,
                subject_context(subject, facts.minor),
                party,
                facts.consents,
                source,
                facts.grant_for(recipient.code, purpose, when) if facts.grants else None,
                when,
                facts.subject_key,
                facts.version,
            )
        )

    def decide_referral(
        self,
        sharing: ReferralSharing,
        facts: SubjectFacts,
        kinds: Mapping[str, str],
        recipient: str,
        *,
        at: datetime | None = None,
    ) -> Decision:
        """May ``recipient`` get a copy of this referral, and which categories of it?"""
        referrer = sharing.referring_agency
        return self.decide(
            facts,
            recipient=AgencyRef(recipient, kinds.get(recipient, "")),
            purpose=REFERRAL_PURPOSE,
            party=sharing.relation(recipient),
            source=AgencyRef(referrer, kinds.get(referrer, "")),
            subject=sharing.subject,
            at=at,
        )

    def source_decision(self) -> Decision:
        """An agency reading back what it sent itself: every category, nothing new shared."""
        return self._permit_all(R.DATA_SOURCE)

    def notice_decision(self) -> Decision:
        """A consent notice to an agency that holds data about the subject (or collected it)."""
        return self._permit_all(R.CONSENT_NOTICE)

    def _permit_all(self, code: str) -> Decision:
        policy = self.policy
        return Decision(
            "permit",
            tuple(DATA_CATEGORIES),
            (),
            tuple(policy.reason(code, c, None, REFERRAL_PURPOSE) for c in DATA_CATEGORIES),
            policy.policy_id,
            policy.version,
        )

    def denial(self, code: str) -> Decision:
        policy = self.policy
        return Decision(
            "deny",
            (),
            tuple(DATA_CATEGORIES),
            (policy.reason(code, None, None, REFERRAL_PURPOSE),),
            policy.policy_id,
            policy.version,
        )

    async def decide_referrals(
        self, session: AsyncSession, rows: Sequence[ReferralRow], agency: str
    ) -> dict[str, Decision]:
        """What ``agency`` may read of each referral: all of its own, the policy's of others."""
        facts = await self.facts(session, (r.subject_key for r in rows))
        kinds = await consent_repository.agency_kinds(
            session, {agency, *(r.referring_agency for r in rows)}
        )
        decisions: dict[str, Decision] = {}
        for row in rows:
            if row.referring_agency == agency:
                decisions[row.id] = self.source_decision()
            else:
                sharing = ReferralSharing.from_row(row)
                decisions[row.id] = self.decide_referral(
                    sharing, facts[row.subject_key], kinds, agency
                )
        return decisions

    # ----------------------------------------------------------------------- re-checks

    async def recheck_events(
        self, session: AsyncSession, recipient: str, envelopes: Sequence[Mapping[str, Any]]
    ) -> list[Recheck]:
        """Decide again, now, on copies the router made for ``recipient`` earlier."""
        referral_ids = {
            _referral_id(env) for env in envelopes if _is_type(env, REFERRAL_TYPE_PREFIX)
        }
        rows = {
            row.id: row
            for row in await consent_repository.referral_rows(session, referral_ids - {""})
        }
        facts = await self.facts(session, {row.subject_key for row in rows.values()})
        kinds = await consent_repository.agency_kinds(
            session, {recipient, *(row.referring_agency for row in rows.values())}
        )
        tag = self.tag
        results: list[Recheck] = []
        for envelope in envelopes:
            object_id = str(envelope.get("subject") or envelope.get("id") or "")[:64]
            if _is_type(envelope, REFERRAL_TYPE_PREFIX):
                row = rows.get(_referral_id(envelope))
                if row is None:
                    results.append(Recheck(False, tag, (R.UNKNOWN_REFERRAL,), None, object_id))
                    continue
                sharing = ReferralSharing.from_row(row)
                decision = self.decide_referral(sharing, facts[row.subject_key], kinds, recipient)
                codes = reason_codes(decision)
                if not decision.permitted:
                    results.append(Recheck(False, tag, codes, None, object_id))
                    continue
                copy = redact_copy(envelope, decision, sharing.relation(recipient), tag)
                results.append(Recheck(True, tag, codes, copy, object_id))
            elif (
                _is_type(envelope, CONSENT_TYPE_PREFIX)
                or _is_type(envelope, BREAK_GLASS_TYPE_PREFIX)
                or envelope.get("type") == DUPLICATE_SUSPECTED_TYPE
            ):
                # Notices: the router sent them to the agencies that must act on them.
                results.append(Recheck(True, tag, (R.CONSENT_NOTICE,), dict(envelope), object_id))
            else:
                results.append(Recheck(False, tag, ("unknown_event_type",), None, object_id))
        return results

    async def recheck_delivery(
        self, session: AsyncSession, *, recipient: str, envelope: Mapping[str, Any]
    ) -> Recheck:
        """The webhook part's ``DeliveryPolicy``: may this copy go to ``recipient`` now?"""
        return (await self.recheck_events(session, recipient, [envelope]))[0]


DUPLICATE_SUSPECTED_TYPE = "gn.mno.subject.duplicate_suspected.v1"


def _is_type(envelope: Mapping[str, Any], prefix: str) -> bool:
    return str(envelope.get("type", "")).startswith(prefix)


def _referral_id(envelope: Mapping[str, Any]) -> str:
    data = envelope.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("id"), str):
        return str(data["id"])
    return str(envelope.get("subject") or "")


def decision_audit(
    decision: Decision,
    *,
    tag: str,
    action: str,
    object_type: str,
    object_id: str | None,
    agency: str | None,
    client_id: str | None = None,
) -> AuditRecord:
    """The audit entry of one decision: permit or deny, the reason codes, the policy version."""
    return AuditRecord(
        action=action[:64],
        object_type=object_type,
        object_id=object_id[:64] if object_id else None,
        decision=decision.decision,
        client_id=client_id,
        agency=agency,
        detail=",".join(reason_codes(decision))[:128] or None,
        policy_version=tag[:64],
    )


@asynccontextmanager
async def refusals_audited(session: AsyncSession) -> AsyncIterator[None]:
    """Keep the audit entry of a refusal: the services append it, then raise before any change
    (an endpoint otherwise rolls back on error, and the refusal would leave no trace)."""
    try:
        yield
    except MnoError:
        await session.commit()
        raise


# --------------------------------------------------------------------------- wiring


async def start_policy(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Start hook: load the MoU (the app refuses to start on an invalid file)."""
    point = PolicyDecisionPoint.from_file(runtime.settings.policy_file)
    runtime.components[COMPONENT] = point
    # The webhook part re-checks retries and replays through this (gateway/subscriptions).
    runtime.components["delivery_policy"] = point.recheck_delivery


def policy_point(runtime: Runtime) -> PolicyDecisionPoint:
    point = runtime.components.get(COMPONENT)
    if not isinstance(point, PolicyDecisionPoint):
        raise ServiceUnavailable(
            "La politique de partage n'est pas chargée.",
            "The data-sharing policy is not loaded.",
            code="policy_unavailable",
        )
    return point


def get_policy(runtime: RuntimeDep) -> PolicyDecisionPoint:
    return policy_point(runtime)


PolicyDep = Annotated[PolicyDecisionPoint, Depends(get_policy)]


@functools.cache
def _compiled_for(path: str) -> CompiledPolicy:
    return load_policy(Path(path)).compiled


def default_decision_point(settings: Settings | None = None) -> PolicyDecisionPoint:
    """A decision point for processes without an app (router, notifier).

    The compiled MoU is shared per file; the caches are not, so that two decision points never
    share facts read from two different databases.
    """
    return PolicyDecisionPoint(_compiled_for(str((settings or Settings()).policy_file)))


async def recheck_delivery(
    session: AsyncSession, *, recipient: str, envelope: Mapping[str, Any]
) -> Recheck:
    """``DeliveryPolicy`` for processes without the app's runtime (the notifier)."""
    point = default_decision_point()
    return await point.recheck_delivery(session, recipient=recipient, envelope=envelope)
