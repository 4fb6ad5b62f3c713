from __future__ import annotations

import pytest

from consumers.router.service import (
    PoisonEvent,
    RouteDecision,
    RouteRequest,
    route,
)

EVENT = {
    "specversion": "1.0",
    "id": "evt-dup-1",
    "source": "/mno/gateway/linkage",
    "type": "gn.mno.subject.duplicate_suspected.v1",
    "mnoparties": "AGENCE-A AGENCE-B",
    "data": {"referral_id": "r-1", "score": 0.9},
}


def allow_notices(request: RouteRequest) -> RouteDecision:
    assert request.relation == "duplicate_party"
    return RouteDecision(True, frozenset({"statistical"}), "test")


def test_duplicate_suspected_reaches_both_agencies_without_naming_the_other() -> None:
    copies, denials = route(dict(EVENT), allow_notices)
    assert [c.recipient for c in copies] == ["AGENCE-A", "AGENCE-B"]
    assert denials == []
    assert all("mnoparties" not in c.envelope for c in copies)


def test_duplicate_suspected_without_parties_is_poison() -> None:
    with pytest.raises(PoisonEvent):
        route({**EVENT, "mnoparties": ""}, allow_notices)
