"""Synthetic event streams for MEAL: referral stories told as CloudEvents, consent withdrawals,
duplicate suspicions and connector heartbeats. No person: pseudonyms are hashes of counters."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.codes import SOP_DEADLINES, Urgency

EVENT_OF = {
    "submit": "submitted",
    "acknowledge": "acknowledged",
    "accept": "accepted",
    "decline": "declined",
    "complete": "completed",
    "close": "closed",
    "cancel": "cancelled",
}
STATUS_OF = EVENT_OF
MINOR_BANDS = {"0-4", "5-11", "12-14", "15-17"}


def pseudonym(seed: str) -> str:
    digest = hashlib.sha256(f"meal-test:{seed}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def at(text: str) -> datetime:
    """``"2026-10-01 08:00"`` in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Step:
    action: str
    hours: float  # after submission
    reason: str | None = None  # decline reason
    outcome: str | None = None  # complete outcome


@dataclass
class Story:
    """One referral from submission to its last step."""

    referring: str
    receiving: str
    submitted_at: datetime
    steps: list[Step] = field(default_factory=list)
    urgency: str = "normal"
    sex: str = "female"
    age_band: str = "18-24"
    area: str | None = "GN-C"
    case_category: str = "returning_migrant"
    services: list[str] = field(default_factory=lambda: ["medical"])
    receiving_service: str | None = None
    referral_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def snapshots(self) -> list[tuple[str, datetime, dict[str, Any]]]:
        """(event type, time, data) for the submission and each step."""
        hours = SOP_DEADLINES[Urgency(self.urgency)]
        ack_by = self.submitted_at + timedelta(hours=hours.acknowledge_hours)
        respond_by = self.submitted_at + timedelta(hours=hours.respond_hours)
        subject: dict[str, Any] = {
            "pseudonym": pseudonym(self.referral_id),
            "age_band": self.age_band,
            "sex": self.sex,
            "is_minor": self.age_band in MINOR_BANDS,
        }
        if self.area:
            subject["area_code"] = self.area
        base: dict[str, Any] = {
            "schema_version": "1.0",
            "id": self.referral_id,
            "referring_agency": self.referring,
            "receiving_agency": self.receiving,
            "subject": subject,
            "case_category": self.case_category,
            "services_requested": list(self.services),
            "urgency": self.urgency,
            "created_at": self.submitted_at.isoformat(),
            "acknowledge_by": ack_by.isoformat(),
            "respond_by": respond_by.isoformat(),
        }
        if self.receiving_service:
            base["receiving_service"] = self.receiving_service
        history = [
            {
                "status": "submitted",
                "action": "submit",
                "at": self.submitted_at.isoformat(),
                "actor_agency": self.referring,
                "actor_client": "client-ref",
            }
        ]
        out = []
        decline_reason = outcome = None
        moments = [(Step("submit", 0), self.submitted_at)]
        moments += [(s, self.submitted_at + timedelta(hours=s.hours)) for s in self.steps]
        for index, (step, moment) in enumerate(moments):
            status = STATUS_OF[step.action]
            if index > 0:
                actor = self.referring if step.action in ("cancel", "close") else self.receiving
                entry: dict[str, Any] = {
                    "status": status,
                    "action": step.action,
                    "at": moment.isoformat(),
                    "actor_agency": actor,
                    "actor_client": "client-" + actor.lower(),
                }
                if step.reason:
                    entry["reason_code"] = decline_reason = step.reason
                if step.outcome:
                    entry["outcome"] = outcome = step.outcome
                history.append(entry)
            data = {
                **base,
                "status": status,
                "history": [dict(h) for h in history],
                "updated_at": moment.isoformat(),
                "version": len(history),
            }
            if decline_reason:
                data["decline_reason"] = decline_reason
            if outcome:
                data["outcome"] = outcome
            out.append((f"gn.mno.referral.{EVENT_OF[step.action]}.v1", moment, data))
        return out

    def envelopes(self) -> list[dict[str, Any]]:
        return [
            envelope(event_type, moment, data, subject=self.referral_id)
            for event_type, moment, data in self.snapshots()
        ]


def envelope(
    event_type: str, moment: datetime, data: dict[str, Any], subject: str | None = None
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/mno/test",
        "type": event_type,
        "time": moment.isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    if subject:
        env["subject"] = subject
    return env


def withdrawal(agency: str, when: datetime, reason: str = "requested_by_person") -> dict[str, Any]:
    consent_id = str(uuid.uuid4())
    data = {
        "schema_version": "1.0",
        "id": consent_id,
        "subject_pseudonym": pseudonym(consent_id),
        "collecting_agency": agency,
        "purposes": ["referral"],
        "data_categories": ["statistical"],
        "recipients": ["government"],
        "valid_from": (when - timedelta(days=30)).isoformat(),
        "method": "verbal",
        "subject_is_minor": False,
        "status": "withdrawn",
        "recorded_at": (when - timedelta(days=30)).isoformat(),
        "withdrawn_at": when.isoformat(),
        "withdrawal_reason": reason,
    }
    return envelope("gn.mno.consent.withdrawn.v1", when, data, subject=consent_id)


def duplicate(referral_id: str, when: datetime, method: str = "exact_token") -> dict[str, Any]:
    data = {
        "schema_version": "1.0",
        "referral_id": referral_id,
        "subject_pseudonym": pseudonym("dup" + referral_id),
        "matching_referral_ids": [str(uuid.uuid4())],
        "match_method": method,
        "score": 0.97,
        "overlapping_services": ["medical"],
    }
    return envelope("gn.mno.subject.duplicate_suspected.v1", when, data, subject=referral_id)


def heartbeat(agency: str, when: datetime) -> dict[str, Any]:
    data = {"agency": agency, "connector_id": f"{agency.lower()}-sql", "at": when.isoformat()}
    return envelope("gn.mno.connector.heartbeat.v1", when, data)


# --------------------------------------------------------------------------- the October stream

OCTOBER = "2026-10"
AS_OF = at("2026-11-10 12:00")


def october_stories() -> dict[str, Story]:
    """The hand-computed scenario of tests/gateway/meal/test_service.py (see its docstring)."""
    return {
        "R1": Story(
            "OIM",
            "SANTE",
            at("2026-10-01 08:00"),
            [
                Step("acknowledge", 10),
                Step("accept", 20),
                Step("complete", 100, outcome="served_fully"),
            ],
            urgency="normal",
            sex="female",
            age_band="18-24",
            area="GN-KD",
            services=["medical", "mhpss"],
            receiving_service="sante.medical",
        ),
        "R2": Story(
            "OIM",
            "SANTE",
            at("2026-10-02 08:00"),
            [
                Step("acknowledge", 30),
                Step("accept", 50),
                Step("complete", 200, outcome="not_served_capacity"),
            ],
            urgency="high",
            sex="male",
            age_band="25-34",
            area="GN-C",
        ),
        "R3": Story(
            "OIM",
            "PSY",
            at("2026-10-03 08:00"),
            [Step("accept", 1)],
            urgency="immediate",
            sex="female",
            age_band="15-17",
            area="GN-C",
            services=["mhpss"],
            case_category="victim_of_trafficking",
        ),
        "R4": Story(
            "GOUV",
            "PSY",
            at("2026-10-04 08:00"),
            [Step("decline", 5, reason="no_capacity")],
            sex="female",
            age_band="35-49",
            area="GN-K",
            services=["mhpss"],
        ),
        "R5": Story(
            "GOUV",
            "FORM",
            at("2026-10-20 08:00"),
            [],
            urgency="low",
            sex="male",
            age_band="18-24",
            area="GN-KA",
            services=["vocational_training"],
        ),
        "R6": Story(
            "ONG",
            "SANTE",
            at("2026-10-06 08:00"),
            [Step("cancel", 10)],
            sex="female",
            age_band="18-24",
            area=None,
        ),
        "R7": Story(
            "ONG",
            "SANTE",
            at("2026-10-07 08:00"),
            [Step("acknowledge", 80)],
            sex="female",
            age_band="60+",
            area="GN-NZ",
        ),
        "R8": Story(
            "OIM",
            "SANTE",
            at("2026-10-08 08:00"),
            [
                Step("acknowledge", 2),
                Step("accept", 4),
                Step("complete", 30, outcome="not_served_unreachable"),
            ],
            urgency="high",
            sex="male",
            age_band="0-4",
            area="GN-C",
        ),
        "R9": Story(  # September: outside the October cohort
            "OIM",
            "SANTE",
            at("2026-09-25 08:00"),
            [Step("acknowledge", 1)],
        ),
        "R10": Story(
            "OIM",
            "SANTE",
            at("2026-10-10 08:00"),
            [
                Step("acknowledge", 1),
                Step("accept", 2),
                Step("complete", 3, outcome="served_partially"),
            ],
            sex="female",
            age_band="25-34",
            area="GN-C",
        ),
    }


def october_stream(stories: dict[str, Story] | None = None) -> list[dict[str, Any]]:
    stories = stories or october_stories()
    events = [e for story in stories.values() for e in story.envelopes()]
    events += [
        withdrawal("OIM", at("2026-10-05 10:00")),
        withdrawal("OIM", at("2026-10-12 10:00")),
        withdrawal("OIM", at("2026-10-13 10:00"), reason="safety_concern"),
        withdrawal("OIM", at("2026-09-13 10:00")),
        duplicate(stories["R2"].referral_id, at("2026-10-02 09:00"), "exact_token"),
        duplicate(stories["R8"].referral_id, at("2026-10-08 09:00"), "fuzzy_bloom"),
        duplicate(stories["R1"].referral_id, at("2026-11-02 09:00"), "exact_token"),
        heartbeat("FORM", at("2026-10-15 06:00")),
    ]
    return events
