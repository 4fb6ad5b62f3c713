"""The policy decision point (PDP): a pure function from (compiled MoU, request) to a decision.

Every sharing path (REST reads, router fan-out, webhooks, exports, replays) asks :func:`decide`.
The MoU is compiled once into lookup tables so that one decision costs a few microseconds:
per (recipient, purpose) a plan lists, for each category, the flows that could permit it and the
prohibitions that deny it. Default deny; a prohibition overrides any flow and break-glass; a
withdrawn, expired or not-yet-valid consent never permits.

The request carries plain frozen dataclasses (not pydantic models) because it is built on the
hot path; inputs are expected to be validated by ``schemas`` at the boundary. All datetimes
must be timezone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

from gateway.policy import reasons as R
from gateway.policy.models import DATA_CATEGORIES, PURPOSES, PolicyFile
from gateway.policy.reasons import Reason, build_reason

Party = Literal["referrer", "receiver"]

_NONE, _REQUIRED, _EXPLICIT = 0, 1, 2
_MEMO_LIMIT = 50_000  # recipients come from the directory; the cap only guards against abuse


@dataclass(frozen=True, slots=True)
class AgencyRef:
    """An agency as the policy sees it: its code and its kind."""

    code: str
    kind: str


@dataclass(frozen=True, slots=True)
class SubjectContext:
    """What the policy needs to know about the person: only whether they are a minor, and age."""

    is_minor: bool | None = None
    age: int | None = None


UNKNOWN_SUBJECT = SubjectContext()


@dataclass(frozen=True, slots=True)
class ConsentFact:
    """One consent as recorded by the registry, reduced to what a decision needs.

    ``recipients`` holds agency codes (upper case) and/or agency kinds (lower case).
    ``valid_until`` is exclusive; ``None`` means no end date.
    """

    consent_id: str
    purposes: frozenset[str]
    data_categories: frozenset[str]
    recipients: frozenset[str]
    valid_from: datetime
    valid_until: datetime | None = None
    guardian_consent: bool = False
    child_assent: bool = False
    withdrawn: bool = False


@dataclass(frozen=True, slots=True)
class BreakGlassGrant:
    """An emergency access granted to one agency for one purpose, for a limited time."""

    grant_id: str
    recipient: str
    purpose: str
    valid_from: datetime
    valid_until: datetime


class DecisionRequest(NamedTuple):
    """May ``recipient`` receive these ``data_categories`` about a subject, for ``purpose``?

    ``source`` is the agency the data comes from (the referrer, the event's producer); flows
    restricted by ``from_roles`` match only when it is known. ``party`` is the recipient's
    relation to the referral (``None``: not a party). ``subject_key`` and ``consent_version``
    are used only by the decision cache. ``at`` defaults to now.

    A named tuple rather than a frozen dataclass: it is built for every decision, and a frozen
    dataclass costs three times as much to construct.
    """

    recipient: AgencyRef
    purpose: str
    data_categories: frozenset[str]
    subject: SubjectContext = UNKNOWN_SUBJECT
    party: Party | None = None
    consents: tuple[ConsentFact, ...] = ()
    source: AgencyRef | None = None
    break_glass: BreakGlassGrant | None = None
    at: datetime | None = None
    subject_key: str | None = None
    consent_version: int | str | None = None


class Decision(NamedTuple):
    """The answer: ``permit`` when at least one category is permitted (the rest is redacted).

    Immutable, so that the cache can hand the same decision to several callers.
    """

    decision: Literal["permit", "deny"]
    permitted_categories: tuple[str, ...]
    denied_categories: tuple[str, ...]
    reasons: tuple[Reason, ...]
    policy_id: str
    policy_version: str
    consent_ids: tuple[str, ...] = ()
    break_glass_grant_id: str | None = None

    @property
    def permitted(self) -> bool:
        return self.decision == "permit"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the consent check API and the audit log."""
        return {
            "decision": self.decision,
            "permitted_categories": list(self.permitted_categories),
            "denied_categories": list(self.denied_categories),
            "reasons": [reason.as_dict() for reason in self.reasons],
            "policy_id": self.policy_id,
            "policy_version": self.policy_version,
            "consent_ids": list(self.consent_ids),
            "break_glass_grant_id": self.break_glass_grant_id,
        }


@dataclass(frozen=True, slots=True)
class _FlowOption:
    flow_id: str
    level: int
    from_roles: frozenset[str] | None
    parties: frozenset[str] | None
    permit: Reason


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything about one (recipient, purpose) pair that does not depend on the subject.

    Reasons are prebuilt here so that the hot path only looks them up.
    """

    options: dict[str, tuple[_FlowOption, ...]]
    denied_minor: dict[str, Reason]
    denied_adult: dict[str, Reason]
    refused: dict[str, Reason]
    not_a_party: dict[str, Reason]
    glass: dict[str, Reason]
    parties_only: bool


@dataclass(frozen=True, slots=True)
class _DenyRule:
    rule_id: str
    purposes: frozenset[str] | None
    categories: frozenset[str]
    roles: frozenset[str] | None
    kinds: frozenset[str] | None
    agencies: frozenset[str] | None
    subject: str

    def targets(self, code: str, kind: str, roles: frozenset[str]) -> bool:
        # Selectors that are present must all match (AND); absent selectors match everyone.
        if self.agencies is not None and code not in self.agencies:
            return False
        if self.kinds is not None and kind not in self.kinds:
            return False
        return self.roles is None or not self.roles.isdisjoint(roles)


class CompiledPolicy:
    """A validated policy file turned into lookup tables. Immutable apart from memo tables."""

    known_categories = frozenset(DATA_CATEGORIES)

    def __init__(self, source: PolicyFile) -> None:
        self.source = source
        self.policy_id = source.policy_id
        self.version = source.version
        self.explicit_categories = frozenset(source.explicit_consent_categories)
        self.parties_only_purposes = frozenset(source.parties_only_purposes)
        minors = source.minors
        self.age_of_majority = minors.age_of_majority
        self.guardian_consent_required = minors.guardian_consent_required
        self.child_assent_from_age = minors.child_assent_from_age
        self.unknown_age_is_minor = minors.unknown_age == "treat_as_minor"
        self.recipient_retention: dict[str, int] = {
            category: days for category, days in source.retention.recipient_copies.items()
        }
        self.gateway_retention: dict[str, int] = dict(source.retention.gateway_records)
        self._deny_texts = {rule.id: (rule.reason_fr, rule.reason_en) for rule in source.deny}
        self._reason_memo: dict[tuple[str, str | None, str | None, str], Reason] = {}

        roles_by_kind: dict[str, set[str]] = {}
        roles_by_agency: dict[str, set[str]] = {}
        for member in source.members:
            for kind in member.kinds:
                roles_by_kind.setdefault(kind, set()).update(member.roles)
            for code in member.agencies:
                roles_by_agency.setdefault(code, set()).update(member.roles)
        self._roles_by_kind = {k: frozenset(v) for k, v in roles_by_kind.items()}
        self._roles_by_agency = {k: frozenset(v) for k, v in roles_by_agency.items()}

        # (purpose, role) -> category -> options; merged per recipient in plan().
        self._options: dict[tuple[str, str], dict[str, list[_FlowOption]]] = {}
        for flow in source.flows:
            for category in flow.categories:
                level = self._level(flow.consent, category)
                option = _FlowOption(
                    flow_id=flow.id,
                    level=level,
                    from_roles=frozenset(flow.from_roles) if flow.from_roles is not None else None,
                    parties=frozenset(flow.parties) if flow.parties is not None else None,
                    permit=self.reason(
                        R.PERMITTED_WITHOUT_CONSENT if level == _NONE else R.PERMITTED,
                        category,
                        flow.id,
                        flow.purpose,
                    ),
                )
                for role in flow.to_roles:
                    by_category = self._options.setdefault((flow.purpose, role), {})
                    by_category.setdefault(category, []).append(option)

        self._deny_rules = tuple(
            _DenyRule(
                rule_id=rule.id,
                purposes=frozenset(rule.purposes) if rule.purposes is not None else None,
                categories=frozenset(
                    rule.categories if rule.categories is not None else DATA_CATEGORIES
                ),
                roles=frozenset(rule.to_roles) if rule.to_roles is not None else None,
                kinds=frozenset(rule.to_kinds) if rule.to_kinds is not None else None,
                agencies=frozenset(rule.to_agencies) if rule.to_agencies is not None else None,
                subject=rule.subject,
            )
            for rule in source.deny
        )

        glass = source.break_glass
        self.break_glass_enabled = glass is not None and glass.enabled
        self.break_glass_roles = frozenset(glass.roles) if glass else frozenset()
        self.break_glass_purposes = frozenset(glass.purposes) if glass else frozenset()
        self.break_glass_categories = frozenset(glass.categories) if glass else frozenset()
        self.break_glass_max = timedelta(hours=glass.max_duration_hours if glass else 0)

        self._roles_memo: dict[tuple[str, str], frozenset[str]] = {}
        self._plan_memo: dict[tuple[str, str, str], _Plan] = {}
        self._order_memo: dict[frozenset[str], tuple[str, ...]] = {}

    def _level(self, condition: str, category: str) -> int:
        # A category the MoU lists as needing explicit consent keeps that need on every flow.
        if condition == "explicit" or category in self.explicit_categories:
            return _EXPLICIT
        if condition == "not_required_for_statistical" and category == "statistical":
            return _NONE
        return _REQUIRED

    def roles_of(self, code: str, kind: str) -> frozenset[str]:
        """The MoU roles of an agency: those of its kind plus those given to its code."""
        key = (code, kind)
        roles = self._roles_memo.get(key)
        if roles is None:
            roles = self._roles_by_kind.get(kind, frozenset()) | self._roles_by_agency.get(
                code, frozenset()
            )
            if len(self._roles_memo) >= _MEMO_LIMIT:
                self._roles_memo.clear()
            self._roles_memo[key] = roles
        return roles

    def plan(self, code: str, kind: str, purpose: str) -> _Plan:
        key = (code, kind, purpose)
        plan = self._plan_memo.get(key)
        if plan is None:
            plan = self._build_plan(code, kind, purpose)
            if len(self._plan_memo) >= _MEMO_LIMIT:
                self._plan_memo.clear()
            self._plan_memo[key] = plan
        return plan

    def _build_plan(self, code: str, kind: str, purpose: str) -> _Plan:
        roles = self.roles_of(code, kind)
        merged: dict[str, list[_FlowOption]] = {}
        for role in sorted(roles):
            for category, options in self._options.get((purpose, role), {}).items():
                bucket = merged.setdefault(category, [])
                bucket.extend(o for o in options if o not in bucket)
        # Least demanding option first: any option whose conditions hold is enough to permit.
        by_category = {
            c: tuple(sorted(opts, key=lambda o: (o.level, o.flow_id))) for c, opts in merged.items()
        }
        denied_minor: dict[str, Reason] = {}
        denied_adult: dict[str, Reason] = {}
        for rule in self._deny_rules:
            if rule.purposes is not None and purpose not in rule.purposes:
                continue
            if not rule.targets(code, kind, roles):
                continue
            for category in rule.categories:
                denial = self.reason(R.DENIED_BY_RULE, category, rule.rule_id, purpose)
                if rule.subject in ("any", "minor"):
                    denied_minor.setdefault(category, denial)
                if rule.subject in ("any", "adult"):
                    denied_adult.setdefault(category, denial)
        glass_allowed = (
            self.break_glass_enabled
            and purpose in self.break_glass_purposes
            and not roles.isdisjoint(self.break_glass_roles)
        )
        refusal = R.NO_FLOW if roles else R.RECIPIENT_NOT_MEMBER
        return _Plan(
            options=by_category,
            denied_minor=denied_minor,
            denied_adult=denied_adult,
            refused={c: self.reason(refusal, c, None, purpose) for c in DATA_CATEGORIES},
            not_a_party={c: self.reason(R.NOT_A_PARTY, c, None, purpose) for c in DATA_CATEGORIES},
            glass={
                c: self.reason(R.BREAK_GLASS, c, None, purpose) for c in self.break_glass_categories
            }
            if glass_allowed
            else {},
            parties_only=purpose in self.parties_only_purposes,
        )

    def ordered(self, requested: frozenset[str]) -> tuple[str, ...]:
        """Requested categories in canonical order, unknown ones last."""
        ordered = self._order_memo.get(requested)
        if ordered is None:
            known = [c for c in DATA_CATEGORIES if c in requested]
            ordered = tuple(known + sorted(requested.difference(DATA_CATEGORIES)))
            if len(self._order_memo) < _MEMO_LIMIT:
                self._order_memo[requested] = ordered
        return ordered

    def reason(self, code: str, category: str | None, rule: str | None, purpose: str) -> Reason:
        key = (code, category, rule, purpose)
        found = self._reason_memo.get(key)
        if found is None:
            found = build_reason(
                code, category, rule, purpose, rule_text=self._deny_texts.get(rule or "")
            )
            if len(self._reason_memo) < _MEMO_LIMIT:
                self._reason_memo[key] = found
        return found

    def is_minor(self, subject: SubjectContext) -> bool:
        if subject.age is not None:
            return subject.age < self.age_of_majority
        if subject.is_minor is not None:
            return subject.is_minor
        return self.unknown_age_is_minor

    def needs_child_assent(self, subject: SubjectContext) -> bool:
        """For a minor: assent from the set age; unknown age is treated as old enough."""
        threshold = self.child_assent_from_age
        if threshold is None:
            return False
        return subject.age is None or subject.age >= threshold

    def recipient_retention_days(self, category: str) -> int | None:
        """How long a recipient may keep its copy of data in ``category`` (days)."""
        return self.recipient_retention.get(category)


def decide(policy: CompiledPolicy, request: DecisionRequest) -> Decision:
    """Decide one request. Pure: same policy, request and ``at`` give the same decision."""
    return decide_at(policy, request, request.at or datetime.now(UTC))


def decide_at(policy: CompiledPolicy, request: DecisionRequest, at: datetime) -> Decision:
    """:func:`decide` with the clock given explicitly (``request.at`` is ignored)."""
    purpose = request.purpose
    categories = policy.ordered(request.data_categories)
    if not categories:
        return _deny(policy, (policy.reason(R.NO_CATEGORY_REQUESTED, None, None, purpose),), ())
    if purpose not in PURPOSES:
        return _deny(
            policy,
            tuple(policy.reason(R.UNKNOWN_PURPOSE, c, None, purpose) for c in categories),
            categories,
        )

    recipient = request.recipient
    code = recipient.code
    plan = policy.plan(code, recipient.kind, purpose)
    minor = policy.is_minor(request.subject)
    denied_by = plan.denied_minor if minor else plan.denied_adult
    party = request.party
    blocked_as_non_party = plan.parties_only and party is None
    source = request.source
    source_roles = policy.roles_of(source.code, source.kind) if source is not None else None

    grant = request.break_glass
    glass = (
        plan.glass
        if plan.glass
        and grant is not None
        and grant.recipient == code
        and grant.purpose == purpose
        and grant.valid_from <= at < grant.valid_until
        and grant.valid_until - grant.valid_from <= policy.break_glass_max
        else None
    )

    active: list[ConsentFact] | None = None
    permitted: list[str] = []
    denied: list[str] = []
    out: list[Reason] = []
    consent_ids: list[str] = []
    used_glass = False

    for category in categories:
        denial = denied_by.get(category)
        if denial is not None:
            denied.append(category)
            out.append(denial)
            continue
        verdict: Reason | None = None
        options = plan.options.get(category)
        if options is None:
            verdict = plan.refused.get(category) or policy.reason(
                R.UNKNOWN_CATEGORY, category, None, purpose
            )
        elif blocked_as_non_party:
            verdict = plan.not_a_party[category]
        else:
            blocked_by_party = False
            demanded = -1
            for option in options:
                if option.from_roles is not None and (
                    source_roles is None or source_roles.isdisjoint(option.from_roles)
                ):
                    continue
                if option.parties is not None and party not in option.parties:
                    blocked_by_party = True
                    continue
                if option.level == _NONE:
                    permitted.append(category)
                    out.append(option.permit)
                    break
                if active is None:
                    active = _active_consents(policy, request, at, minor)
                explicit = option.level == _EXPLICIT
                consent_id = None
                for consent in active:
                    if category in consent.data_categories and (
                        not explicit or code in consent.recipients
                    ):
                        consent_id = consent.consent_id
                        break
                if consent_id is not None:
                    permitted.append(category)
                    out.append(option.permit)
                    if consent_id not in consent_ids:
                        consent_ids.append(consent_id)
                    break
                demanded = max(demanded, option.level)
            else:
                if demanded >= 0:
                    problem = _diagnose(policy, request, at, minor, category, demanded)
                    verdict = policy.reason(problem, category, None, purpose)
                elif blocked_by_party:
                    verdict = plan.not_a_party[category]
                else:
                    verdict = plan.refused[category]
        if verdict is None:
            continue
        if glass is not None:
            emergency = glass.get(category)
            if emergency is not None:
                permitted.append(category)
                out.append(emergency)
                used_glass = True
                continue
        denied.append(category)
        out.append(verdict)

    if not permitted:
        return _deny(policy, tuple(out), tuple(denied))
    return Decision(
        "permit",
        tuple(permitted),
        tuple(denied),
        tuple(out),
        policy.policy_id,
        policy.version,
        tuple(consent_ids),
        grant.grant_id if used_glass and grant is not None else None,
    )


def _deny(policy: CompiledPolicy, out: tuple[Reason, ...], denied: tuple[str, ...]) -> Decision:
    return Decision("deny", (), denied, out, policy.policy_id, policy.version)


def _usable_for_subject(
    policy: CompiledPolicy, consent: ConsentFact, minor: bool, assent: bool
) -> str | None:
    """None when the consent is valid for this subject, else the reason code it fails on."""
    if minor:
        if policy.guardian_consent_required and not consent.guardian_consent:
            return R.GUARDIAN_CONSENT_MISSING
        if assent and not consent.child_assent:
            return R.CHILD_ASSENT_MISSING
    return None


def _active_consents(
    policy: CompiledPolicy, request: DecisionRequest, at: datetime, minor: bool
) -> list[ConsentFact]:
    """Consents in force now, for this purpose and recipient, valid for this subject."""
    purpose = request.purpose
    code = request.recipient.code
    kind = request.recipient.kind
    assent = minor and policy.needs_child_assent(request.subject)
    active = []
    for consent in request.consents:
        if consent.withdrawn or consent.valid_from > at:
            continue
        until = consent.valid_until
        if until is not None and at >= until:
            continue
        if purpose not in consent.purposes:
            continue
        recipients = consent.recipients
        if code not in recipients and kind not in recipients:
            continue
        if minor and _usable_for_subject(policy, consent, minor, assent) is not None:
            continue
        active.append(consent)
    return active


_DIAGNOSIS_ORDER = (
    R.CONSENT_WITHDRAWN,
    R.CONSENT_EXPIRED,
    R.CONSENT_NOT_YET_VALID,
    R.GUARDIAN_CONSENT_MISSING,
    R.CHILD_ASSENT_MISSING,
    R.EXPLICIT_CONSENT_REQUIRED,
)


def _diagnose(
    policy: CompiledPolicy,
    request: DecisionRequest,
    at: datetime,
    minor: bool,
    category: str,
    level: int,
) -> str:
    """The most telling reason no consent permitted ``category`` (slow path, denials only)."""
    purpose = request.purpose
    code = request.recipient.code
    kind = request.recipient.kind
    assent = minor and policy.needs_child_assent(request.subject)
    found: set[str] = set()
    for consent in request.consents:
        if purpose not in consent.purposes or category not in consent.data_categories:
            continue
        by_code = code in consent.recipients
        if not by_code and kind not in consent.recipients:
            continue
        if consent.withdrawn:
            found.add(R.CONSENT_WITHDRAWN)
        elif consent.valid_until is not None and at >= consent.valid_until:
            found.add(R.CONSENT_EXPIRED)
        elif consent.valid_from > at:
            found.add(R.CONSENT_NOT_YET_VALID)
        elif (problem := _usable_for_subject(policy, consent, minor, assent)) is not None:
            found.add(problem)
        elif level == _EXPLICIT and not by_code:
            found.add(R.EXPLICIT_CONSENT_REQUIRED)
    for code_ in _DIAGNOSIS_ORDER:
        if code_ in found:
            return code_
    return R.CONSENT_MISSING


def compile_policy(source: PolicyFile) -> CompiledPolicy:
    """Compile a validated policy file (see :func:`gateway.policy.loader.load_policy`)."""
    return CompiledPolicy(source)
