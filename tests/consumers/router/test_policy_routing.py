"""The router under the MoU policy: properties of the pure ``route``, then the real pipeline.

Property (random policies, consents, grants and referral events, real engine): no copy reaches
an inbox without a permit, a copy never holds a field of a category the policy denies that
recipient, and the JWE goes to the receiver only. Pipeline (real broker, both databases): a
withdrawal stops delivery, including copies already queued in an inbox; a subject without
consent for the receiver's categories reaches it redacted or not at all.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from consumers.router.service import Copy, policy_decide, route
from gateway.audit.models import AuditEntry
from gateway.policy.engine import AgencyRef, BreakGlassGrant, CompiledPolicy, DecisionRequest
from gateway.policy.models import DATA_CATEGORIES, PolicyFile
from gateway.policy.service import (
    ALL_CATEGORIES,
    PolicyDecisionPoint,
    ReferralSharing,
    SubjectFacts,
    subject_context,
)
from schemas.categories import REFERRAL_FIELD_CATEGORIES, SUBJECT_FIELD_CATEGORIES
from schemas.examples import referral, referral_create
from tests.consumers.conftest import Pipeline
from tests.gateway.consent.factories import (
    EXAMPLE_SUBJECT,
    new_subject,
    seed_consent,
)
from tests.gateway.policy.factories import guinea
from tests.gateway.policy.test_properties import (
    CODES,
    KINDS,
    T0,
    consents,
    mostly_false,
    oracle,
    policies,
    subset,
)

EVENT_TYPES = [
    "gn.mno.referral.submitted.v1",
    "gn.mno.referral.accepted.v1",
    "gn.mno.referral.closed.v1",
]
SNAPSHOT = referral().model_dump(mode="json")


@st.composite
def routed(
    draw: st.DrawFn, policy: PolicyFile
) -> tuple[dict[str, Any], SubjectFacts, dict[str, str]]:
    """A referral event between two agencies, the subject's facts, the agencies' kinds."""
    referrer, receiver = draw(st.permutations(CODES))[:2]
    kinds = {code: draw(st.sampled_from(KINDS)) for code in CODES}
    key = "subject-key"
    facts_consents = [
        draw(
            consents(
                i,
                "referral",
                AgencyRef(draw(st.sampled_from([receiver, referrer])), kinds[receiver]),
                draw(subset(list(DATA_CATEGORIES), min_size=1)),
            )
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    grants = []
    if draw(mostly_false):
        begin = T0 - timedelta(hours=draw(st.integers(0, 30)))
        grants.append(
            BreakGlassGrant("bg-1", receiver, "referral", begin, begin + timedelta(hours=24))
        )
    facts = SubjectFacts(
        key, 1, tuple(facts_consents), tuple(grants), draw(st.sampled_from([None, True, False]))
    )
    data = {
        **SNAPSHOT,
        "referring_agency": referrer,
        "receiving_agency": receiver,
        "subject": {**SNAPSHOT["subject"], "pseudonym": key, "is_minor": draw(st.booleans())},
    }
    envelope = {
        "id": str(uuid.uuid4()),
        "type": draw(st.sampled_from(EVENT_TYPES)),
        "source": "/test",
        "specversion": "1.0",
        "subject": data["id"],
        "data": data,
    }
    return envelope, facts, kinds


def leaked(copy: Copy, allowed: set[str]) -> list[str]:
    """Fields of the copy whose category the recipient may not receive."""
    found = []
    for name, value in copy.envelope["data"].items():
        if REFERRAL_FIELD_CATEGORIES[name].value not in allowed:
            found.append(name)
        if name == "subject":
            found += [
                f"subject.{k}" for k in value if SUBJECT_FIELD_CATEGORIES[k].value not in allowed
            ]
    return found


def expected(
    policy: PolicyFile,
    envelope: dict[str, Any],
    facts: SubjectFacts,
    kinds: dict[str, str],
    to: str,
) -> set[str]:
    """What the naive oracle of the engine tests permits this recipient."""
    sharing = ReferralSharing.from_event_data(envelope["data"])
    assert sharing is not None
    return oracle(
        policy,
        DecisionRequest(
            AgencyRef(to, kinds[to]),
            "referral",
            ALL_CATEGORIES,
            subject_context(sharing.subject, facts.minor),
            sharing.relation(to),
            facts.consents,
            AgencyRef(sharing.referring_agency, kinds[sharing.referring_agency]),
            facts.grant_for(to, "referral", T0),
            T0,
        ),
    )


def check_routing(
    policy: PolicyFile, envelope: dict[str, Any], facts: SubjectFacts, kinds: dict[str, str]
) -> None:
    point = PolicyDecisionPoint(CompiledPolicy(policy))
    copies, denials = route(
        envelope, policy_decide(point, {facts.subject_key: facts}, kinds, at=T0)
    )
    data = envelope["data"]
    parties = {data["referring_agency"], data["receiving_agency"]}

    assert {c.recipient for c in copies} | {d.recipient for d in denials} == parties
    for copy in copies:
        allowed = expected(policy, envelope, facts, kinds, copy.recipient)
        assert allowed, "a copy without a permit"
        assert copy.decision.categories == allowed
        assert leaked(copy, allowed) == []
        if "protected" in copy.envelope["data"]:
            assert copy.recipient == data["receiving_agency"]
        assert copy.envelope["mnopolicyversion"] == point.tag
    for denial in denials:
        assert expected(policy, envelope, facts, kinds, denial.recipient) == set()
        assert denial.decision.reasons


@settings(max_examples=150, deadline=None)
@given(data=st.data(), policy=policies())
def test_no_copy_without_permit_and_no_denied_category_leaks(
    data: st.DataObject, policy: PolicyFile
) -> None:
    envelope, facts, kinds = data.draw(routed(policy))
    check_routing(policy, envelope, facts, kinds)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_same_properties_under_the_guinea_mou(data: st.DataObject) -> None:
    policy = guinea().source
    named = ["GOUV-RETOUR", "OIM-DEMO", "SANTE-DEMO", "PSY-DEMO", "FORM-DEMO", "ONG-ESPOIR"]
    envelope, facts, kinds = data.draw(routed(policy))
    mapping = dict(zip(CODES, data.draw(st.permutations(named)), strict=False))
    renamed = {mapping[c]: k for c, k in kinds.items()}
    event = {
        **envelope,
        "data": {
            **envelope["data"],
            "referring_agency": mapping[envelope["data"]["referring_agency"]],
            "receiving_agency": mapping[envelope["data"]["receiving_agency"]],
        },
    }
    moved = SubjectFacts(
        facts.subject_key,
        facts.version,
        tuple(
            replace(c, recipients=frozenset(mapping.get(r, r) for r in c.recipients))
            for c in facts.consents
        ),
        tuple(replace(g, recipient=mapping[g.recipient]) for g in facts.grants),
        facts.minor,
    )
    check_routing(policy, event, moved, renamed)


def test_notices_go_to_the_collector_the_holders_and_the_grantee() -> None:
    point = PolicyDecisionPoint(guinea().compiled)
    decide = policy_decide(point, {}, {})
    withdrawn = {
        "id": "e",
        "type": "gn.mno.consent.withdrawn.v1",
        "data": {"id": "c-1", "collecting_agency": "ONG-ESPOIR"},
    }
    granted = {**withdrawn, "type": "gn.mno.consent.granted.v1"}
    glass = {"id": "g", "type": "gn.mno.breakglass.used.v1", "data": {"agency": "SANTE-DEMO"}}

    to_holders, _ = route(withdrawn, decide, notify=["SANTE-DEMO", "ONG-ESPOIR", "FORM-DEMO"])
    to_collector, _ = route(granted, decide, notify=["SANTE-DEMO"])
    to_grantee, _ = route(glass, decide)

    assert [c.recipient for c in to_holders] == ["ONG-ESPOIR", "SANTE-DEMO", "FORM-DEMO"]
    assert {c.decision.reasons for c in to_holders} == {("consent_notice",)}
    assert [c.recipient for c in to_collector] == ["ONG-ESPOIR"]
    assert [c.recipient for c in to_grantee] == ["SANTE-DEMO"]


# --------------------------------------------------------------------------- real pipeline


async def _events(pipeline: Pipeline, party: Any, until: Any, timeout: float = 30) -> list[Any]:
    """Read ``party``'s whole inbox until ``until(events)`` holds (or the timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    events: list[dict[str, Any]] = []
    while True:
        page = await pipeline.inbox(party, wait=0.5)
        events = [item["event"] for item in page["items"]]
        if until(events) or asyncio.get_running_loop().time() > deadline:
            return events


def _ids(events: list[dict[str, Any]], kind: str = "referral") -> list[str]:
    return [e["data"].get("id") for e in events if f".{kind}." in e["type"]]


@pytest.mark.kafka
async def test_withdrawal_mid_stream_stops_delivery_even_of_queued_events(
    pipeline: Pipeline,
) -> None:
    pipeline.start_relay()
    pipeline.start_router()
    before = await pipeline.submit(3)
    queued = await _events(pipeline, pipeline.receiver, lambda ev: len(_ids(ev)) >= 3)
    assert sorted(_ids(queued)) == sorted(before)
    assert all(e["data"]["protected"] for e in queued)

    listed = await pipeline.client.get(
        "/v1/consents", params={"subject": EXAMPLE_SUBJECT}, headers=pipeline.referrer.auth
    )
    [consent] = listed.json()["items"]
    withdrawn = await pipeline.client.post(
        f"/v1/consents/{consent['id']}/withdraw",
        json={"reason": "requested_by_person"},
        headers=pipeline.referrer.auth,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    after = await pipeline.submit(2)

    # The referring agency still follows every referral (coded data needs no consent)...
    to_referrer = await _events(pipeline, pipeline.referrer, lambda ev: len(_ids(ev)) >= 5)
    assert sorted(_ids(to_referrer)) == sorted(before + after)
    # ...the receiver now gets the withdrawal notice and no referral data at all: not the new
    # ones (denied by the router) and not the ones still queued in its inbox (denied at read).
    to_receiver = await _events(pipeline, pipeline.receiver, lambda ev: _ids(ev, "consent"))
    assert _ids(to_receiver) == []
    assert _ids(to_receiver, "consent") == [consent["id"]]
    pending = await pipeline.client.get(
        "/v1/consents/purge-receipts", headers=pipeline.receiver.auth
    )
    assert [r["agency"] for r in pending.json()["items"]] == [pipeline.receiver.agency]

    # The router audits a batch just after its Kafka transaction commits: wait for the rows.
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        async with pipeline.database.engine.connect() as conn:
            denials = (
                await conn.execute(
                    select(
                        AuditEntry.action, AuditEntry.object_id, AuditEntry.policy_version
                    ).where(
                        AuditEntry.decision == "deny",
                        AuditEntry.agency == pipeline.receiver.agency,
                    )
                )
            ).all()
        routed_denied = {d.object_id for d in denials if d.action.startswith("route.")}
        if routed_denied >= set(after) or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    read_denied = {d.object_id for d in denials if d.action == "inbox.deliver"}
    assert routed_denied == set(after)
    assert read_denied >= set(before)
    assert {d.policy_version for d in denials} == {"mou-guinee@0.1.0"}


@pytest.mark.kafka
async def test_subject_without_consent_for_the_receiver_reaches_it_redacted_or_not_at_all(
    pipeline: Pipeline,
) -> None:
    coded_only, nothing = new_subject(), new_subject()
    await seed_consent(
        pipeline.database,
        collecting_agency=pipeline.referrer.agency,
        recipients=[pipeline.receiver.agency],
        subject_pseudonym=coded_only,
        categories=["socio_economic", "statistical"],
    )
    pipeline.start_relay()
    pipeline.start_router()
    [redacted] = await pipeline.submit(subject=_subject(coded_only))
    [refused] = await pipeline.submit(subject=_subject(nothing))
    [full] = await pipeline.submit()

    await _events(pipeline, pipeline.referrer, lambda ev: len(_ids(ev)) >= 3)
    to_receiver = await _events(pipeline, pipeline.receiver, lambda ev: len(_ids(ev)) >= 2)

    by_id = {e["data"]["id"]: e["data"] for e in to_receiver}
    assert set(by_id) == {redacted, full}
    assert "protected" not in by_id[redacted]
    assert "tokens" not in by_id[redacted]["subject"]
    assert by_id[full]["protected"]
    assert "case_category" not in by_id[full]  # the MoU sends no protection data to providers
    async with pipeline.database.engine.connect() as conn:
        reasons = (
            (
                await conn.execute(
                    select(AuditEntry.detail).where(
                        AuditEntry.decision == "deny", AuditEntry.object_id == refused
                    )
                )
            )
            .scalars()
            .all()
        )
    assert any("consent_missing" in r for r in reasons)


def _subject(pseudonym: str) -> dict[str, Any]:
    """The example subject under another (synthetic) pseudonym, without extra tokens."""
    subject = referral_create().model_dump(mode="json", exclude_none=True)["subject"]
    return {**subject, "pseudonym": pseudonym, "tokens": []}
