"""CloudEvents envelope: build, parse back, refuse unknown types and bad data."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas import examples
from schemas.codes import ReferralAction, ReferralStatus
from schemas.events import (
    EVENT_CLASSES,
    EVENT_TYPE_PATTERN,
    EVENT_TYPES,
    CloudEvent,
    ConsentWithdrawn,
    EventData,
    InvalidEventData,
    ReferralDeclined,
    ReferralSubmitted,
    UnknownEventType,
    event_type_for_action,
    from_cloudevent,
    make_envelope,
    to_cloudevent,
)


def test_every_action_has_an_event_type_and_types_are_versioned() -> None:
    assert {event_type_for_action(a) for a in ReferralAction} <= set(EVENT_TYPES)
    assert event_type_for_action(ReferralAction.SUBMIT) == "gn.mno.referral.submitted.v1"
    assert len(EVENT_TYPES) == len(EVENT_CLASSES) == 10
    for event_type in EVENT_TYPES:
        assert re.fullmatch(EVENT_TYPE_PATTERN, event_type)


@pytest.mark.parametrize("event_cls", EVENT_CLASSES, ids=lambda c: c.__name__)
def test_envelope_round_trip_gives_the_same_typed_event(event_cls: type[EventData]) -> None:
    event = examples.example(event_cls.schema_name)
    assert isinstance(event, event_cls)
    envelope = to_cloudevent(event, event_id="evt-1", time=datetime(2025, 1, 1, tzinfo=UTC))
    as_json = envelope.model_dump(mode="json")
    assert as_json["specversion"] == "1.0"
    assert as_json["datacontenttype"] == "application/json"
    assert as_json["dataschema"].endswith(f"/{event_cls.schema_name}.schema.json")
    parsed = from_cloudevent(as_json)
    assert type(parsed) is event_cls
    assert parsed == event


def test_referral_events_key_on_the_referral_and_consent_events_on_the_pseudonym() -> None:
    referral = examples.referral()
    envelope = to_cloudevent(ReferralSubmitted.model_validate(referral.model_dump()))
    assert envelope.partitionkey == envelope.subject == str(referral.id)
    consent = examples.consent(withdrawn=True)
    envelope = to_cloudevent(ConsentWithdrawn.model_validate(consent.model_dump()))
    assert envelope.partitionkey == consent.subject_pseudonym


def test_make_envelope_checks_the_data_against_its_type() -> None:
    referral = examples.referral()
    envelope = make_envelope(
        type=event_type_for_action(ReferralAction.SUBMIT),
        source="/mno/gateway/referrals",
        subject=str(referral.id),
        data=referral.model_dump(mode="json"),
    )
    assert envelope["type"] == "gn.mno.referral.submitted.v1"
    assert envelope["data"] == referral.model_dump(mode="json")
    with pytest.raises(InvalidEventData, match="expected status: accepted"):
        make_envelope(type="gn.mno.referral.accepted.v1", data=referral.model_dump(mode="json"))


def test_unknown_event_type_is_a_clear_error() -> None:
    envelope = examples.cloud_event().model_dump(mode="json") | {"type": "gn.mno.referral.lost.v9"}
    with pytest.raises(UnknownEventType, match="Unknown event type: 'gn.mno.referral.lost.v9'"):
        from_cloudevent(envelope)
    with pytest.raises(UnknownEventType):
        make_envelope(type="gn.mno.referral.lost.v9", data={})


def test_declined_event_needs_a_decline_reason() -> None:
    declined = examples.referral_in(ReferralStatus.DECLINED).model_dump()
    assert ReferralDeclined.model_validate(declined).decline_reason is not None
    with pytest.raises(ValidationError, match="decline_reason missing"):
        ReferralDeclined.model_validate(declined | {"decline_reason": None})


def test_envelope_refuses_a_type_outside_the_naming_scheme() -> None:
    data = examples.cloud_event().model_dump(mode="json")
    with pytest.raises(ValidationError, match="type"):
        CloudEvent.model_validate(data | {"type": "referral submitted"})
