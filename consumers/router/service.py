"""Routing rules: who receives a copy of an event, and which fields that copy keeps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from schemas.categories import redact_referral
from schemas.codes import DataCategory

REFERRAL_TYPE_PREFIX = "gn.mno.referral."
CONSENT_TYPE_PREFIX = "gn.mno.consent."


class PoisonEvent(ValueError):
    """An event that can never be routed (bad shape, unknown type): dead-letter it."""


@dataclass(frozen=True)
class RouteRequest:
    """What the decision point is asked for one recipient of one event."""

    recipient: str
    relation: str  # "referrer" | "receiver" | "collector" | "none"
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


def parties_only(request: RouteRequest) -> RouteDecision:
    """The interim rule before the MoU engine: parties only, no protection-sensitive data."""
    if request.relation == "none":
        return RouteDecision(False, frozenset(), "interim-parties-only", ("not_a_party",))
    return RouteDecision(
        True,
        ALL_CATEGORIES - {DataCategory.PROTECTION_SENSITIVE.value},
        "interim-parties-only",
    )


@dataclass(frozen=True)
class Copy:
    recipient: str
    envelope: dict[str, Any]
    decision: RouteDecision


def _candidates(envelope: dict[str, Any]) -> list[tuple[str, str]]:
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
        return [(collector, "collector")]
    raise PoisonEvent(f"unknown event type: {event_type[:80]}")


def route(envelope: dict[str, Any], decide: Decide) -> tuple[list[Copy], list[RouteDecision]]:
    """The copies to write, and the denials to record. Raises PoisonEvent on a bad event."""
    copies: list[Copy] = []
    denials: list[RouteDecision] = []
    for recipient, relation in _candidates(envelope):
        decision = decide(RouteRequest(recipient, relation, "referral", envelope))
        if not decision.permit:
            denials.append(decision)
            continue
        data = dict(envelope["data"])
        if envelope["type"].startswith(REFERRAL_TYPE_PREFIX):
            data = redact_referral(data, set(decision.categories))
            if relation != "receiver":
                # The JWE is encrypted for the receiver only: nobody else gets a copy.
                data.pop("protected", None)
        copy = {**envelope, "data": data, "mnopolicyversion": decision.policy_version}
        copies.append(Copy(recipient, copy, decision))
    return copies, denials
