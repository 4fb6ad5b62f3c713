"""Break-glass: emergency access to a person's data without consent, as the MoU allows it.

Only clients with the ``break_glass`` scope, of an agency holding a role the MoU names, for a
purpose it names; time-limited (24 h by default, never more than the MoU's maximum); stated
reason (a code and a short non-identifying justification); always audited; and announced to the
agency's data-protection focal point by a ``gn.mno.breakglass.used.v1`` event (outbox → router →
the agency's inbox → the notifier). The grant feeds the policy decision point like a consent:
it bumps the subject's change counter, so every cache sees it at once.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.service import AuditRecord, append
from gateway.auth.dependencies import Principal
from gateway.breakglass import repository
from gateway.breakglass.models import BreakGlassGrantRow
from gateway.consent import repository as consent_repository
from gateway.consent.service import resolve_subject_key
from gateway.db.base import utcnow
from gateway.errors import Forbidden, ValidationFailed
from gateway.events.topics import CONSENT_EVENTS
from gateway.outbox.service import enqueue
from gateway.policy.labels import PURPOSE_LABELS, en, fr
from gateway.policy.service import PolicyDecisionPoint
from schemas.codes import ConsentPurpose
from schemas.common import MnoModel, Pseudonym

EVENT_TYPE = "gn.mno.breakglass.used.v1"
SOURCE = "/mno/gateway/break-glass"
DEFAULT_HOURS = 24

# Digits runs (phone, ID numbers), e-mail addresses: a justification names no one.
_IDENTIFYING = re.compile(r"\d{6,}|\d{2}[ .-]\d{2}[ .-]\d{2}|@|\+\d")


class BreakGlassReason(StrEnum):
    """Why consent cannot be obtained now."""

    LIFE_THREATENING_EMERGENCY = "life_threatening_emergency"
    SUBJECT_INCAPACITATED = "subject_incapacitated"
    IMMEDIATE_PROTECTION_RISK = "immediate_protection_risk"
    URGENT_MEDICAL_CARE = "urgent_medical_care"


REASON_LABELS: dict[str, tuple[str, str]] = {
    "life_threatening_emergency": ("urgence vitale", "life-threatening emergency"),
    "subject_incapacitated": (
        "personne hors d'état de consentir (inconsciente…)",
        "person unable to consent (unconscious…)",
    ),
    "immediate_protection_risk": ("danger immédiat pour la personne", "immediate danger"),
    "urgent_medical_care": ("soins médicaux urgents", "urgent medical care"),
}


class Justification(MnoModel):
    """A coded reason and a short text that names no one."""

    reason_code: BreakGlassReason = Field(description="Coded reason. / Motif codé.")
    text: str = Field(
        min_length=10,
        max_length=200,
        description="Short, non-identifying justification (no name, number or address). / "
        "Justification courte et non identifiante (ni nom, ni numéro, ni adresse).",
    )

    @field_validator("text")
    @classmethod
    def _names_no_one(cls, value: str) -> str:
        if _IDENTIFYING.search(value):
            raise ValueError(
                "la justification ne doit contenir ni numéro ni adresse / "
                "the justification must not contain numbers or addresses"
            )
        return value.strip()


class BreakGlassRequest(MnoModel):
    """The body of ``POST /v1/break-glass``."""

    subject: Pseudonym = Field(
        description="Pseudonym of the person (yours, or the gateway's from a referral). / "
        "Pseudonyme de la personne."
    )
    purpose: ConsentPurpose = Field(description="For what. / Finalité.")
    justification: Justification
    duration_hours: int | None = Field(
        default=None,
        ge=1,
        le=72,
        description="Default 24, at most what the MoU allows. / 24 par défaut.",
    )


class BreakGlassGrant(MnoModel):
    """An emergency access granted to the caller's agency."""

    id: uuid.UUID = Field(description="Grant id. / Identifiant de l'accès.")
    agency: str = Field(description="Agency. / Agence.")
    subject_pseudonym: Pseudonym = Field(description="The gateway's pseudonym of the person.")
    purpose: ConsentPurpose
    categories: list[str] = Field(description="What it opens. / Catégories ouvertes.")
    reason_code: BreakGlassReason
    valid_from: datetime
    valid_until: datetime
    policy_version: str = Field(description="MoU version applied. / Version appliquée.")
    notified: list[str] = Field(description="Who is told. / Qui est notifié.")


def _refuse(fr_text: str, en_text: str, code: str) -> Forbidden:
    return Forbidden(fr_text, en_text, code=code)


def _view(row: BreakGlassGrantRow, point: PolicyDecisionPoint) -> BreakGlassGrant:
    policy = point.policy
    glass = policy.source.break_glass
    return BreakGlassGrant(
        id=uuid.UUID(row.id),
        agency=row.agency,
        subject_pseudonym=row.subject_key,
        purpose=ConsentPurpose(row.purpose),
        categories=sorted(policy.break_glass_categories),
        reason_code=BreakGlassReason(row.reason_code),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        policy_version=row.policy_version,
        notified=list(glass.notify) if glass else [],
    )


async def open_break_glass(
    session: AsyncSession,
    principal: Principal,
    point: PolicyDecisionPoint,
    body: BreakGlassRequest,
    *,
    linkage_secret: bytes,
) -> BreakGlassGrant:
    """Grant emergency access if the MoU allows it for this agency and purpose; audited."""
    policy = point.policy
    purpose = body.purpose.value
    kinds = await consent_repository.agency_kinds(session, [principal.agency])
    roles = policy.roles_of(principal.agency, kinds.get(principal.agency, ""))
    refusal: Forbidden | None = None
    if not policy.break_glass_enabled:
        refusal = _refuse(
            "L'accès d'urgence est désactivé par le protocole d'accord.",
            "Break-glass access is disabled by the MoU.",
            "break_glass_disabled",
        )
    elif roles.isdisjoint(policy.break_glass_roles):
        refusal = _refuse(
            "Le protocole d'accord ne donne l'accès d'urgence qu'aux rôles : "
            f"{', '.join(sorted(policy.break_glass_roles))}.",
            "The MoU grants break-glass access only to the roles: "
            f"{', '.join(sorted(policy.break_glass_roles))}.",
            "break_glass_role_not_allowed",
        )
    elif purpose not in policy.break_glass_purposes:
        refusal = _refuse(
            f"Pas d'accès d'urgence pour la finalité « {fr(PURPOSE_LABELS, purpose)} ».",
            f"No break-glass access for purpose '{en(PURPOSE_LABELS, purpose)}'.",
            "break_glass_purpose_not_allowed",
        )
    if refusal is not None:
        await append(
            session,
            AuditRecord(
                action="break_glass.open",
                object_type="break_glass",
                object_id=None,
                decision="deny",
                client_id=principal.client_id,
                agency=principal.agency,
                detail=f"{refusal.code}:{purpose}",
                policy_version=point.tag,
            ),
        )
        raise refusal
    maximum = policy.break_glass_max
    hours = body.duration_hours or min(DEFAULT_HOURS, int(maximum.total_seconds() // 3600))
    if timedelta(hours=hours) > maximum:
        raise ValidationFailed(
            f"Durée trop longue : au plus {int(maximum.total_seconds() // 3600)} h.",
            f"Duration too long: at most {int(maximum.total_seconds() // 3600)} h.",
            code="break_glass_too_long",
            errors=[{"field": "body.duration_hours", "type": "too_long", "message": "too long"}],
        )
    now = utcnow()
    subject_key = await resolve_subject_key(session, linkage_secret, body.subject)
    row = BreakGlassGrantRow(
        id=str(uuid.uuid4()),
        agency=principal.agency,
        client_id=principal.client_id,
        subject_key=subject_key,
        purpose=purpose,
        reason_code=body.justification.reason_code.value,
        justification=body.justification.text,
        valid_from=now,
        valid_until=now + timedelta(hours=hours),
        policy_version=point.tag,
        created_at=now,
    )
    repository.add(session, row)
    await session.flush()
    await consent_repository.bump_version(session, subject_key, now)
    grant = _view(row, point)
    enqueue(session, topic=CONSENT_EVENTS, key=subject_key, envelope=_event(row, grant))
    await append(
        session,
        AuditRecord(
            action="break_glass.open",
            object_type="break_glass",
            object_id=row.id,
            decision="permit",
            client_id=principal.client_id,
            agency=principal.agency,
            detail=f"{row.reason_code}:{purpose}:{hours}h:{subject_key[:12]}",
            policy_version=point.tag,
        ),
    )
    return grant


def _event(row: BreakGlassGrantRow, grant: BreakGlassGrant) -> dict[str, Any]:
    """``BreakGlassUsed``: structured CloudEvent, for the agency's data-protection focal point."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": SOURCE,
        "type": EVENT_TYPE,
        "subject": row.id,
        "time": row.created_at.isoformat(),
        "datacontenttype": "application/json",
        "partitionkey": row.subject_key,
        "data": {
            "grant_id": row.id,
            "agency": row.agency,
            "client_id": row.client_id,
            "subject_pseudonym": row.subject_key,
            "purpose": row.purpose,
            "categories": grant.categories,
            "reason_code": row.reason_code,
            "justification": row.justification,
            "valid_from": row.valid_from.isoformat(),
            "valid_until": row.valid_until.isoformat(),
            "policy_version": row.policy_version,
            "notify": list(grant.notified),
        },
    }


async def grants_of_agency(
    session: AsyncSession, principal: Principal, point: PolicyDecisionPoint, *, days: int = 30
) -> list[BreakGlassGrant]:
    rows = await repository.for_agency(
        session, principal.agency, since=utcnow() - timedelta(days=days)
    )
    return [_view(row, point) for row in rows]
