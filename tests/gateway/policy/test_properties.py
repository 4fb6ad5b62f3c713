"""Property tests of the decision point over random policies, consents and requests.

The compiled engine is checked against a naive oracle written directly from the policy file
model, and against the invariants the MoU demands whatever the policy says.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from gateway.policy.cache import CachedDecisionPoint
from gateway.policy.engine import (
    AgencyRef,
    BreakGlassGrant,
    CompiledPolicy,
    ConsentFact,
    Decision,
    DecisionRequest,
    SubjectContext,
    decide,
)
from gateway.policy.models import (
    AGENCY_KINDS,
    DATA_CATEGORIES,
    PURPOSES,
    Flow,
    PolicyFile,
)

ROLES = ["r_a", "r_b", "r_c"]
CODES = ["AG-A", "AG-B", "AG-C", "AG-D"]
KINDS = list(AGENCY_KINDS)
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


mostly_true = st.sampled_from([True, True, True, False])
mostly_false = st.sampled_from([False, False, False, True])


def subset(items: list[str], *, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    # A bit mask is far cheaper to draw than a unique list, and shrinks as well.
    masks = st.integers(1 if min_size else 0, 2 ** len(items) - 1)
    return masks.map(lambda mask: [item for i, item in enumerate(items) if mask >> i & 1])


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def member_rules(draw: st.DrawFn) -> dict[str, Any]:
    kinds = draw(subset(KINDS))
    agencies = draw(subset(CODES, min_size=0 if kinds else 1))
    return {"kinds": kinds, "agencies": agencies, "roles": draw(subset(ROLES, min_size=1))}


@st.composite
def flows(draw: st.DrawFn, index: int) -> dict[str, Any]:
    return {
        "id": f"f{index}",
        "purpose": draw(st.sampled_from(PURPOSES)),
        "from_roles": draw(optional(subset(ROLES, min_size=1))),
        "to_roles": draw(subset(ROLES, min_size=1)),
        "categories": draw(subset(list(DATA_CATEGORIES), min_size=1)),
        "consent": draw(st.sampled_from(["required", "explicit", "not_required_for_statistical"])),
        "parties": draw(optional(subset(["referrer", "receiver"], min_size=1))),
    }


@st.composite
def deny_rules(draw: st.DrawFn, index: int) -> dict[str, Any]:
    return {
        "id": f"d{index}",
        "purposes": draw(optional(subset(list(PURPOSES), min_size=1))),
        "categories": draw(st.sampled_from(DATA_CATEGORIES).map(lambda c: [c]) | st.none()),
        "to_roles": draw(optional(subset(ROLES, min_size=1))),
        "to_kinds": draw(optional(subset(KINDS, min_size=1))),
        "to_agencies": draw(optional(subset(CODES, min_size=1))),
        "subject": draw(st.sampled_from(["any", "minor", "adult"])),
        "reason_fr": "Interdit.",
        "reason_en": "Forbidden.",
    }


@st.composite
def policies(draw: st.DrawFn) -> PolicyFile:
    flow_count = draw(st.integers(1, 6))
    deny_count = draw(st.sampled_from([0, 0, 1, 2]))
    glass = draw(
        optional(
            st.fixed_dictionaries(
                {
                    "enabled": mostly_true,
                    "roles": subset(ROLES, min_size=1),
                    "purposes": subset(list(PURPOSES), min_size=1),
                    "categories": subset(list(DATA_CATEGORIES), min_size=1),
                    "max_duration_hours": st.integers(1, 72),
                    "notify": st.just(["data_protection_focal_point"]),
                    "conditions_fr": st.just("Urgence vitale."),
                    "conditions_en": st.just("Life-threatening emergency."),
                }
            )
        )
    )
    document = {
        "policy_id": "aleatoire",
        "version": "1.0.0",
        "effective_from": "2026-01-01",
        "title_fr": "Politique aléatoire",
        "roles": {r: {"label_fr": r, "label_en": r} for r in ROLES},
        "members": draw(st.lists(member_rules(), min_size=1, max_size=4)),
        "explicit_consent_categories": draw(subset(list(DATA_CATEGORIES))),
        "parties_only_purposes": draw(subset(list(PURPOSES))),
        "flows": [draw(flows(i)) for i in range(flow_count)],
        "deny": [draw(deny_rules(i)) for i in range(deny_count)],
        "minors": {
            "age_of_majority": draw(st.sampled_from([16, 18])),
            "guardian_consent_required": draw(st.booleans()),
            "child_assent_from_age": draw(optional(st.integers(0, 18))),
            "unknown_age": draw(st.sampled_from(["treat_as_minor", "treat_as_adult"])),
        },
        "break_glass": glass,
    }
    return PolicyFile.model_validate(document)


def biased(
    wanted: list[str], pool: list[str], aligned: bool = True
) -> st.SearchStrategy[frozenset[str]]:
    """A superset of ``wanted`` when ``aligned`` (so that consents match), else anything."""
    if aligned:
        return subset(pool).map(lambda extra: frozenset([*wanted, *extra]))
    return subset(pool).map(frozenset)


@st.composite
def consents(
    draw: st.DrawFn, index: int, purpose: str, recipient: AgencyRef, categories: list[str]
) -> ConsentFact:
    # Mostly in force at T0; the edges (future, expired) still come up.
    start = T0 + draw(st.integers(-200, 24).map(lambda h: timedelta(hours=h)))
    length = draw(optional(st.integers(1, 400).map(lambda h: timedelta(hours=h))))
    target = draw(st.sampled_from([recipient.code, recipient.kind]))
    aligned = draw(mostly_true)
    return ConsentFact(
        consent_id=f"k{index}",
        purposes=draw(biased([purpose], list(PURPOSES), aligned)),
        data_categories=draw(biased(categories, list(DATA_CATEGORIES), aligned)),
        recipients=draw(biased([target], CODES + KINDS, aligned)),
        valid_from=start,
        valid_until=start + length if length is not None else None,
        guardian_consent=draw(mostly_true),
        child_assent=draw(mostly_true),
        withdrawn=draw(mostly_false),
    )


agencies = st.builds(
    AgencyRef, st.sampled_from([*CODES, "AG-X"]), st.sampled_from([*KINDS, "other"])
)


def holders(policy: PolicyFile, roles: list[str]) -> list[AgencyRef]:
    """Agencies (code, kind) that the policy gives one of ``roles``."""
    found = []
    for member in policy.members:
        if set(member.roles) & set(roles):
            found += [AgencyRef(code, "other") for code in member.agencies]
            found += [AgencyRef("AG-X", kind) for kind in member.kinds]
    return found


@st.composite
def requests(draw: st.DrawFn, policy: PolicyFile) -> DecisionRequest:
    """Mostly requests that some flow of ``policy`` could permit; sometimes anything."""
    reachable = [f for f in policy.flows if holders(policy, f.to_roles)]
    glass = policy.break_glass
    emergency = glass is not None and bool(holders(policy, glass.roles)) and draw(mostly_false)
    if emergency and glass is not None:
        recipient = draw(st.sampled_from(holders(policy, glass.roles)))
        purpose = draw(st.sampled_from(glass.purposes))
        categories = frozenset(draw(st.sampled_from(glass.categories).map(lambda c: [c])))
        party = draw(st.sampled_from([None, "referrer", "receiver"]))
        source = draw(optional(agencies))
    elif reachable and draw(mostly_true):
        flow = draw(st.sampled_from(reachable))
        recipient = draw(st.sampled_from(holders(policy, flow.to_roles)))
        purpose = flow.purpose
        categories = draw(
            st.sampled_from(flow.categories).map(lambda c: frozenset([c]))
            | biased(list(flow.categories[:1]), list(DATA_CATEGORIES), draw(st.booleans()))
        )
        party = draw(st.sampled_from(flow.parties or ["receiver", "referrer", None]))
        sources = holders(policy, flow.from_roles or ROLES) or [draw(agencies)]
        source = draw(st.sampled_from(sources))
    else:
        recipient = draw(agencies)
        purpose = draw(st.sampled_from(PURPOSES))
        categories = frozenset(draw(subset(list(DATA_CATEGORIES), min_size=1)))
        party = draw(st.sampled_from([None, "referrer", "receiver"]))
        source = draw(optional(agencies))
    grant = None
    if emergency or draw(mostly_false):
        begin = T0 + draw(st.integers(-30, 5).map(lambda h: timedelta(hours=h)))
        grant = BreakGlassGrant(
            grant_id="bg-1",
            recipient=draw(st.sampled_from([recipient.code, recipient.code, "AG-A"])),
            purpose=draw(st.sampled_from([purpose, purpose, "research"])),
            valid_from=begin,
            valid_until=begin + timedelta(hours=draw(st.integers(1, 96))),
        )
    wanted = sorted(categories)
    count = draw(st.sampled_from([0, 1, 1, 2, 3]))
    return DecisionRequest(
        recipient=recipient,
        purpose=purpose,
        data_categories=categories,
        subject=SubjectContext(
            is_minor=draw(optional(st.booleans())), age=draw(optional(st.integers(0, 30)))
        ),
        party=party,  # type: ignore[arg-type]
        consents=tuple(draw(consents(i, purpose, recipient, wanted)) for i in range(count)),
        source=source,
        break_glass=grant,
        at=T0,
        subject_key="subj",
        consent_version=0,
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[PolicyFile, DecisionRequest]:
    policy = draw(policies())
    return policy, draw(requests(policy))


# ----------------------------------------------------------------------------- naive oracle


def roles_of(policy: PolicyFile, agency: AgencyRef | None) -> set[str]:
    if agency is None:
        return set()
    return {
        role
        for member in policy.members
        if agency.kind in member.kinds or agency.code in member.agencies
        for role in member.roles
    }


def is_minor(policy: PolicyFile, subject: SubjectContext) -> bool:
    if subject.age is not None:
        return subject.age < policy.minors.age_of_majority
    if subject.is_minor is not None:
        return subject.is_minor
    return policy.minors.unknown_age == "treat_as_minor"


def active(policy: PolicyFile, consent: ConsentFact, req: DecisionRequest) -> bool:
    assert req.at is not None
    if consent.withdrawn or consent.valid_from > req.at:
        return False
    if consent.valid_until is not None and req.at >= consent.valid_until:
        return False
    if req.purpose not in consent.purposes:
        return False
    if not ({req.recipient.code, req.recipient.kind} & consent.recipients):
        return False
    if is_minor(policy, req.subject):
        minors = policy.minors
        if minors.guardian_consent_required and not consent.guardian_consent:
            return False
        threshold = minors.child_assent_from_age
        needs_assent = threshold is not None and (
            req.subject.age is None or req.subject.age >= threshold
        )
        if needs_assent and not consent.child_assent:
            return False
    return True


def condition(policy: PolicyFile, flow: Flow, category: str) -> str:
    if flow.consent == "explicit" or category in policy.explicit_consent_categories:
        return "explicit"
    if flow.consent == "not_required_for_statistical" and category == "statistical":
        return "none"
    return "required"


def applicable_flows(policy: PolicyFile, req: DecisionRequest, category: str) -> list[Flow]:
    roles = roles_of(policy, req.recipient)
    sources = roles_of(policy, req.source)
    if req.purpose in policy.parties_only_purposes and req.party is None:
        return []
    return [
        f
        for f in policy.flows
        if f.purpose == req.purpose
        and category in f.categories
        and roles & set(f.to_roles)
        and (f.from_roles is None or (req.source is not None and sources & set(f.from_roles)))
        and (f.parties is None or req.party in f.parties)
    ]


def consented(policy: PolicyFile, req: DecisionRequest, category: str, explicit: bool) -> bool:
    return any(
        active(policy, k, req)
        and category in k.data_categories
        and (not explicit or req.recipient.code in k.recipients)
        for k in req.consents
    )


def denied_by_rule(policy: PolicyFile, req: DecisionRequest, category: str) -> bool:
    roles = roles_of(policy, req.recipient)
    minor = is_minor(policy, req.subject)
    for rule in policy.deny:
        if rule.purposes is not None and req.purpose not in rule.purposes:
            continue
        if rule.categories is not None and category not in rule.categories:
            continue
        if rule.to_agencies is not None and req.recipient.code not in rule.to_agencies:
            continue
        if rule.to_kinds is not None and req.recipient.kind not in rule.to_kinds:
            continue
        if rule.to_roles is not None and not roles & set(rule.to_roles):
            continue
        if (rule.subject == "minor" and not minor) or (rule.subject == "adult" and minor):
            continue
        return True
    return False


def break_glass_allows(policy: PolicyFile, req: DecisionRequest, category: str) -> bool:
    glass, grant = policy.break_glass, req.break_glass
    if glass is None or not glass.enabled or grant is None or req.at is None:
        return False
    return (
        grant.recipient == req.recipient.code
        and grant.purpose == req.purpose
        and req.purpose in glass.purposes
        and bool(roles_of(policy, req.recipient) & set(glass.roles))
        and category in glass.categories
        and grant.valid_from <= req.at < grant.valid_until
        and grant.valid_until - grant.valid_from <= timedelta(hours=glass.max_duration_hours)
    )


def oracle(policy: PolicyFile, req: DecisionRequest) -> set[str]:
    permitted = set()
    for category in req.data_categories:
        if denied_by_rule(policy, req, category):
            continue
        by_flow = any(
            condition(policy, f, category) == "none"
            or consented(policy, req, category, condition(policy, f, category) == "explicit")
            for f in applicable_flows(policy, req, category)
        )
        if by_flow or break_glass_allows(policy, req, category):
            permitted.add(category)
    return permitted


# ----------------------------------------------------------------------------- properties

SETTINGS = settings(max_examples=200, deadline=None)


def _reason_codes(decision: Decision) -> dict[str | None, str]:
    return {r.category: r.code for r in decision.reasons}


@SETTINGS
@given(scenario=scenarios())
def test_engine_matches_the_naive_oracle(scenario: tuple[PolicyFile, DecisionRequest]) -> None:
    policy, req = scenario
    decision = decide(CompiledPolicy(policy), req)
    event("permit" if decision.permitted else "deny")

    assert set(decision.permitted_categories) == oracle(policy, req)
    assert set(decision.permitted_categories) | set(decision.denied_categories) == set(
        req.data_categories
    )
    assert decision.permitted == bool(decision.permitted_categories)


@SETTINGS
@given(scenario=scenarios())
def test_permitted_is_within_requested_flow_and_consent_and_deny_wins(
    scenario: tuple[PolicyFile, DecisionRequest],
) -> None:
    policy, req = scenario
    decision = decide(CompiledPolicy(policy), req)
    codes = _reason_codes(decision)

    assert set(decision.permitted_categories) <= req.data_categories
    assert set(decision.consent_ids) <= {k.consent_id for k in req.consents}
    for category in decision.permitted_categories:
        flows_ = applicable_flows(policy, req, category)
        if codes[category] == "break_glass":
            assert break_glass_allows(policy, req, category)
        elif codes[category] == "permitted_without_consent":
            assert any(condition(policy, f, category) == "none" for f in flows_)
        else:
            assert codes[category] == "permitted"
            assert flows_
            # Consent required: an active consent covers purpose, category and recipient.
            assert consented(policy, req, category, explicit=False)
    for category in req.data_categories:
        if denied_by_rule(policy, req, category):
            assert category not in decision.permitted_categories
            assert codes[category] == "denied_by_rule"


@SETTINGS
@given(scenario=scenarios(), victim=st.integers(0, 3))
def test_no_permit_without_active_consent_and_withdrawal_never_widens(
    scenario: tuple[PolicyFile, DecisionRequest], victim: int
) -> None:
    policy, req = scenario
    compiled = CompiledPolicy(policy)
    before = decide(compiled, req)

    withdrawn = tuple(replace(k, withdrawn=True) for k in req.consents)
    for variant in (req._replace(consents=()), req._replace(consents=withdrawn)):
        decision = decide(compiled, variant)
        for category in decision.permitted_categories:
            exempt = any(
                condition(policy, f, category) == "none"
                for f in applicable_flows(policy, variant, category)
            )
            assert exempt or break_glass_allows(policy, variant, category)
        assert decision.consent_ids == ()
        assert set(decision.permitted_categories) <= set(before.permitted_categories)

    if req.consents:
        one_less = list(req.consents)
        index = victim % len(one_less)
        one_less[index] = replace(one_less[index], withdrawn=True)
        after = decide(compiled, req._replace(consents=tuple(one_less)))
        assert set(after.permitted_categories) <= set(before.permitted_categories)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), policy=policies())
def test_cache_answers_like_the_engine(data: st.DataObject, policy: PolicyFile) -> None:
    compiled = CompiledPolicy(policy)
    pdp = CachedDecisionPoint(compiled)
    first = data.draw(requests(policy))
    current: tuple[ConsentFact, ...] | None = None
    for _ in range(data.draw(st.integers(1, 8))):
        # Re-asking the first question at another time exercises hits and validity windows.
        req = first if data.draw(st.booleans()) else data.draw(requests(policy))
        asked = req._replace(at=T0 + timedelta(hours=data.draw(st.integers(-300, 300))))
        # Same subject key and consent_version throughout: the contract is that the registry
        # invalidates the subject whenever its consents change.
        if asked.consents != current:
            pdp.invalidate_subject("subj")
            current = asked.consents
        assert pdp.decide(asked) == decide(compiled, asked)
    assert pdp.hits + pdp.misses > 0
