"""CloudEvents binary mode on Kafka: headers and value, both ways."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.events.cloudevents import (
    CloudEventDecodeError,
    CloudEventEncodeError,
    from_kafka,
    to_kafka,
)
from schemas import examples
from schemas.events import CloudEvent, make_envelope


def referral_envelope() -> dict[str, Any]:
    referral = examples.referral()
    return make_envelope(
        type="gn.mno.referral.submitted.v1",
        source="/mno/gateway/referrals",
        subject=str(referral.id),
        data=referral.model_dump(mode="json"),
    )


def good_headers() -> list[tuple[str, bytes]]:
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"evt-1"),
        ("ce_source", b"/mno/gateway"),
        ("ce_type", b"gn.mno.referral.submitted.v1"),
        ("ce_time", b"2026-03-01T10:00:00Z"),
        ("content-type", b"application/json"),
    ]


def test_contract_envelope_round_trips_through_binary_mode() -> None:
    envelope = referral_envelope()
    value, headers = to_kafka(envelope)
    assert from_kafka(value, headers) == envelope
    # still a valid envelope of the shared contract
    CloudEvent.model_validate(from_kafka(value, headers))


def test_attributes_travel_as_ce_headers_and_data_as_value() -> None:
    envelope = referral_envelope()
    value, headers = to_kafka(envelope)
    names = dict(headers)
    assert names["ce_specversion"] == b"1.0"
    assert names["ce_id"] == envelope["id"].encode()
    assert names["ce_type"] == b"gn.mno.referral.submitted.v1"
    assert names["ce_subject"] == envelope["subject"].encode()
    assert names["ce_time"] == envelope["time"].encode()
    assert names["ce_partitionkey"] == envelope["partitionkey"].encode()
    assert names["content-type"] == b"application/json"
    assert "ce_data" not in names
    assert "ce_datacontenttype" not in names
    assert value.startswith(b"{")
    assert b'"receiving_agency"' in value


def test_non_ascii_data_is_utf8_json() -> None:
    envelope = {**referral_envelope(), "data": {"prefecture": "Nzérékoré"}}
    value, headers = to_kafka(envelope)
    assert "Nzérékoré".encode() in value
    assert from_kafka(value, headers)["data"] == {"prefecture": "Nzérékoré"}


def test_other_headers_are_ignored() -> None:
    headers = [*good_headers(), ("mno_dlq_reason", b"x"), ("traceparent", b"\xff")]
    envelope = from_kafka(b'{"a": 1}', headers)
    assert envelope["id"] == "evt-1"
    assert "mno_dlq_reason" not in envelope
    assert envelope["data"] == {"a": 1}


def test_missing_content_type_means_json() -> None:
    headers = [h for h in good_headers() if h[0] != "content-type"]
    assert from_kafka(b"{}", headers)["datacontenttype"] == "application/json"


def _without(name: str) -> list[tuple[str, bytes | None]]:
    return [h for h in good_headers() if h[0] != name]


def _replace(name: str, value: bytes | None) -> list[tuple[str, bytes | None]]:
    return [(k, value if k == name else v) for k, v in good_headers()]


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"{}", _without("ce_id"), "ce_id"),
        (b"{}", _without("ce_type"), "ce_type"),
        (b"{}", _without("ce_source"), "ce_source"),
        (b"{}", _without("ce_specversion"), "ce_specversion"),
        (b"{}", _replace("ce_specversion", b"0.3"), "specversion"),
        (b"{}", _replace("ce_id", b""), "ce_id"),
        (b"{}", _replace("ce_id", b"\xff\xfe"), "UTF-8"),
        (b"{}", _replace("ce_id", None), "ce_id"),
        (b"{}", _replace("ce_time", b"yesterday"), "RFC 3339"),
        (b"{}", _replace("ce_time", b"2026-03-01T10:00:00"), "time zone"),
        (b"{}", _replace("content-type", b"text/plain"), "content-type"),
        (b"{}", [*good_headers(), ("ce_id", b"evt-2")], "duplicate"),
        (b"{}", [*good_headers(), ("ce_bad-name", b"x")], "attribute name"),
        (b"not json", good_headers(), "not JSON"),
        (b"\xff", good_headers(), "not JSON"),
        (b"[1, 2]", good_headers(), "JSON object"),
        (None, good_headers(), "tombstone"),
        (b"{}", None, "ce_"),
    ],
)
def test_malformed_records_raise_decode_error(
    value: bytes | None, headers: list[tuple[str, bytes | None]] | None, reason: str
) -> None:
    with pytest.raises(CloudEventDecodeError, match=reason) as caught:
        from_kafka(value, headers)
    assert isinstance(caught.value, ValueError)
    assert caught.value.message_fr
    assert caught.value.message_en


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "id"),
        ({"specversion": "0.3"}, "specversion"),
        ({"datacontenttype": "text/plain"}, "JSON"),
        ({"Bad_Name": "x"}, "attribute name"),
        ({"sequence": 7}, "text expected"),
        ({"data": {"x": float("nan")}}, "not JSON"),
    ],
)
def test_envelopes_that_cannot_be_encoded_raise(change: dict[str, Any], reason: str) -> None:
    envelope = {**referral_envelope(), **change}
    with pytest.raises(CloudEventEncodeError, match=reason):
        to_kafka(envelope)


def test_envelope_without_data_cannot_be_encoded() -> None:
    envelope = referral_envelope()
    del envelope["data"]
    with pytest.raises(CloudEventEncodeError, match="data"):
        to_kafka(envelope)
