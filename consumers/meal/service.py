"""From events to MEAL facts: typed parsing, flattening, idempotent batch writes.

Used by the Kafka handler, the benchmark and the tests alike. Never commits: the caller owns
the transaction. Only codes, age bands, regions, agencies and times are kept; the subject's
pseudonym, tokens and the encrypted payload are dropped here, before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.meal import repository
from gateway.meal.models import UNKNOWN
from gateway.outbox.processed import ProcessedEvent, already_processed
from schemas.codes import ReferralAction, region_of
from schemas.consent import Consent
from schemas.events import (
    EVENT_TYPES,
    ConsentGranted,
    ConsentWithdrawn,
    DuplicateAssistanceSuspected,
    ReferralEvent,
)
from schemas.referral import Referral

CONSUMER_NAME = "meal"
# Core table, not the ORM entity: a plain executemany for the batch of ids.
PROCESSED: Table = ProcessedEvent.__table__  # type: ignore[assignment]
HEARTBEAT_TYPE = "gn.mno.connector.heartbeat.v1"
SOURCE_API = "api"
SOURCE_CONNECTOR = "connector"
AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9-]{1,31}$")


class PoisonEvent(ValueError):
    """An event MEAL knows the type of but cannot read: dead-letter it, carry on."""


class ConnectorHeartbeat(BaseModel):
    """``data`` of ``gn.mno.connector.heartbeat.v1`` as MEAL reads it: the agency and when.

    Other fields the connectors part adds are ignored here, so that part may extend it.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    agency: str = Field(pattern=AGENCY_CODE.pattern)
    at: AwareDatetime | None = None


_FIRST_RESPONSE = frozenset(
    {ReferralAction.ACKNOWLEDGE, ReferralAction.ACCEPT, ReferralAction.DECLINE}
)
_TIME_OF = {
    ReferralAction.ACCEPT: "accepted_at",
    ReferralAction.DECLINE: "declined_at",
    ReferralAction.COMPLETE: "completed_at",
    ReferralAction.CANCEL: "cancelled_at",
    ReferralAction.CLOSE: "closed_at",
}


def _region(area: str | None) -> str:
    if not area:
        return UNKNOWN
    try:
        return region_of(area)
    except ValueError:
        return UNKNOWN


def _seconds(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else (later - earlier).total_seconds()


def referral_fact(referral: Referral) -> dict[str, Any]:
    """The flat, statistical row of one referral snapshot."""
    submitted = referral.created_at.astimezone(UTC)
    times: dict[str, datetime | None] = dict.fromkeys(_TIME_OF.values())
    first_response: datetime | None = None
    for change in referral.history:
        if change.action in _FIRST_RESPONSE and first_response is None:
            first_response = change.at
        column = _TIME_OF.get(change.action)
        if column is not None and times[column] is None:
            times[column] = change.at
    first_category = referral.services_requested[0].value
    return {
        "referral_id": str(referral.id),
        "version": referral.version,
        "referring_agency": referral.referring_agency,
        "receiving_agency": referral.receiving_agency,
        "service_key": referral.receiving_service
        or f"{referral.receiving_agency}/{first_category}",
        "services": ",".join(sorted(c.value for c in referral.services_requested)),
        "sex": referral.subject.sex.value,
        "age_band": referral.subject.age_band.value,
        "region": _region(referral.subject.area_code),
        "case_category": referral.case_category.value,
        "urgency": referral.urgency.value,
        "status": referral.status.value,
        "submitted_at": submitted,
        "submitted_month": submitted.strftime("%Y-%m"),
        "acknowledge_by": referral.acknowledge_by,
        "respond_by": referral.respond_by,
        "first_response_at": first_response,
        **times,
        "ack_seconds": _seconds(first_response, submitted),
        "accept_seconds": _seconds(times["accepted_at"], submitted),
        "complete_seconds": _seconds(times["completed_at"], submitted),
        "decline_reason": referral.decline_reason.value if referral.decline_reason else None,
        "outcome": referral.outcome.value if referral.outcome else None,
    }


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


@dataclass
class FactBatch:
    """Facts of a batch of events, merged in memory, then written in a few statements."""

    referrals: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: dict[str, dict[str, Any]] = field(default_factory=dict)
    withdrawals: dict[str, dict[str, Any]] = field(default_factory=dict)
    activity: set[tuple[str, date, str]] = field(default_factory=set)

    def add(self, envelope: Mapping[str, Any]) -> bool:
        """Merge one envelope; False when MEAL has no use for its type. Raises PoisonEvent."""
        event_type = envelope.get("type")
        data = envelope.get("data")
        if not isinstance(event_type, str):
            raise PoisonEvent("type absent / missing type")
        if event_type == HEARTBEAT_TYPE:
            self._heartbeat(envelope, data)
            return True
        event_cls = EVENT_TYPES.get(event_type)
        if event_cls is None:
            return False
        if not isinstance(data, dict):
            raise PoisonEvent("data n'est pas un objet / data is not an object")
        try:
            event = event_cls.model_validate(data)
        except ValidationError as exc:
            raise PoisonEvent(
                f"données invalides / invalid data for {event_type}: {exc.error_count()} error(s)"
            ) from None
        if isinstance(event, ReferralEvent):
            self._referral(event)
        elif isinstance(event, ConsentWithdrawn):
            self._withdrawal(event)
        elif isinstance(event, ConsentGranted):
            self._consent_activity(event, event.recorded_at)
        elif isinstance(event, DuplicateAssistanceSuspected):
            self._duplicate(envelope, event)
        return True

    def _referral(self, referral: Referral) -> None:
        row = referral_fact(referral)
        current = self.referrals.get(row["referral_id"])
        if current is None or current["version"] <= row["version"]:
            self.referrals[row["referral_id"]] = row
        # Every step is API traffic of the agency that took it (presence per day only).
        for change in referral.history:
            self.activity.add((change.actor_agency, _day(change.at), SOURCE_API))

    def _consent_activity(self, consent: Consent, at: datetime) -> None:
        self.activity.add((consent.collecting_agency, _day(at), SOURCE_API))

    def _withdrawal(self, consent: ConsentWithdrawn) -> None:
        withdrawn_at = consent.withdrawn_at or consent.recorded_at
        self.withdrawals.setdefault(
            str(consent.id),
            {
                "consent_id": str(consent.id),
                "collecting_agency": consent.collecting_agency,
                "withdrawn_at": withdrawn_at,
                "reason": consent.withdrawal_reason.value if consent.withdrawal_reason else "other",
                "subject_is_minor": consent.subject_is_minor,
            },
        )
        self._consent_activity(consent, withdrawn_at)

    def _duplicate(self, envelope: Mapping[str, Any], event: DuplicateAssistanceSuspected) -> None:
        detected_at = _envelope_time(envelope)
        referral_id = str(event.referral_id)
        row: dict[str, Any] = {
            "referral_id": referral_id,
            "detected_at": detected_at,
            "match_method": event.match_method.value,
            "matches": len(event.matching_referral_ids),
        }
        current = self.duplicates.get(referral_id)
        if current is None or current["detected_at"] > detected_at:
            self.duplicates[referral_id] = row

    def _heartbeat(self, envelope: Mapping[str, Any], data: Any) -> None:
        try:
            beat = ConnectorHeartbeat.model_validate(data)
        except ValidationError:
            raise PoisonEvent("signal de vie invalide / invalid heartbeat") from None
        at = beat.at or _envelope_time(envelope)
        self.activity.add((beat.agency, _day(at), SOURCE_CONNECTOR))

    async def flush(self, session: AsyncSession) -> None:
        await repository.upsert_referral_facts(session, list(self.referrals.values()))
        await repository.add_duplicates(session, list(self.duplicates.values()))
        await repository.add_withdrawals(session, list(self.withdrawals.values()))
        await repository.add_activity(session, self.activity)


def _envelope_time(envelope: Mapping[str, Any]) -> datetime:
    raw = envelope.get("time")
    if isinstance(raw, datetime) and raw.tzinfo is not None:
        return raw
    if isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise PoisonEvent("time invalide / invalid time") from None
        if moment.tzinfo is not None:
            return moment
    raise PoisonEvent("time absent ou sans fuseau / time missing or naive")


@dataclass
class Applied:
    applied: int = 0
    skipped: int = 0  # already processed (redelivery, replay)
    ignored: int = 0  # types MEAL has no use for
    poison: list[tuple[int, str]] = field(default_factory=list)  # (index in input, reason)


async def apply_events(
    session: AsyncSession,
    envelopes: Sequence[Mapping[str, Any]],
    *,
    consumer: str = CONSUMER_NAME,
) -> Applied:
    """Materialise the facts of a batch of CloudEvents (structured dicts), once per event id."""
    result = Applied()
    ids = [e["id"] for e in envelopes if isinstance(e.get("id"), str)]
    seen = await already_processed(session, consumer, ids)
    batch = FactBatch()
    done: list[str] = []
    for index, envelope in enumerate(envelopes):
        event_id = envelope.get("id")
        if not isinstance(event_id, str) or not event_id:
            result.poison.append((index, "id absent / missing id"))
            continue
        if event_id in seen:
            result.skipped += 1
            continue
        try:
            used = batch.add(envelope)
        except PoisonEvent as exc:
            result.poison.append((index, str(exc)))
            continue
        seen.add(event_id)
        if used:
            done.append(event_id)
            result.applied += 1
        else:
            result.ignored += 1
    await batch.flush(session)
    if done:
        now = utcnow()
        await session.execute(
            insert(PROCESSED),
            [{"consumer": consumer, "event_id": i, "processed_at": now} for i in done],
        )
    return result


async def rebuild_facts(
    session: AsyncSession, group_id: str, consumer: str = CONSUMER_NAME
) -> None:
    """Forget every fact and seen event id, and record the consumer group that will replay."""
    await repository.reset_facts(session, consumer)
    await repository.set_state(session, "consumer_group", group_id)
