"""Small-cell suppression: what leaves the process never singles out fewer than 5 people."""

from __future__ import annotations

from typing import Any

from gateway.db.engine import make_sessionmaker
from gateway.meal import service
from gateway.meal.catalogue import Kind
from gateway.meal.logframe import Logframe
from gateway.meal.periods import parse_period
from gateway.meal.service import Measure, Suppression, count, percent
from tests.conftest import Database
from tests.gateway.meal.factories import AS_OF, OCTOBER


async def _published(database: Database, frame: Logframe, **kw: Any) -> dict[str, Any]:
    async with make_sessionmaker(database.engine)() as session:
        return await service.indicators(
            session, frame, parse_period(kw.pop("period", OCTOBER)), as_of=AS_OF, **kw
        )


def _item(published: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for i in published["indicators"] if i["code"] == code)


async def test_an_indicator_with_3_cases_shows_less_than_5(
    october: Database, frame: Logframe
) -> None:
    withdrawals = _item(await _published(october, frame), "consent_withdrawals")
    assert withdrawals["value"] == "<5"  # 3 withdrawals in October
    assert withdrawals["suppressed"] is True
    assert withdrawals["target_met"] is None


async def test_percentages_and_durations_on_few_cases_are_hidden(
    october: Database, frame: Logframe
) -> None:
    published = await _published(october, frame)
    done = _item(published, "completed_with_outcome")  # 4 of 5: numerator under 5
    assert (done["value"], done["numerator"], done["denominator"]) == (None, None, None)
    assert done["suppressed"] is True
    ack = _item(published, "acknowledged_within_sop")  # 5 of 8: 3 late would show
    assert ack["suppressed"] is True
    assert ack["value"] is None
    completion = _item(published, "time_to_completion_median")  # 4 completions
    assert (completion["value"], completion["n"]) == (None, "<5")
    acknowledgement = _item(published, "time_to_acknowledgement_median")  # 7 responses
    assert (acknowledgement["value"], acknowledgement["n"]) == (5.0, 7)


async def test_a_lone_small_cell_takes_a_neighbour_with_it(
    october: Database, frame: Logframe
) -> None:
    made = _item(await _published(october, frame, disaggregate=["sex"]), "referrals_made")
    assert made["value"] == 9
    cells = {c["code"]: c for c in made["disaggregations"]["sex"]}
    assert cells["male"]["value"] == "<5"  # 3
    # else 9 - 6 would give the 3 away
    assert cells["female"]["value"] is None
    assert cells["female"]["suppression"] == "secondary"


async def test_counts_of_agencies_and_services_are_not_suppressed(
    october: Database, frame: Logframe
) -> None:
    published = await _published(october, frame, region="GN-K")
    assert _item(published, "active_services")["value"] == 2  # PSY/mhpss, FORM/vocational
    assert _item(published, "referrals_made")["value"] == "<5"
    assert published["region"] == "GN-K"


async def test_zero_is_shown_as_zero(october: Database, frame: Logframe) -> None:
    published = await _published(october, frame, region="GN-B")
    made = _item(published, "referrals_made")
    assert (made["value"], made["suppressed"]) == (0, False)


def test_percentage_rule_looks_at_numerator_denominator_and_complement() -> None:
    rule = Suppression(5)
    assert not rule.sensitive(percent(0, 0))
    assert not rule.sensitive(percent(10, 10))
    assert not rule.sensitive(percent(5, 10))
    assert rule.sensitive(percent(3, 10))
    assert rule.sensitive(percent(7, 10))  # 3 in the complement
    assert rule.sensitive(percent(4, 4))
    assert rule.sensitive(count(1))
    assert not rule.sensitive(count(0))
    assert rule.sensitive(Measure(Kind.DURATION, 2.0, 4))


def test_published_cell_never_carries_the_exact_small_count() -> None:
    cell = service.publish_measure(count(3), Suppression(5), True)
    assert cell == {"value": "<5", "suppressed": True, "suppression": "primary"}
    pct = service.publish_measure(percent(3, 40), Suppression(5), True)
    assert 3 not in pct.values()
    assert 40 not in pct.values()
