"""Indicator values against hand-computed expectations on the October 2026 stream.

The stream (tests/gateway/meal/factories.py, ``october_stories``), as_of 2026-11-10 12:00 UTC.
Hours are after submission; SOP deadlines (ack/respond): immediate 2/24, high 24/72,
normal 72/168, low 168/336.

| id  | from→to    | urgency   | sex | region  | steps                                         |
|-----|------------|-----------|-----|---------|-----------------------------------------------|
| R1  | OIM→SANTE  | normal    | F   | GN-D    | ack 10, accept 20, complete 100 served_fully   |
| R2  | OIM→SANTE  | high      | M   | GN-C    | ack 30 (late), accept 50, complete 200 ns_cap. |
| R3  | OIM→PSY    | immediate | F   | GN-C    | accept 1                                      |
| R4  | GOUV→PSY   | normal    | F   | GN-K    | decline 5                                     |
| R5  | GOUV→FORM  | low       | M   | GN-K    | nothing (submitted 10-20: both deadlines past) |
| R6  | ONG→SANTE  | normal    | F   | unknown | cancel 10 (before any deadline)               |
| R7  | ONG→SANTE  | normal    | F   | GN-N    | ack 80 (late), no answer since                 |
| R8  | OIM→SANTE  | high      | M   | GN-C    | ack 2, accept 4, complete 30 ns_unreachable   |
| R9  | September: outside the cohort                                                     |
| R10 | OIM→SANTE  | normal    | F   | GN-C    | ack 1, accept 2, complete 3 served_partially  |

Cohort = 9 referrals. Acknowledged in time: R1 R3 R4 R8 R10 of due R1 R2 R3 R4 R5 R7 R8 R10
(R6 cancelled before its deadline) = 5/8. Accepted in time: R1 R2 R3 R8 R10 of R1 R2 R3 R5 R7
R8 R10 (R4 declined, R6 cancelled early) = 5/7. Completed of accepted: 4/5. First responses
[1,1,2,5,10,30,80] h → median 5, p90 50; acceptances [1,2,4,20,50] → median 4, p90 38;
completions [3,30,100,200] → median 65, p90 170. Overdue: R5, R7. Not served: R2, R8.
"""

from __future__ import annotations

import pytest

from gateway.db.engine import make_sessionmaker
from gateway.meal import service
from gateway.meal.logframe import Logframe
from gateway.meal.periods import parse_period
from tests.conftest import Database
from tests.gateway.meal.conftest import add_agencies, feed
from tests.gateway.meal.factories import (
    AS_OF,
    OCTOBER,
    at,
    heartbeat,
    october_stories,
    october_stream,
)


async def _report(
    database: Database,
    frame: Logframe,
    *,
    dims: tuple[str, ...] = ("all",),
    region: str | None = None,
) -> service.IndicatorReport:
    async with make_sessionmaker(database.engine)() as session:
        return await service.compute(
            session, frame, parse_period(OCTOBER), disaggregate=dims, region=region, as_of=AS_OF
        )


def _values(report: service.IndicatorReport, code: str, dim: str) -> dict[str, float | None]:
    return {c: m.value for c, m in report.get(code).breakdowns[dim]}


async def test_referrals_made_and_received_count_the_cohort_by_agency_sex_region_service(
    october: Database, frame: Logframe
) -> None:
    report = await _report(october, frame)
    assert report.get("referrals_made").total.value == 9
    assert _values(report, "referrals_made", "agency") == {"GOUV": 2, "OIM": 5, "ONG": 2}
    assert _values(report, "referrals_received", "agency") == {"FORM": 1, "PSY": 2, "SANTE": 6}
    assert _values(report, "referrals_made", "sex") == {"female": 6, "male": 3}
    assert _values(report, "referrals_made", "region") == {
        "GN-C": 4,
        "GN-D": 1,
        "GN-K": 2,
        "GN-N": 1,
        "unknown": 1,
    }
    # R1 asked for two services: the service breakdown counts it twice
    assert _values(report, "referrals_made", "service") == {
        "medical": 6,
        "mhpss": 3,
        "vocational_training": 1,
    }


async def test_sop_percentages_follow_the_deadlines_of_each_urgency(
    october: Database, frame: Logframe
) -> None:
    report = await _report(october, frame, dims=())
    ack = report.get("acknowledged_within_sop").total
    acc = report.get("accepted_within_sop").total
    done = report.get("completed_with_outcome").total
    assert (ack.numerator, ack.denominator) == (5, 8)
    assert ack.value == pytest.approx(62.5)
    assert (acc.numerator, acc.denominator) == (5, 7)
    assert acc.value == pytest.approx(500 / 7)
    assert (done.numerator, done.denominator, done.value) == (4, 5, 80.0)


async def test_median_and_p90_times_in_hours(october: Database, frame: Logframe) -> None:
    report = await _report(october, frame, dims=())
    expected = {
        "time_to_acknowledgement_median": (5.0, 7),
        "time_to_acknowledgement_p90": (50.0, 7),
        "time_to_acceptance_median": (4.0, 5),
        "time_to_acceptance_p90": (38.0, 5),
        "time_to_completion_median": (65.0, 4),
        "time_to_completion_p90": (170.0, 4),
    }
    for code, (hours, n) in expected.items():
        total = report.get(code).total
        assert total.value == pytest.approx(hours), code
        assert total.n == n, code


async def test_overdue_not_served_duplicates_and_withdrawals(
    october: Database, frame: Logframe
) -> None:
    report = await _report(october, frame)
    assert report.get("overdue_referrals").total.value == 2
    assert _values(report, "overdue_referrals", "agency") == {"FORM": 1, "SANTE": 1}
    assert report.get("not_served").total.value == 2
    assert _values(report, "not_served", "reason") == {
        "not_served_capacity": 1,
        "not_served_unreachable": 1,
    }
    # R1's suspicion came in November; R2 and R8 in October
    assert report.get("duplicate_assistance_suspected").total.value == 2
    assert _values(report, "duplicate_assistance_suspected", "match_method") == {
        "exact_token": 1,
        "fuzzy_bloom": 1,
    }
    assert report.get("consent_withdrawals").total.value == 3
    assert _values(report, "consent_withdrawals", "reason") == {
        "requested_by_person": 2,
        "safety_concern": 1,
    }


async def test_active_agencies_include_connector_heartbeats_and_services_are_distinct(
    october: Database, frame: Logframe
) -> None:
    report = await _report(october, frame, dims=())
    # FORM never answered through the API, but its connector sent a heartbeat
    assert report.get("active_agencies").total.value == 6
    # sante.medical (R1's directory service), SANTE/medical, PSY/mhpss, FORM/vocational_training
    assert report.get("active_services").total.value == 4


async def test_region_filter_restricts_the_cohort(october: Database, frame: Logframe) -> None:
    report = await _report(october, frame, dims=(), region="GN-C")
    assert report.get("referrals_made").total.value == 4  # R2 R3 R8 R10
    ack = report.get("acknowledged_within_sop").total
    assert (ack.numerator, ack.denominator) == (3, 4)  # R2 late
    # consent withdrawals have no region: national value, flagged as such
    withdrawals = report.get("consent_withdrawals")
    assert withdrawals.total.value == 3
    assert withdrawals.region_applied is False


async def test_actors_reporting_regularly_counts_distinct_active_days_in_30_days(
    database: Database, frame: Logframe
) -> None:
    await add_agencies(database, "AGA", "AGB", "AGC", "AGD")
    events = [heartbeat("AGA", at(f"2026-10-{d:02d} 07:00")) for d in (3, 9, 16, 23, 30)]
    events += [heartbeat("AGB", at(f"2026-10-{d:02d} 07:00")) for d in (3, 9, 16)]
    # the 1st is outside the 30 days ending 31 October; two beats on one day count once
    events += [heartbeat("AGC", at(f"2026-10-{d:02d} 07:00")) for d in (1, 9, 16, 23)]
    events += [heartbeat("AGC", at("2026-10-23 18:00"))]
    stories = october_stories()
    for day, key in zip((2, 12, 19, 26), ("R1", "R2", "R3", "R4"), strict=True):
        story = stories[key]
        story.referring, story.steps = "AGD", []
        story.submitted_at = at(f"2026-10-{day:02d} 08:00")
        events += story.envelopes()
    await feed(database, events)
    report = await _report(database, frame, dims=())
    regular = report.get("actors_reporting_regularly").total
    assert (regular.numerator, regular.denominator) == (2, 4)  # AGA (5 days), AGD (4 days)
    assert regular.value == 50.0


async def test_replaying_the_stream_with_new_event_ids_changes_nothing(
    database: Database, frame: Logframe
) -> None:
    events = october_stream()
    await feed(database, events)
    # a producer that re-sent everything under new ids: facts are keyed on what they describe
    again = await feed(database, [{**e, "id": f"again-{e['id']}"} for e in events])
    assert again.applied == len(events)
    october = database
    report = await _report(october, frame, dims=())
    assert report.get("referrals_made").total.value == 9
    assert report.get("consent_withdrawals").total.value == 3
    assert report.get("duplicate_assistance_suspected").total.value == 2


async def test_same_event_ids_are_skipped(database: Database) -> None:
    events = october_stream()
    first = await feed(database, events)
    second = await feed(database, events)
    assert first.applied == len(events)
    assert (second.applied, second.skipped) == (0, len(events))


async def test_an_older_snapshot_never_replaces_a_newer_one(
    database: Database, frame: Logframe
) -> None:
    story = october_stories()["R1"]
    envelopes = story.envelopes()
    await feed(database, list(reversed(envelopes)))  # completed first, submitted last
    report = await _report(database, frame, dims=())
    assert report.get("completed_with_outcome").total.numerator == 1
    assert report.get("time_to_completion_median").total.value == pytest.approx(100.0)


async def test_poison_events_are_reported_and_the_rest_applied(database: Database) -> None:
    good = october_stories()["R1"].envelopes()[0]
    bad_data = {**good, "id": "bad-1", "data": {**good["data"], "status": "accepted"}}
    no_id = {k: v for k, v in good.items() if k != "id"}
    unknown = {**good, "id": "other-1", "type": "gn.mno.something.happened.v1"}
    applied = await feed(database, [bad_data, no_id, good, unknown])
    assert [index for index, _reason in applied.poison] == [0, 1]
    assert (applied.applied, applied.ignored) == (1, 1)


async def test_facts_hold_no_pseudonym(october: Database) -> None:
    from sqlalchemy import text

    stories = october_stories()
    async with october.engine.connect() as conn:
        dump = []
        for table in (
            "meal_referral_facts",
            "meal_duplicate_facts",
            "meal_consent_withdrawals",
            "meal_agency_activity",
        ):
            rows = (await conn.execute(text(f"select * from {table}"))).all()  # noqa: S608
            dump.append(repr(rows))
    text_dump = "\n".join(dump)
    from tests.gateway.meal.factories import pseudonym

    for story in stories.values():
        assert pseudonym(story.referral_id) not in text_dump


async def test_connector_heartbeats_recorded_by_the_gateway_count_as_activity(
    database: Database, frame: Logframe
) -> None:
    from gateway.connectors_api.models import ConnectorHeartbeat

    await add_agencies(database, "AGA", "AGB")
    async with make_sessionmaker(database.engine)() as session:
        for day in (2, 9, 16, 23, 23):  # 4 distinct days in the 30 days to 31 October
            session.add(
                ConnectorHeartbeat(
                    agency="AGA",
                    client_id="aga-connector",
                    connector_id="aga-sql",
                    received_at=at(f"2026-10-{day:02d} 23:30"),
                    rows_read=3,
                    rows_sent=3,
                    rows_rejected=0,
                    lag_seconds=1.0,
                )
            )
        await session.commit()
    report = await _report(database, frame, dims=())
    regular = report.get("actors_reporting_regularly").total
    assert (regular.numerator, regular.denominator) == (1, 2)
    assert report.get("active_agencies").total.value == 1
