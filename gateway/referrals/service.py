"""Referral rules: submission with idempotency, party-only reads, the SOP workflow.

Every function works inside the caller's transaction and never commits. Each change writes
its CloudEvent to the outbox and an audit entry in that same transaction.

Reads pass the MoU policy decision point: the referring agency reads back all it sent (but
not the receiver's JWE); the receiver reads only the fields of the data categories the policy
permits it, given the subject's consents. Submission itself is never refused for lack of
consent: what each party may then read or receive is what the policy permits.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies import repository as agency_repository
from gateway.audit.service import AuditRecord, append
from gateway.auth.dependencies import Principal
from gateway.consent.service import check_named_consent
from gateway.db.base import utcnow
from gateway.directory.service import check_referral_target
from gateway.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from gateway.events.topics import REFERRAL_EVENTS
from gateway.linkage.rekey import rekey_token
from gateway.linkage.service import stage_referral
from gateway.outbox.service import enqueue
from gateway.policy.engine import Decision
from gateway.policy.service import PolicyDecisionPoint, decision_audit
from gateway.referrals import repository
from gateway.referrals.events import referral_event
from gateway.referrals.models import ReferralHistoryRow, ReferralRow
from gateway.referrals.workflow import Role, next_status
from schemas.categories import redact_referral
from schemas.codes import ReferralAction, ReferralStatus, sop_deadlines
from schemas.referral import Referral, ReferralCreate, ReferralTransition


def _not_found(referral_id: str) -> NotFound:
    # The same answer whether the referral does not exist or belongs to other agencies:
    # a third agency must not learn that an id exists.
    return NotFound(
        f"Référencement introuvable : {referral_id}",
        f"Referral not found: {referral_id}",
        code="referral_not_found",
    )


def request_hash(body: ReferralCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def to_model(
    row: ReferralRow, history: list[ReferralHistoryRow], *, with_protected: bool
) -> Referral:
    stored = json.loads(row.body)
    return Referral.model_validate(
        {
            **stored,
            "protected": row.protected if with_protected else None,
            "id": row.id,
            "referring_agency": row.referring_agency,
            "status": row.status,
            "history": [
                {
                    "status": h.status,
                    "action": h.action,
                    "at": h.at,
                    "actor_agency": h.actor_agency,
                    "actor_client": h.actor_client,
                    "reason_code": h.reason_code,
                    "outcome": h.outcome,
                }
                for h in history
            ],
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "acknowledge_by": row.acknowledge_by,
            "respond_by": row.respond_by,
            "decline_reason": row.decline_reason,
            "outcome": row.outcome,
            "version": row.version,
        }
    )


def role_of(row: ReferralRow, agency: str) -> Role | None:
    if row.receiving_agency == agency:
        return "receiver"
    if row.referring_agency == agency:
        return "referrer"
    return None


@dataclass(frozen=True)
class Submitted:
    referral: Referral
    replayed: bool


async def submit_referral(
    session: AsyncSession,
    principal: Principal,
    body: ReferralCreate,
    *,
    idempotency_key: str,
    linkage_secret: bytes,
) -> Submitted:
    """Record a new referral (or return the one this idempotency key already created)."""
    digest = request_hash(body)
    existing = await repository.by_idempotency_key(session, principal.agency, idempotency_key)
    if existing is not None:
        return await _replay(session, existing, digest, principal)

    receiver = await agency_repository.get_agency(session, body.receiving_agency)
    if receiver is None or not receiver.active:
        raise ValidationFailed(
            f"Agence destinataire inconnue ou inactive : {body.receiving_agency}",
            f"Unknown or inactive receiving agency: {body.receiving_agency}",
            code="unknown_receiving_agency",
            errors=[{"field": "body.receiving_agency", "type": "unknown", "message": "unknown"}],
        )
    await check_referral_target(
        session, body.receiving_agency, body.receiving_service, body.subject, body.case_category
    )
    if body.consent_id is not None:
        await check_named_consent(
            session,
            str(body.consent_id),
            subject_key=rekey_token(linkage_secret, body.subject.pseudonym),
            receiving_agency=body.receiving_agency,
            receiving_kind=receiver.kind,
        )
    if body.receiving_agency == principal.agency:
        raise BadRequest(
            "Une agence ne peut pas se référer un cas à elle-même.",
            "An agency cannot refer a case to itself.",
            code="self_referral",
        )

    now = utcnow()
    acknowledge_by, respond_by = sop_deadlines(body.urgency, now)
    # The gateway keeps only its own re-keying of the agencies' linkage tokens.
    subject = body.subject.model_copy(
        update={
            "pseudonym": rekey_token(linkage_secret, body.subject.pseudonym),
            "tokens": [rekey_token(linkage_secret, t) for t in body.subject.tokens],
            "bloom": None,  # kept only re-keyed (permuted), in the linkage ledger
        }
    )
    stored = body.model_copy(update={"subject": subject, "protected": None})
    row = ReferralRow(
        id=str(uuid.uuid4()),
        referring_agency=principal.agency,
        referring_client=principal.client_id,
        receiving_agency=body.receiving_agency,
        status=ReferralStatus.SUBMITTED.value,
        urgency=body.urgency.value,
        subject_key=subject.pseudonym,
        body=stored.model_dump_json(exclude={"protected"}),
        protected=body.protected,
        created_at=now,
        updated_at=now,
        acknowledge_by=acknowledge_by,
        respond_by=respond_by,
        version=1,
        idempotency_key=idempotency_key,
        request_hash=digest,
    )
    history = ReferralHistoryRow(
        referral_id=row.id,
        seq=1,
        action=ReferralAction.SUBMIT.value,
        status=row.status,
        at=now,
        actor_agency=principal.agency,
        actor_client=principal.client_id,
    )
    try:
        async with session.begin_nested():
            repository.add(session, row)
            await session.flush()  # the row before its history (no ORM relationship orders them)
            repository.add(session, history)
            await session.flush()
    except IntegrityError:
        # A concurrent request with the same idempotency key won the race.
        existing = await repository.by_idempotency_key(session, principal.agency, idempotency_key)
        if existing is None:
            raise
        return await _replay(session, existing, digest, principal)

    referral = to_model(row, [history], with_protected=True)
    # Matching against the ledger is the linkage worker's (consumers/linkage), off this path.
    await stage_referral(session, referral, body.subject, secret=linkage_secret)
    _publish(session, referral, ReferralAction.SUBMIT)
    await append(session, _audit(principal, "referral.submit", row.id))
    return Submitted(referral, replayed=False)


async def _replay(
    session: AsyncSession, row: ReferralRow, digest: str, principal: Principal
) -> Submitted:
    if row.request_hash != digest:
        raise Conflict(
            "Cette clé d'idempotence a déjà servi pour un autre contenu.",
            "This Idempotency-Key was already used with a different body.",
            code="idempotency_key_reused",
        )
    history = await repository.history(session, [row.id])
    await append(session, _audit(principal, "referral.submit.replay", row.id))
    return Submitted(to_model(row, history, with_protected=True), replayed=True)


def _audit(
    principal: Principal, action: str, object_id: str | None, decision: str = "ok"
) -> AuditRecord:
    return AuditRecord(
        action=action,
        object_type="referral",
        object_id=object_id,
        decision=decision,
        client_id=principal.client_id,
        agency=principal.agency,
    )


def _publish(session: AsyncSession, referral: Referral, action: ReferralAction) -> None:
    envelope = referral_event(referral, action)
    enqueue(session, topic=REFERRAL_EVENTS, key=str(referral.id), envelope=envelope)


@dataclass(frozen=True)
class ReferralView:
    """A referral as one agency may read it: only the fields of the permitted categories."""

    body: dict[str, Any]
    version: int
    decision: Decision


def _redacted(referral: Referral, decision: Decision) -> dict[str, Any]:
    return redact_referral(referral.model_dump(mode="json"), decision.permitted_categories)


def _policy_denied(referral_id: str, decision: Decision) -> Forbidden:
    return Forbidden(
        "Le protocole d'accord ne vous permet de lire aucune donnée de ce référencement "
        "(consentement absent, retiré ou insuffisant).",
        "The MoU permits you to read no data of this referral "
        "(consent missing, withdrawn or insufficient).",
        code="policy_denied",
        errors=[
            {"field": r.category or "", "type": r.code, "message": r.en} for r in decision.reasons
        ],
    )


async def get_referral(
    session: AsyncSession, principal: Principal, referral_id: str, point: PolicyDecisionPoint
) -> ReferralView:
    """A referral for one of its two parties, redacted to what the policy permits them."""
    row = await repository.get(session, referral_id)
    role = role_of(row, principal.agency) if row is not None else None
    if row is None or role is None:
        await append(session, _audit(principal, "referral.read", referral_id, "deny"))
        raise _not_found(referral_id)
    decision = (await point.decide_referrals(session, [row], principal.agency))[row.id]
    await append(session, _read_audit(principal, "referral.read", row.id, decision, point))
    if not decision.permitted:
        raise _policy_denied(referral_id, decision)
    history = await repository.history(session, [row.id])
    referral = to_model(row, history, with_protected=role == "receiver")
    return ReferralView(_redacted(referral, decision), row.version, decision)


def _read_audit(
    principal: Principal,
    action: str,
    referral_id: str,
    decision: Decision,
    point: PolicyDecisionPoint,
) -> AuditRecord:
    return decision_audit(
        decision,
        tag=point.tag,
        action=action,
        object_type="referral",
        object_id=referral_id,
        agency=principal.agency,
        client_id=principal.client_id,
    )


async def transition_referral(
    session: AsyncSession,
    principal: Principal,
    referral_id: str,
    step: ReferralTransition,
    *,
    if_match: int | None,
    point: PolicyDecisionPoint,
) -> ReferralView:
    """Apply one SOP step; ``if_match`` (the ETag version) guards against lost updates.

    The answer is the referral as the actor may read it; when the policy lets it read nothing,
    only the echo of its own step (id, status, version).
    """
    row = await repository.get(session, referral_id, for_update=True)
    role = role_of(row, principal.agency) if row is not None else None
    if row is None or role is None:
        await append(
            session, _audit(principal, f"referral.{step.action.value}", referral_id, "deny")
        )
        raise _not_found(referral_id)
    if if_match is not None and if_match != row.version:
        raise PreconditionFailed(
            f"Le référencement a changé (version {row.version}, If-Match {if_match}) : "
            "relisez-le puis réessayez.",
            f"The referral changed (version {row.version}, If-Match {if_match}): "
            "read it again and retry.",
            code="version_mismatch",
        )
    target = next_status(ReferralStatus(row.status), step.action, role)
    now = utcnow()
    row.status = target.value
    row.updated_at = now
    row.version += 1
    if step.action == ReferralAction.ACKNOWLEDGE:
        row.acknowledged_at = now
    if step.action in (ReferralAction.ACCEPT, ReferralAction.DECLINE):
        row.responded_at = now
        row.acknowledged_at = row.acknowledged_at or now
    if step.reason_code is not None:
        row.decline_reason = step.reason_code.value
    if step.outcome is not None:
        row.outcome = step.outcome.value
    history = await repository.history(session, [row.id])
    entry = ReferralHistoryRow(
        referral_id=row.id,
        seq=len(history) + 1,
        action=step.action.value,
        status=target.value,
        at=now,
        actor_agency=principal.agency,
        actor_client=principal.client_id,
        reason_code=step.reason_code.value if step.reason_code else None,
        outcome=step.outcome.value if step.outcome else None,
    )
    repository.add(session, entry)
    referral = to_model(row, [*history, entry], with_protected=role == "receiver")
    _publish(session, to_model(row, [*history, entry], with_protected=True), step.action)
    await append(session, _audit(principal, f"referral.{step.action.value}", row.id))
    decision = (await point.decide_referrals(session, [row], principal.agency))[row.id]
    await append(session, _read_audit(principal, "referral.read", row.id, decision, point))
    if not decision.permitted:
        echo = {"id": row.id, "status": row.status, "version": row.version}
        return ReferralView(echo, row.version, decision)
    return ReferralView(_redacted(referral, decision), row.version, decision)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(at: datetime, referral_id: str) -> str:
    raw = f"{at.isoformat()}|{referral_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, referral_id = raw.split("|", 1)
        parsed = datetime.fromisoformat(at)
        uuid.UUID(referral_id)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, referral_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "Curseur invalide : reprenez la valeur next_cursor d'une réponse précédente.",
            "Invalid cursor: use the next_cursor value of a previous response.",
            code="invalid_cursor",
            errors=[{"field": "query.cursor", "type": "invalid", "message": "invalid cursor"}],
        ) from exc


async def list_referrals(
    session: AsyncSession,
    principal: Principal,
    filters: repository.ListFilter,
    point: PolicyDecisionPoint,
) -> Page:
    """A page of the agency's referrals, each redacted; those it may read nothing of omitted."""
    rows = await repository.list_for_agency(session, filters)
    histories = await repository.history(session, [r.id for r in rows])
    by_id: dict[str, list[ReferralHistoryRow]] = {}
    for h in histories:
        by_id.setdefault(h.referral_id, []).append(h)
    decisions = await point.decide_referrals(session, rows, principal.agency)
    items = []
    for r in rows:
        decision = decisions[r.id]
        if not decision.permitted:
            await append(session, _read_audit(principal, "referral.list", r.id, decision, point))
            continue
        referral = to_model(
            r, by_id.get(r.id, []), with_protected=r.receiving_agency == principal.agency
        )
        items.append(_redacted(referral, decision))
    await append(
        session,
        AuditRecord(
            action="referral.list",
            object_type="referral",
            object_id=None,
            decision="permit" if items else "ok",
            client_id=principal.client_id,
            agency=principal.agency,
            detail=f"items:{len(items)} denied:{len(rows) - len(items)}",
            policy_version=point.tag,
        ),
    )
    next_cursor = (
        encode_cursor(rows[-1].updated_at, rows[-1].id) if len(rows) == filters.limit else None
    )
    return Page(items, next_cursor)
