"""Routing rules: who receives a copy of an event, and which fields that copy keeps.

:func:`route` is pure: it asks a ``Decide`` function for each candidate recipient. In the router
that function is :func:`policy_decide`, the MoU policy decision point over the consent facts the
handler preloaded for the batch. Referral events go to their two parties, redacted to what the
policy permits each (nothing without a permit); consent events go to the agency that collected
the consent and, for a withdrawal, to every agency that holds data about the subject; a
break-glass event goes to the agency that used it (its data-protection focal point is told).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.policy.service import (
    BREAK_GLASS_TYPE_PREFIX,
    CONSENT_TYPE_PREFIX,
    REFERRAL_TYPE_PREFIX,
    PolicyDecisionPoint,
    ReferralSharing,
    SubjectFacts,
    reason_codes,
)
from schemas.categories import redact_referral
from schemas.codes import DataCategory

CONSENT_WITHDRAWN_TYPE = "gn.mno.consent.withdrawn.v1"
DUPLICATE_SUSPECTED_TYPE = "gn.mno.subject.duplicate_suspected.v1"
NOTICE_RELATIONS = frozenset({"collector", "data_holder", "grantee", "duplicate_party"})


class PoisonEvent(ValueError):
    """An event that can never be routed (bad shape, unknown type): dead-letter it."""


@dataclass(frozen=True)
class RouteRequest:
    """What the decision point is asked for one recipient of one event."""

    recipient: str
    relation: str  # "referrer" | "receiver" | "collector" | "data_holder" | "grantee"
    purpose: str
    event: dict[str, Any]


@dataclass(frozen=True)
class RouteDecision:
    permit: bool
    categories: frozenset[str]
    policy_version: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


Decide = Callable[[RouteRequest], RouteDecision]

ALL_CATEGORIES = frozenset(c.value for c in DataCategory)


def policy_decide(
    point: PolicyDecisionPoint,
    facts: Mapping[str, SubjectFacts],
    kinds: Mapping[str, str],
    *,
    at: datetime | None = None,
) -> Decide:
    """The MoU decision point as a ``Decide``, over facts preloaded for the batch.

    A subject missing from ``facts`` is decided with no consent at all (fail closed).
    """
    tag = point.tag

    def decide(request: RouteRequest) -> RouteDecision:
        if request.relation in NOTICE_RELATIONS:
            decision = point.notice_decision()
        else:
            sharing = ReferralSharing.from_event_data(request.event.get("data") or {})
            if sharing is None:
                raise PoisonEvent("referral event without subject pseudonym or parties")
            subject = facts.get(sharing.subject_key) or SubjectFacts(sharing.subject_key)
            decision = point.decide_referral(sharing, subject, kinds, request.recipient, at=at)
        return RouteDecision(
            decision.permitted,
            frozenset(decision.permitted_categories),
            tag,
            reason_codes(decision),
        )

    return decide


@dataclass(frozen=True)
class Copy:
    recipient: str
    envelope: dict[str, Any]
    decision: RouteDecision


@dataclass(frozen=True)
class Denial:
    recipient: str
    relation: str
    decision: RouteDecision


def _candidates(envelope: dict[str, Any], notify: Sequence[str]) -> list[tuple[str, str]]:
    event_type = str(envelope.get("type", ""))
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise PoisonEvent("data is not an object")
    if event_type.startswith(REFERRAL_TYPE_PREFIX):
        referrer, receiver = data.get("referring_agency"), data.get("receiving_agency")
        if not isinstance(referrer, str) or not isinstance(receiver, str):
            raise PoisonEvent("referral event without referring/receiving agency")
        return [(referrer, "referrer"), (receiver, "receiver")]
    if event_type.startswith(CONSENT_TYPE_PREFIX):
        collector = data.get("collecting_agency")
        if not isinstance(collector, str):
            raise PoisonEvent("consent event without collecting agency")
        found = [(collector, "collector")]
        if event_type == CONSENT_WITHDRAWN_TYPE:
            found += [(agency, "data_holder") for agency in notify if agency != collector]
        return found
    if event_type.startswith(BREAK_GLASS_TYPE_PREFIX):
        agency = data.get("agency")
        if not isinstance(agency, str):
            raise PoisonEvent("break-glass event without agency")
        return [(agency, "grantee")]
    if event_type == DUPLICATE_SUSPECTED_TYPE:
        # The agencies of both referrals, named by the linkage service in an extension.
        parties = str(envelope.get("mnoparties") or "").split()
        if not parties:
            raise PoisonEvent("duplicate-assistance event without parties")
        return [(agency, "duplicate_party") for agency in parties]
    raise PoisonEvent(f"unknown event type: {event_type[:80]}")


def route(
    envelope: dict[str, Any], decide: Decide, *, notify: Sequence[str] = ()
) -> tuple[list[Copy], list[Denial]]:
    """The copies to write, and the denials to record. Raises PoisonEvent on a bad event.

    ``notify``: for a consent withdrawal, the agencies that hold data about the subject.
    """
    copies: list[Copy] = []
    denials: list[Denial] = []
    for recipient, relation in dict.fromkeys(_candidates(envelope, notify)):
        decision = decide(RouteRequest(recipient, relation, "referral", envelope))
        if not decision.permit:
            denials.append(Denial(recipient, relation, decision))
            continue
        data = dict(envelope["data"])
        if envelope["type"].startswith(REFERRAL_TYPE_PREFIX):
            data = redact_referral(data, set(decision.categories))
            if relation != "receiver":
                # The JWE is encrypted for the receiver only: nobody else gets a copy.
                data.pop("protected", None)
        copy = {**envelope, "data": data, "mnopolicyversion": decision.policy_version}
        # Each party learns of the duplicate, not which other agencies were involved.
        copy.pop("mnoparties", None)
        copies.append(Copy(recipient, copy, decision))
    return copies, denials
