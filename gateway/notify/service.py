"""Focal points and notices: who is told what, on which channel. Never commits.

A notice's context holds codes and ids only (kind, referral id, urgency, deadline): the text is
rendered from the French/English templates when it is sent, and never carries personal data.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies import repository as agency_repository
from gateway.audit.service import AuditRecord, append
from gateway.db.base import utcnow
from gateway.errors import Conflict, NotFound, ValidationFailed
from gateway.notify import repository
from gateway.notify.models import AgencyContact, Notice


class NoticeKind(StrEnum):
    REFERRAL_RECEIVED = "referral_received"
    REFERRAL_OVERDUE = "referral_overdue"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    DUPLICATE_SUSPECTED = "duplicate_suspected"
    WEBHOOK_DISABLED = "webhook_disabled"


ALL_KINDS = tuple(k.value for k in NoticeKind)
REFERRAL_SUBMITTED = "gn.mno.referral.submitted.v1"
CONSENT_WITHDRAWN = "gn.mno.consent.withdrawn.v1"
DUPLICATE_SUSPECTED = "gn.mno.subject.duplicate_suspected.v1"

EMAIL = re.compile(r"^[^@\s<>\"',;:]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){0,8}$")
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164


@dataclass(frozen=True)
class NoticeRequest:
    """What to tell an agency's focal points; ``dedup_key`` makes it idempotent."""

    agency: str
    kind: NoticeKind
    dedup_key: str
    context: Mapping[str, Any]


def _text(value: object, limit: int = 64) -> str | None:
    return str(value)[:limit] if value is not None else None


def notice_for_event(agency: str, envelope: Mapping[str, Any]) -> NoticeRequest | None:
    """The notice an inbox event calls for, if any (ids and codes only)."""
    event_type = envelope.get("type")
    data = envelope.get("data")
    if not isinstance(data, Mapping):
        return None
    event_id = str(envelope.get("id"))
    if event_type == REFERRAL_SUBMITTED and data.get("receiving_agency") == agency:
        return NoticeRequest(
            agency,
            NoticeKind.REFERRAL_RECEIVED,
            f"event:{event_id}",
            {
                "referral_id": _text(data.get("id")),
                "referring_agency": _text(data.get("referring_agency"), 32),
                "urgency": _text(data.get("urgency"), 16),
                "acknowledge_by": _text(data.get("acknowledge_by")),
            },
        )
    if event_type == CONSENT_WITHDRAWN:
        return NoticeRequest(
            agency,
            NoticeKind.CONSENT_WITHDRAWN,
            f"event:{event_id}",
            {
                "consent_id": _text(data.get("id")),
                "withdrawal_reason": _text(data.get("withdrawal_reason"), 32),
            },
        )
    if event_type == DUPLICATE_SUSPECTED:
        matches = data.get("matching_referral_ids")
        return NoticeRequest(
            agency,
            NoticeKind.DUPLICATE_SUSPECTED,
            f"event:{event_id}",
            {
                "referral_id": _text(data.get("referral_id")),
                "matches": len(matches) if isinstance(matches, list) else 0,
            },
        )
    return None


def plan_notices(
    request: NoticeRequest,
    contacts: Iterable[AgencyContact],
    now: datetime,
    already: AbstractSet[tuple[str, str]] = frozenset(),
) -> list[Notice]:
    """One pending notice per focal point of the agency that asked for this kind."""
    notices = []
    for contact in contacts:
        if contact.agency != request.agency or request.kind.value not in contact.events:
            continue
        if (contact.id, request.dedup_key) in already:
            continue
        notices.append(
            Notice(
                contact_id=contact.id,
                agency=request.agency,
                kind=request.kind.value,
                dedup_key=request.dedup_key,
                context=dict(request.context),
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return notices


async def queue_notices(session: AsyncSession, requests: Sequence[NoticeRequest]) -> int:
    """Queue the notices not queued yet (same contact and dedup key); returns how many."""
    if not requests:
        return 0
    contacts = await repository.contacts_of(session, (r.agency for r in requests))
    already = await repository.existing_dedup_keys(session, (r.dedup_key for r in requests))
    now = utcnow()
    count = 0
    for request in requests:
        for notice in plan_notices(request, contacts, now, already):
            repository.add_notice(session, notice)
            already.add((notice.contact_id, notice.dedup_key))
            count += 1
    return count


def check_contact(channel: str, address: str, events: Sequence[str] | None) -> list[str]:
    if channel == "email":
        valid = bool(EMAIL.match(address))
    elif channel == "sms":
        valid = bool(PHONE.match(address))
    else:
        raise ValidationFailed(
            "Canal inconnu : email ou sms.",
            "Unknown channel: email or sms.",
            code="invalid_channel",
        )
    if not valid:
        raise ValidationFailed(
            "Adresse invalide (e-mail, ou numéro au format international +224…).",
            "Invalid address (e-mail, or an international number +224…).",
            code="invalid_contact_address",
        )
    chosen = list(dict.fromkeys(events)) if events else list(ALL_KINDS)
    unknown = [e for e in chosen if e not in ALL_KINDS]
    if unknown:
        raise ValidationFailed(
            f"Notifications inconnues : {', '.join(unknown)} (possibles : {', '.join(ALL_KINDS)}).",
            f"Unknown notices: {', '.join(unknown)} (allowed: {', '.join(ALL_KINDS)}).",
            code="invalid_notice_kinds",
        )
    return chosen


async def add_contact(
    session: AsyncSession,
    *,
    agency: str,
    channel: str,
    address: str,
    events: Sequence[str] | None = None,
    client_id: str | None = None,
) -> AgencyContact:
    """Register a focal point (a role address, not a person's own) of an agency."""
    chosen = check_contact(channel, address, events)
    if await agency_repository.get_agency(session, agency) is None:
        raise NotFound(
            f"Agence inconnue : {agency}", f"Unknown agency: {agency}", code="agency_not_found"
        )
    if await repository.find_contact(session, agency, channel, address) is not None:
        raise Conflict(
            "Ce point focal existe déjà pour cette agence.",
            "This focal point already exists for this agency.",
            code="contact_exists",
        )
    contact = AgencyContact(
        id=str(uuid.uuid4()),
        agency=agency,
        channel=channel,
        address=address,
        events=chosen,
        created_at=utcnow(),
    )
    repository.add_contact(session, contact)
    # The address itself stays out of the audit log.
    await append(
        session,
        AuditRecord(
            action="contact.add",
            object_type="agency_contact",
            object_id=contact.id,
            client_id=client_id,
            agency=agency,
            detail=channel,
        ),
    )
    return contact


async def list_contacts(session: AsyncSession, agency: str) -> Sequence[AgencyContact]:
    return await repository.agency_contacts(session, agency)


async def remove_contact(
    session: AsyncSession, agency: str, contact_id: str, client_id: str | None = None
) -> None:
    contact = await repository.get_contact(session, contact_id)
    if contact is None or contact.agency != agency:
        raise NotFound(
            f"Point focal introuvable : {contact_id}",
            f"Focal point not found: {contact_id}",
            code="contact_not_found",
        )
    await repository.delete_contact(session, contact)
    await append(
        session,
        AuditRecord(
            action="contact.remove",
            object_type="agency_contact",
            object_id=contact_id,
            client_id=client_id,
            agency=agency,
        ),
    )


async def queue_overdue_notices(session: AsyncSession, now: datetime, page: int = 500) -> int:
    """One notice per open referral and missed SOP deadline, however often this runs."""
    queued = 0
    after = ""
    while True:
        overdue = await repository.overdue_referrals(session, now, after, page)
        if not overdue:
            return queued
        after = overdue[-1].referral_id
        queued += await queue_notices(
            session,
            [
                NoticeRequest(
                    o.receiving_agency,
                    NoticeKind.REFERRAL_OVERDUE,
                    f"overdue:{o.deadline}:{o.referral_id}",
                    {
                        "referral_id": o.referral_id,
                        "deadline": o.deadline,
                        "due_at": o.due_at.isoformat(),
                        "urgency": o.urgency,
                    },
                )
                for o in overdue
            ],
        )
