"""Domain events (past tense) and their CloudEvents 1.0 envelope.

Type strings are ``gn.mno.<noun>.<verb>.v<major>``; a breaking change of an event's data gets a
new major suffix and both types are published during the transition.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field, StringConstraints, ValidationError, model_validator

from schemas.codes import (
    ConsentStatus,
    MatchMethod,
    ReferralAction,
    ReferralStatus,
    ServiceCategory,
)
from schemas.common import (
    SCHEMA_BASE_URI,
    SCHEMA_VERSION,
    UNIQUE,
    UNIQUE_ITEMS,
    MnoModel,
    Pseudonym,
    SchemaVersion,
)
from schemas.consent import Consent
from schemas.referral import Referral

EVENT_TYPE_PATTERN = r"^gn\.mno\.[a-z_]+\.[a-z_]+\.v[0-9]+$"
DEFAULT_SOURCE = "/mno/gateway"


class EventData(MnoModel):
    """Base of the typed ``data`` of an event (mixed into the snapshot models below)."""

    event_type: ClassVar[str]
    schema_name: ClassVar[str]

    def ce_subject(self) -> str:
        """CloudEvents ``subject``: the id of the thing the event is about."""
        raise NotImplementedError

    def partition_key(self) -> str:
        """Kafka key: events about one thing stay in order."""
        raise NotImplementedError


class ReferralEvent(Referral, EventData):
    """A referral event's data is the referral as it stands after the change (flat snapshot)."""

    expected_status: ClassVar[ReferralStatus]

    @model_validator(mode="after")
    def _status_matches(self) -> ReferralEvent:
        if self.status != self.expected_status:
            raise ValueError(
                f"statut attendu / expected status: {self.expected_status.value}, "
                f"reçu / got: {self.status.value}"
            )
        return self

    def ce_subject(self) -> str:
        return str(self.id)

    def partition_key(self) -> str:
        return str(self.id)


class ReferralSubmitted(ReferralEvent):
    """A referring agency submitted a referral."""

    event_type: ClassVar[str] = "gn.mno.referral.submitted.v1"
    schema_name: ClassVar[str] = "event-referral-submitted"
    expected_status: ClassVar[ReferralStatus] = ReferralStatus.SUBMITTED


class ReferralAcknowledged(ReferralEvent):
    """The receiving agency acknowledged a referral."""

    event_type: ClassVar[str] = "gn.mno.referral.acknowledged.v1"
    schema_name: ClassVar[str] = "event-referral-acknowledged"
    expected_status: ClassVar[ReferralStatus] = ReferralStatus.ACKNOWLEDGED


class ReferralAccepted(ReferralEvent):
    """The receiving agency accepted a referral."""

    event_type: ClassVar[str] = "gn.mno.referral.accepted.v1"
    schema_name: ClassVar[str] = "event-referral-accepted"
    expected_status: ClassVar[ReferralStatus] = ReferralStatus.ACCEPTED


class ReferralDeclined(ReferralEvent):
    """The receiving agency declined a referral (``decline_reason`` is set)."""

    event_type: ClassVar[str] = "gn.mno.referral.declined.v1"
    schema_name: ClassVar[str] = "event-referral-declined"
    expected_status: ClassVar[ReferralStatus] = ReferralStatus.DECLINED

    @model_validator(mode="after")
    def _has_reason(self) -> ReferralDeclined:
        if self.decline_reason is None:
            raise ValueError("decline_reason manquant / decline_reason missing")
        return self


class ReferralCompleted(ReferralEvent):
    """The receiving agency completed a referral, served or not (``outcome`` is set)."""

    event_type: ClassVar[str] = "gn.mno.referral.completed.v1"
    schema_name: ClassVar[str] = "event-referral-completed"
    expected_status: ClassVar[ReferralStatus] = ReferralStatus.COMPLETED

    @model_validator(mode="after")
    def _has_outcome(self) -> ReferralCompleted:
        if self.outcome is None:
            raise ValueError("outcome manquant / outcome missing")
        return self


class ReferralClosed(ReferralEvent):
    """A completed or declined referral was closed."""

    event_type: ClassVar[str] = "gn.mno.referral.closed.v1"
    schema_name: ClassVar[str] = "event-referral-closed"
    expected_status: ClassVar[ReferralStatus] = ReferralStatus.CLOSED


class ReferralCancelled(ReferralEvent):
    """The referring agency cancelled a referral."""

    event_type: ClassVar[str] = "gn.mno.referral.cancelled.v1"
    schema_name: ClassVar[str] = "event-referral-cancelled"
    expected_status: ClassVar[ReferralStatus] = ReferralStatus.CANCELLED


REFERRAL_EVENTS_BY_ACTION: Mapping[ReferralAction, type[ReferralEvent]] = {
    ReferralAction.SUBMIT: ReferralSubmitted,
    ReferralAction.ACKNOWLEDGE: ReferralAcknowledged,
    ReferralAction.ACCEPT: ReferralAccepted,
    ReferralAction.DECLINE: ReferralDeclined,
    ReferralAction.COMPLETE: ReferralCompleted,
    ReferralAction.CLOSE: ReferralClosed,
    ReferralAction.CANCEL: ReferralCancelled,
}


def event_type_for_action(action: ReferralAction) -> str:
    """CloudEvents ``type`` of the event an action produces."""
    return REFERRAL_EVENTS_BY_ACTION[action].event_type


class ConsentEvent(Consent, EventData):
    """A consent event's data is the consent record after the change (flat snapshot)."""

    expected_status: ClassVar[ConsentStatus]

    @model_validator(mode="after")
    def _status_matches(self) -> ConsentEvent:
        if self.status != self.expected_status:
            raise ValueError(
                f"statut attendu / expected status: {self.expected_status.value}, "
                f"reçu / got: {self.status.value}"
            )
        return self

    def ce_subject(self) -> str:
        return str(self.id)

    def partition_key(self) -> str:
        return self.subject_pseudonym


class ConsentGranted(ConsentEvent):
    """A consent was recorded."""

    event_type: ClassVar[str] = "gn.mno.consent.granted.v1"
    schema_name: ClassVar[str] = "event-consent-granted"
    expected_status: ClassVar[ConsentStatus] = ConsentStatus.GRANTED


class ConsentWithdrawn(ConsentEvent):
    """A consent was withdrawn: stop every future sharing, retries and replays included."""

    event_type: ClassVar[str] = "gn.mno.consent.withdrawn.v1"
    schema_name: ClassVar[str] = "event-consent-withdrawn"
    expected_status: ClassVar[ConsentStatus] = ConsentStatus.WITHDRAWN


class DuplicateAssistanceSuspected(EventData):
    """The linkage service found earlier referrals of the same person for the same services."""

    schema_version: SchemaVersion = Field(
        default=SCHEMA_VERSION, description="Contract version. / Version du contrat."
    )

    event_type: ClassVar[str] = "gn.mno.subject.duplicate_suspected.v1"
    schema_name: ClassVar[str] = "event-duplicate-assistance-suspected"

    referral_id: UUID = Field(description="New referral. / Nouveau référencement.")
    subject_pseudonym: Pseudonym = Field(
        description="Pseudonym of the person. / Pseudonyme de la personne."
    )
    matching_referral_ids: Annotated[list[UUID], UNIQUE, UNIQUE_ITEMS] = Field(
        min_length=1,
        max_length=50,
        description="Earlier referrals that look like the same person. / "
        "Référencements antérieurs qui semblent concerner la même personne.",
    )
    match_method: MatchMethod = Field(description="Match method. / Méthode d'appariement.")
    score: float = Field(
        ge=0.0, le=1.0, description="Match score (1 = certain). / Score d'appariement (1 = sûr)."
    )
    overlapping_services: Annotated[list[ServiceCategory], UNIQUE, UNIQUE_ITEMS] = Field(
        default_factory=list,
        max_length=len(ServiceCategory),
        description="Service categories requested in both. / "
        "Catégories de service demandées dans les deux.",
    )

    def ce_subject(self) -> str:
        return str(self.referral_id)

    def partition_key(self) -> str:
        return str(self.referral_id)


EVENT_CLASSES: tuple[type[EventData], ...] = (
    ReferralSubmitted,
    ReferralAcknowledged,
    ReferralAccepted,
    ReferralDeclined,
    ReferralCompleted,
    ReferralClosed,
    ReferralCancelled,
    ConsentGranted,
    ConsentWithdrawn,
    DuplicateAssistanceSuspected,
)
EVENT_TYPES: Mapping[str, type[EventData]] = {cls.event_type: cls for cls in EVENT_CLASSES}
"""CloudEvents ``type`` → data model."""


# --------------------------------------------------------------------------- envelope

_Token = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]+$", max_length=256)]


class CloudEvent(MnoModel):
    """CloudEvents 1.0 envelope (structured JSON mode; the same attributes as ``ce_`` headers)."""

    specversion: Literal["1.0"] = Field(
        default="1.0", description="CloudEvents version. / Version CloudEvents."
    )
    id: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]+$", max_length=128)] = Field(
        description="Event id, unique per source; consumers deduplicate on it. / "
        "Identifiant de l'événement, unique par source ; les consommateurs dédupliquent dessus.",
    )
    source: _Token = Field(
        description="URI-reference of the producer (e.g. /mno/gateway). / "
        "URI du producteur (ex. /mno/gateway).",
    )
    type: Annotated[str, StringConstraints(pattern=EVENT_TYPE_PATTERN, max_length=128)] = Field(
        description="Event type (e.g. gn.mno.referral.submitted.v1). / "
        "Type d'événement (ex. gn.mno.referral.submitted.v1).",
    )
    subject: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]+$", max_length=128)] | None = (
        Field(default=None, description="Id of the referral or consent. / Identifiant concerné.")
    )
    time: AwareDatetime = Field(description="When it happened. / Date de l'événement.")
    datacontenttype: Literal["application/json"] = Field(
        default="application/json", description="Media type of data. / Type de média de data."
    )
    dataschema: _Token | None = Field(
        default=None, description="JSON Schema of data. / Schéma JSON de data."
    )
    partitionkey: _Token | None = Field(
        default=None,
        description="Partitioning extension: the Kafka key. / "
        "Extension de partitionnement : la clé Kafka.",
    )
    traceparent: (
        Annotated[
            str,
            StringConstraints(
                pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$", max_length=55
            ),
        ]
        | None
    ) = Field(
        default=None,
        description="W3C trace context (distributed tracing extension). / "
        "Contexte de trace W3C (extension de traçage distribué).",
    )
    data: dict[str, Any] = Field(
        description="Typed event data (see the event's dataschema). / "
        "Données typées de l'événement (voir dataschema).",
    )


class UnknownEventType(ValueError):
    """An envelope whose ``type`` this version of the contract does not know."""

    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(
            f"Type d'événement inconnu : {event_type!r} / Unknown event type: {event_type!r}"
        )


class InvalidEventData(ValueError):
    """An envelope whose ``data`` does not match its declared type."""

    def __init__(self, event_type: str, error: ValidationError) -> None:
        self.event_type = event_type
        self.error = error
        super().__init__(
            f"Données invalides pour {event_type} / Invalid data for {event_type}: {error}"
        )


def dataschema_uri(event_cls: type[EventData]) -> str:
    """``$id`` of the exported JSON Schema of an event's data."""
    return f"{SCHEMA_BASE_URI}{event_cls.schema_name}.schema.json"


def to_cloudevent(
    event: EventData,
    *,
    source: str = DEFAULT_SOURCE,
    subject: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> CloudEvent:
    """Wrap a typed event in its envelope (new uuid4 id and current time unless given)."""
    return CloudEvent(
        id=event_id or str(uuid4()),
        source=source,
        type=event.event_type,
        subject=subject or event.ce_subject(),
        time=time or datetime.now(UTC),
        dataschema=dataschema_uri(type(event)),
        partitionkey=event.partition_key(),
        traceparent=traceparent,
        data=event.model_dump(mode="json"),
    )


def make_envelope(
    *,
    type: str,
    source: str = DEFAULT_SOURCE,
    subject: str | None = None,
    data: Mapping[str, Any],
    event_id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> dict[str, Any]:
    """A structured-mode CloudEvent as a JSON-ready dict, ``data`` checked against its type.

    Raises ``UnknownEventType`` for a type this contract does not define and
    ``InvalidEventData`` when ``data`` does not validate, so a bad event never reaches the outbox.
    """
    event_cls = EVENT_TYPES.get(type)
    if event_cls is None:
        raise UnknownEventType(type)
    try:
        event = event_cls.model_validate(data)
    except ValidationError as error:
        raise InvalidEventData(type, error) from error
    envelope = to_cloudevent(
        event,
        source=source,
        subject=subject,
        event_id=event_id,
        time=time,
        traceparent=traceparent,
    )
    return envelope.model_dump(mode="json", exclude_none=True)


def from_cloudevent(envelope: CloudEvent | Mapping[str, Any]) -> EventData:
    """The typed event inside an envelope; ``UnknownEventType`` or ``InvalidEventData`` else."""
    if not isinstance(envelope, CloudEvent):
        envelope = CloudEvent.model_validate(envelope)
    event_cls = EVENT_TYPES.get(envelope.type)
    if event_cls is None:
        raise UnknownEventType(envelope.type)
    try:
        return event_cls.model_validate(envelope.data)
    except ValidationError as error:
        raise InvalidEventData(envelope.type, error) from error
