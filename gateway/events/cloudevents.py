"""CloudEvents 1.0 on Kafka, binary content mode (the Kafka protocol binding).

The attributes travel as ``ce_<name>`` headers (UTF-8), ``datacontenttype`` as ``content-type``,
and the record value is the JSON of ``data``. Envelopes are plain dicts here, in the structured
JSON shape (``schemas.events.CloudEvent`` dumps to the same dict), so this module stays
independent of the contract's models.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

SPEC_VERSION = "1.0"
JSON = "application/json"
PREFIX = "ce_"
CONTENT_TYPE = "content-type"
REQUIRED = ("specversion", "id", "source", "type")
# CloudEvents attribute names: lower-case ASCII letters and digits, 20 characters at most.
ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]{1,20}$")

KafkaHeaders = list[tuple[str, bytes]]


class CloudEventEncodeError(ValueError):
    """An envelope that cannot be written in binary mode (a bug of the producer)."""


class CloudEventDecodeError(ValueError):
    """A Kafka record that is not a valid binary-mode CloudEvent: consumers dead-letter it."""

    def __init__(self, message_fr: str, message_en: str) -> None:
        self.message_fr = message_fr
        self.message_en = message_en
        super().__init__(f"{message_fr} / {message_en}")


def _attribute_text(name: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()
    raise CloudEventEncodeError(
        f"attribut {name!r} : texte attendu / attribute {name!r}: text expected, "
        f"got {type(value).__name__}"
    )


def to_kafka(envelope: Mapping[str, Any]) -> tuple[bytes, KafkaHeaders]:
    """Binary mode: (record value, record headers) for a structured-mode envelope."""
    for name in REQUIRED:
        if not envelope.get(name):
            raise CloudEventEncodeError(
                f"attribut requis absent / required attribute missing: {name}"
            )
    if envelope["specversion"] != SPEC_VERSION:
        raise CloudEventEncodeError(f"specversion {envelope['specversion']!r} != {SPEC_VERSION}")
    if "data" not in envelope:
        raise CloudEventEncodeError("data absent / data missing")
    content_type = envelope.get("datacontenttype") or JSON
    if not _is_json(str(content_type)):
        raise CloudEventEncodeError(f"datacontenttype non JSON / not JSON: {content_type!r}")
    headers: KafkaHeaders = []
    for name, value in envelope.items():
        if name in ("data", "datacontenttype") or value is None:
            continue
        if not ATTRIBUTE_NAME.match(name):
            raise CloudEventEncodeError(
                f"nom d'attribut invalide / invalid attribute name: {name!r}"
            )
        headers.append((PREFIX + name, _attribute_text(name, value).encode()))
    headers.append((CONTENT_TYPE, str(content_type).encode()))
    try:
        value_bytes = json.dumps(
            envelope["data"], ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()
    except (TypeError, ValueError) as exc:
        raise CloudEventEncodeError(f"data non JSON / data not JSON: {exc}") from exc
    return value_bytes, headers


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or media.endswith("+json")


def from_kafka(
    value: bytes | None, headers: Iterable[tuple[str, bytes | None]] | None
) -> dict[str, Any]:
    """The structured-mode envelope of a binary-mode record; ``CloudEventDecodeError`` if bad."""
    envelope: dict[str, Any] = {}
    content_type: str | None = None
    for key, raw in headers or ():
        name = key.lower()
        if name != CONTENT_TYPE and not name.startswith(PREFIX):
            continue  # other headers (tracing, dead-letter reasons) are not attributes
        if raw is None:
            raise CloudEventDecodeError(f"en-tête {key} vide", f"header {key} has no value")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CloudEventDecodeError(
                f"en-tête {key} : UTF-8 invalide", f"header {key}: invalid UTF-8"
            ) from exc
        if name == CONTENT_TYPE:
            if content_type is not None:
                raise CloudEventDecodeError("content-type en double", "duplicate content-type")
            content_type = text
            continue
        attribute = name[len(PREFIX) :]
        if not ATTRIBUTE_NAME.match(attribute):
            raise CloudEventDecodeError(
                f"nom d'attribut invalide : {key!r}", f"invalid attribute name: {key!r}"
            )
        if attribute in envelope:
            raise CloudEventDecodeError(f"en-tête {key} en double", f"duplicate header {key}")
        envelope[attribute] = text
    for name in REQUIRED:
        if not envelope.get(name):
            raise CloudEventDecodeError(
                f"en-tête requis absent : {PREFIX}{name}", f"missing required header {PREFIX}{name}"
            )
    if envelope["specversion"] != SPEC_VERSION:
        raise CloudEventDecodeError(
            f"specversion non prise en charge : {envelope['specversion']!r}",
            f"unsupported specversion: {envelope['specversion']!r}",
        )
    if "time" in envelope:
        try:
            moment = datetime.fromisoformat(envelope["time"])
        except ValueError as exc:
            raise CloudEventDecodeError(
                "ce_time n'est pas une date RFC 3339", "ce_time is not an RFC 3339 timestamp"
            ) from exc
        if moment.tzinfo is None:
            raise CloudEventDecodeError("ce_time sans fuseau", "ce_time has no time zone")
    content_type = content_type or JSON
    if not _is_json(content_type):
        raise CloudEventDecodeError(
            f"content-type non JSON : {content_type!r}", f"content-type not JSON: {content_type!r}"
        )
    if value is None:
        raise CloudEventDecodeError("valeur absente (tombstone)", "no value (tombstone)")
    try:
        data = json.loads(value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CloudEventDecodeError("data n'est pas du JSON", "data is not JSON") from exc
    if not isinstance(data, dict):
        raise CloudEventDecodeError("data doit être un objet JSON", "data must be a JSON object")
    envelope["datacontenttype"] = content_type
    envelope["data"] = data
    return envelope
