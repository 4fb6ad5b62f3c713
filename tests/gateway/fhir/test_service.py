"""FHIR ⇄ MNO translation without a database: search parameters, Task steps, redaction."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.errors import MnoError
from gateway.fhir import service
from schemas import examples
from schemas.categories import redact_referral
from schemas.codes import ReferralAction, ReferralStatus
from schemas.fhir import referral_to_task

REFERRAL_STATUS = "https://mno.gov.gn/fhir/CodeSystem/referral-status"


def task_in(status: ReferralStatus) -> dict[str, Any]:
    return copy.deepcopy(referral_to_task(examples.referral_in(status)))


def test_fhir_statuses_become_the_mno_statuses_they_stand_for() -> None:
    search = service.parse_search(
        "ServiceRequest",
        status="active,revoked",
        business_status=None,
        last_updated="ge2025-03-01",
        count=500,
        cursor=None,
    )
    assert search.statuses == {"submitted", "acknowledged", "accepted", "declined", "cancelled"}
    assert search.updated_from == datetime(2025, 3, 1, tzinfo=UTC)
    assert not search.updated_strictly_after
    assert search.count == service.MAX_COUNT
    both = service.parse_search(
        "Task",
        status="completed",
        business_status=f"{REFERRAL_STATUS}|closed",
        last_updated="gt2025-03-01T10:00:00Z",
        count=None,
        cursor=None,
    )
    assert both.statuses == {ReferralStatus.CLOSED}
    assert both.updated_strictly_after
    assert both.count == service.DEFAULT_COUNT


@pytest.mark.parametrize(
    ("keyword", "param", "value"),
    [
        ("status", "status", "in-progress"),
        ("business_status", "business-status", "other|closed"),
        ("last_updated", "_lastUpdated", "lt2025-01-01"),
    ],
)
def test_unsupported_search_values_are_refused_naming_the_parameter(
    keyword: str, param: str, value: str
) -> None:
    arguments: dict[str, str | None] = {"status": None, "business_status": None}
    arguments["last_updated"] = None
    arguments[keyword] = value
    with pytest.raises(MnoError) as raised:
        service.parse_search("Task", count=None, cursor=None, **arguments)
    assert raised.value.status == 400
    assert raised.value.errors[0]["field"] == f"query.{param}"


def test_a_task_update_is_the_step_that_leads_to_its_new_status() -> None:
    task = task_in(ReferralStatus.SUBMITTED)
    assert service.task_step({**task, "status": "received"}, task["id"]).action == "acknowledge"
    declined = {
        **task,
        "status": "rejected",
        "statusReason": {
            "coding": [
                {
                    "system": "https://mno.gov.gn/fhir/CodeSystem/decline-reason",
                    "code": "no_capacity",
                }
            ]
        },
    }
    step = service.task_step(declined, task["id"])
    assert (step.action, step.reason_code) == (ReferralAction.DECLINE, "no_capacity")
    completed = task_in(ReferralStatus.COMPLETED)
    completed["businessStatus"] = {"coding": [{"system": REFERRAL_STATUS, "code": "closed"}]}
    step = service.task_step(completed, completed["id"])
    assert (step.action, step.outcome) == (ReferralAction.CLOSE, None)


def test_a_task_status_that_is_no_sop_step_names_task_status() -> None:
    task = task_in(ReferralStatus.SUBMITTED)
    with pytest.raises(MnoError) as raised:
        service.task_step({**task, "status": "on-hold"}, task["id"])
    assert raised.value.status == 422
    assert raised.value.errors[0]["field"] == "Task.status"


def test_a_redacted_service_request_drops_the_case_category_and_says_so() -> None:
    referral = examples.referral_in(ReferralStatus.ACCEPTED)
    payload = redact_referral(referral.model_dump(mode="json"), ["statistical", "identity_contact"])
    request = service.render("ServiceRequest", payload)
    assert "reasonCode" not in request or all(
        "case-category" not in c["system"] for r in request["reasonCode"] for c in r["coding"]
    )
    assert request["meta"]["security"][0]["code"] == "REDACTED"
    full = service.render("ServiceRequest", referral.model_dump(mode="json"))
    assert "security" not in full["meta"]
    with pytest.raises(MnoError) as raised:
        service.render("Task", redact_referral(referral.model_dump(mode="json"), ["health"]))
    assert raised.value.code == "policy_denied"
