"""Consent registry rules: record, read (legitimate link only), withdraw, check, purge receipts.

Every function works in the caller's transaction and never commits. A recorded or withdrawn
consent bumps the subject's change counter and writes its CloudEvent to the outbox in the same
transaction; the endpoint drops the in-process caches after commit. Subjects are stored under
the gateway's re-keyed pseudonym, exactly as referrals are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.service import AuditRecord, append
from gateway.auth.dependencies import Principal
from gateway.consent import repository
from gateway.consent.models import ConsentRow, ConsentSubject, PurgeReceipt
from gateway.db.base import utcnow
from gateway.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gateway.events.topics import CONSENT_EVENTS
from gateway.linkage.rekey import rekey_token
from gateway.outbox.service import enqueue
from gateway.policy.engine import AgencyRef, Decision
from gateway.policy.service import (
    PolicyDecisionPoint,
    decision_audit,
    join_codes,
    split_codes,
)
from gateway.referrals.models import ReferralRow
from schemas.codes import (
    AgencyKind,
    ConsentPurpose,
    ConsentStatus,
    DataCategory,
)
from schemas.common import AgencyCode, MnoModel, Pseudonym
from schemas.consent import Consent, ConsentCreate, ConsentWithdraw
from schemas.events import ConsentGranted, ConsentWithdrawn, make_envelope

SOURCE = "/mno/gateway/consents"
_KINDS = {kind.value for kind in AgencyKind}
# A clock a little ahead of ours is not a withdrawal "in the future".
_CLOCK_SKEW = timedelta(minutes=5)


def _not_found(consent_id: str) -> NotFound:
    # Same answer whether the consent does not exist or the caller has no link to its subject.
    return NotFound(
        f"Consentement introuvable : {consent_id}",
        f"Consent not found: {consent_id}",
        code="consent_not_found",
    )


def to_model(row: ConsentRow) -> Consent:
    """The registry's view of a consent; ``subject_pseudonym`` is the gateway's subject key."""
    return Consent.model_validate(
        {
            "id": row.id,
            "subject_pseudonym": row.subject_key,
            "collecting_agency": row.collecting_agency,
            "purposes": split_codes(row.purposes),
            "data_categories": split_codes(row.data_categories),
            "recipients": split_codes(row.recipients),
            "valid_from": row.valid_from,
            "valid_until": row.valid_until,
            "method": row.method,
            "evidence_reference": row.evidence_reference,
            "subject_is_minor": row.subject_is_minor,
            "guardian_consent": row.guardian_consent,
            "child_assent": row.child_assent,
            "status": row.status,
            "recorded_at": row.recorded_at,
            "withdrawn_at": row.withdrawn_at,
            "withdrawal_reason": row.withdrawal_reason,
        }
    )


async def resolve_subject_key(session: AsyncSession, secret: bytes, pseudonym: str) -> str:
    """The gateway's key of a subject given by an agency.

    Agencies send their own pseudonym, which the gateway re-keys. An agency that only knows the
    subject from a referral or a consent the gateway delivered holds the gateway's key already:
    it is accepted as such when the registry knows it and does not know its re-keying.
    """
    rekeyed = rekey_token(secret, pseudonym)
    known = set(
        (
            await session.execute(
                select(ConsentSubject.subject_key).where(
                    ConsentSubject.subject_key.in_((rekeyed, pseudonym))
                )
            )
        ).scalars()
    )
    known |= set(
        (
            await session.execute(
                select(ReferralRow.subject_key)
                .where(ReferralRow.subject_key.in_((rekeyed, pseudonym)))
                .limit(2)
            )
        ).scalars()
    )
    if pseudonym in known and rekeyed not in known:
        return pseudonym
    return rekeyed


def _audit(
    principal: Principal, action: str, object_id: str | None, decision: str = "ok", **kw: str
) -> AuditRecord:
    return AuditRecord(
        action=action,
        object_type="consent",
        object_id=object_id,
        decision=decision,
        client_id=principal.client_id,
        agency=principal.agency,
        detail=kw.get("detail"),
        policy_version=kw.get("policy_version"),
    )


def _publish(session: AsyncSession, consent: Consent, event_type: str) -> None:
    envelope = make_envelope(
        type=event_type,
        source=SOURCE,
        subject=str(consent.id),
        data=consent.model_dump(mode="json"),
    )
    enqueue(session, topic=CONSENT_EVENTS, key=consent.subject_pseudonym, envelope=envelope)


async def record_consent(
    session: AsyncSession,
    principal: Principal,
    body: ConsentCreate,
    *,
    linkage_secret: bytes,
    consent_id: uuid.UUID | None = None,
) -> Consent:
    """Record a consent collected by the caller's agency; emits ``ConsentGranted``."""
    if body.collecting_agency != principal.agency:
        raise Forbidden(
            "Une agence n'enregistre que les consentements qu'elle a recueillis "
            f"(collecting_agency doit être {principal.agency}).",
            "An agency records only the consents it collected "
            f"(collecting_agency must be {principal.agency}).",
            code="not_collecting_agency",
        )
    codes = [str(r) for r in body.recipients if str(r) not in _KINDS]
    known = await repository.agency_kinds(session, codes)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationFailed(
            f"Agences destinataires inconnues : {', '.join(unknown)}",
            f"Unknown recipient agencies: {', '.join(unknown)}",
            code="unknown_recipient_agency",
            errors=[{"field": "body.recipients", "type": "unknown", "message": c} for c in unknown],
        )
    if body.valid_until is not None and body.valid_until <= utcnow():
        # An already-expired consent would never permit anything: refuse it at the door.
        raise ValidationFailed(
            "valid_until est déjà passé : un consentement expiré ne peut pas être enregistré.",
            "valid_until is already past: an expired consent cannot be recorded.",
            code="consent_already_expired",
            errors=[
                {
                    "field": "body.valid_until",
                    "type": "past",
                    "message": "doit être dans le futur / must be in the future",
                }
            ],
        )
    new_id = str(consent_id or uuid.uuid4())
    if consent_id is not None and await repository.get(session, new_id) is not None:
        raise Conflict(
            f"Ce consentement existe déjà : {new_id}",
            f"This consent already exists: {new_id}",
            code="consent_exists",
        )
    now = utcnow()
    subject_key = rekey_token(linkage_secret, body.subject_pseudonym)
    row = ConsentRow(
        id=new_id,
        subject_key=subject_key,
        collecting_agency=body.collecting_agency,
        recorded_by_client=principal.client_id,
        purposes=join_codes(body.purposes),
        data_categories=join_codes(body.data_categories),
        recipients=join_codes(body.recipients),
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        method=body.method.value,
        evidence_reference=body.evidence_reference,
        subject_is_minor=body.subject_is_minor,
        guardian_consent=body.guardian_consent,
        child_assent=body.child_assent,
        status=ConsentStatus.GRANTED.value,
        recorded_at=now,
    )
    repository.add(session, row)
    await session.flush()
    await repository.bump_version(session, subject_key, now)
    consent = to_model(row)
    _publish(session, consent, ConsentGranted.event_type)
    await append(session, _audit(principal, "consent.record", row.id))
    return consent


def _consent_refused(code: str, fr: str, en: str) -> ValidationFailed:
    return ValidationFailed(
        fr,
        en,
        code=code,
        errors=[{"field": "body.consent_id", "type": code, "message": f"{fr} / {en}"}],
    )


async def check_named_consent(
    session: AsyncSession,
    consent_id: str,
    *,
    subject_key: str,
    receiving_agency: str,
    receiving_kind: str,
) -> None:
    """A referral that names a consent must name one that exists, is the same subject's, is in
    force now and covers the referral purpose and its receiving agency (by code or kind).
    Naming no consent stays allowed: then the policy decides what each party may read."""
    row = await repository.get(session, consent_id)
    if row is None:
        raise _consent_refused(
            "consent_unknown",
            f"Consentement introuvable : {consent_id}. Enregistrez-le d'abord (POST /v1/consents)"
            " ou retirez consent_id.",
            f"Consent not found: {consent_id}. Record it first (POST /v1/consents) or omit "
            "consent_id.",
        )
    if row.subject_key != subject_key:
        raise _consent_refused(
            "consent_other_subject",
            "Ce consentement concerne une autre personne que le sujet du référencement.",
            "This consent is about another person than the referral's subject.",
        )
    now = utcnow()
    in_force = (
        row.status == ConsentStatus.GRANTED.value
        and row.valid_from <= now + _CLOCK_SKEW
        and (row.valid_until is None or row.valid_until > now)
    )
    if not in_force:
        raise _consent_refused(
            "consent_not_in_force",
            "Ce consentement n'est pas en vigueur (retiré, expiré ou pas encore valide).",
            "This consent is not in force (withdrawn, expired or not yet valid).",
        )
    recipients = set(split_codes(row.recipients))
    if ConsentPurpose.REFERRAL.value not in split_codes(row.purposes) or not (
        {receiving_agency, receiving_kind} & recipients
    ):
        raise _consent_refused(
            "consent_not_covering",
            f"Ce consentement ne couvre pas un référencement vers {receiving_agency} (finalité "
            "« referral » et agence ou type d'agence destinataire requis).",
            f"This consent does not cover a referral to {receiving_agency} (purpose 'referral' "
            "and the receiving agency or its kind are required).",
        )


async def _linked(session: AsyncSession, principal: Principal, subject_key: str) -> bool:
    return await repository.has_link(session, principal.agency, [subject_key])


async def get_consent(session: AsyncSession, principal: Principal, consent_id: str) -> Consent:
    """One consent, for agencies with a legitimate link to its subject."""
    row = await repository.get(session, consent_id)
    if row is None or not await _linked(session, principal, row.subject_key):
        await append(session, _audit(principal, "consent.read", consent_id, "deny"))
        raise _not_found(consent_id)
    await append(session, _audit(principal, "consent.read", row.id))
    return to_model(row)


async def consents_of_subject(
    session: AsyncSession, principal: Principal, pseudonym: str, *, linkage_secret: bytes
) -> list[Consent]:
    """Every consent of a subject, for agencies with a legitimate link to that subject."""
    subject_key = await resolve_subject_key(session, linkage_secret, pseudonym)
    if not await _linked(session, principal, subject_key):
        await append(session, _audit(principal, "consent.list", subject_key, "deny"))
        raise Forbidden(
            "Aucun lien légitime avec cette personne : seules l'agence qui a recueilli un "
            "consentement et les parties à ses orientations peuvent consulter ses consentements.",
            "No legitimate link to this person: only an agency that collected one of its consents "
            "and the parties to its referrals may read its consents.",
            code="no_legitimate_link",
        )
    rows = await repository.by_subject_keys(session, [subject_key])
    await append(session, _audit(principal, "consent.list", subject_key))
    return [to_model(row) for row in rows]


@dataclass(frozen=True)
class Withdrawn:
    consent: Consent
    subject_key: str
    purge_requested_from: list[str]


async def withdraw_consent(
    session: AsyncSession, principal: Principal, consent_id: str, body: ConsentWithdraw
) -> Withdrawn:
    """Withdraw at once; ``ConsentWithdrawn`` goes to every agency that received data."""
    row = await repository.get(session, consent_id, for_update=True)
    if row is None or not await _linked(session, principal, row.subject_key):
        await append(session, _audit(principal, "consent.withdraw", consent_id, "deny"))
        raise _not_found(consent_id)
    if row.status == ConsentStatus.WITHDRAWN.value:
        raise Conflict(
            "Ce consentement est déjà retiré.",
            "This consent is already withdrawn.",
            code="consent_already_withdrawn",
        )
    now = utcnow()
    withdrawn_at = body.withdrawn_at or now
    if withdrawn_at > now + _CLOCK_SKEW:
        raise ValidationFailed(
            "La date de retrait ne peut pas être dans le futur : le retrait prend effet "
            "immédiatement.",
            "The withdrawal date cannot be in the future: a withdrawal takes effect at once.",
            code="withdrawal_in_future",
            errors=[{"field": "body.withdrawn_at", "type": "future", "message": "in the future"}],
        )
    row.status = ConsentStatus.WITHDRAWN.value
    row.withdrawn_at = withdrawn_at
    row.withdrawal_reason = body.reason.value
    row.withdrawn_by_agency = principal.agency
    # Every agency that sent or received a referral about the person holds data to delete;
    # the collecting agency is the origin of the consent and keeps its own record.
    holders = sorted(await repository.referral_parties(session, [row.subject_key]))
    holders = [agency for agency in holders if agency != row.collecting_agency]
    for agency in holders:
        repository.add(session, PurgeReceipt(consent_id=row.id, agency=agency, requested_at=now))
    await session.flush()
    await repository.bump_version(session, row.subject_key, now)
    consent = to_model(row)
    _publish(session, consent, ConsentWithdrawn.event_type)
    await append(
        session,
        _audit(
            principal,
            "consent.withdraw",
            row.id,
            detail=f"{body.reason.value}; purge:{len(holders)}",
        ),
    )
    return Withdrawn(consent, row.subject_key, holders)


class ConsentCheck(MnoModel):
    """The body of ``POST /v1/consents/check``."""

    subject: Pseudonym = Field(
        description="Pseudonym of the person (yours, or the gateway's from a referral). / "
        "Pseudonyme de la personne (le vôtre, ou celui de la passerelle)."
    )
    recipient: AgencyCode = Field(description="Who would receive. / Destinataire envisagé.")
    purpose: ConsentPurpose = Field(description="For what. / Finalité.")
    data_categories: list[DataCategory] = Field(
        min_length=1,
        max_length=len(DataCategory),
        description="What would be shared. / Catégories à partager.",
    )
    party: Literal["receiver", "referrer"] | None = Field(
        default="receiver",
        description="The recipient's relation to the referral the data is for (default: the "
        "agency you refer to); null: not a party. / Relation du destinataire à l'orientation "
        "(par défaut : l'agence à qui vous orientez) ; null : aucune.",
    )


async def check_consent(
    session: AsyncSession,
    principal: Principal,
    point: PolicyDecisionPoint,
    body: ConsentCheck,
    *,
    linkage_secret: bytes,
) -> Decision:
    """Ask the policy before sharing by other means; the decision is audited."""
    kinds = await repository.agency_kinds(session, {body.recipient, principal.agency})
    if body.recipient not in kinds:
        raise ValidationFailed(
            f"Agence destinataire inconnue : {body.recipient}",
            f"Unknown recipient agency: {body.recipient}",
            code="unknown_recipient_agency",
            errors=[{"field": "body.recipient", "type": "unknown", "message": body.recipient}],
        )
    subject_key = await resolve_subject_key(session, linkage_secret, body.subject)
    facts = (await point.facts(session, [subject_key]))[subject_key]
    decision = point.decide(
        facts,
        recipient=AgencyRef(body.recipient, kinds[body.recipient]),
        purpose=body.purpose.value,
        categories=frozenset(c.value for c in body.data_categories),
        party=body.party,
        source=AgencyRef(principal.agency, kinds.get(principal.agency, "")),
    )
    record = decision_audit(
        decision,
        tag=point.tag,
        action="consent.check",
        object_type="subject",
        object_id=subject_key,
        agency=principal.agency,
        client_id=principal.client_id,
    )
    detail = f"{body.recipient}:{body.purpose.value}:{record.detail or ''}"
    await append(session, replace(record, detail=detail[:128]))
    return decision


# --------------------------------------------------------------------------- purge receipts


class PurgeReceiptView(MnoModel):
    """A deletion the registry asked an agency to confirm after a withdrawal."""

    consent_id: uuid.UUID = Field(description="Withdrawn consent. / Consentement retiré.")
    subject_pseudonym: Pseudonym = Field(
        description="The gateway's pseudonym of the person (as in referrals). / "
        "Pseudonyme de la personne pour la passerelle (comme dans les orientations)."
    )
    agency: AgencyCode = Field(description="Agency asked to delete. / Agence qui doit effacer.")
    collecting_agency: AgencyCode = Field(description="Collector. / Agence qui a recueilli.")
    withdrawn_at: datetime | None = Field(description="Withdrawal. / Date du retrait.")
    requested_at: datetime = Field(description="Asked on. / Demandé le.")
    confirmed_at: datetime | None = Field(description="Confirmed on. / Confirmé le.")
    status: Literal["pending", "confirmed"] = Field(description="pending | confirmed")


def _receipt_view(receipt: PurgeReceipt, consent: ConsentRow) -> PurgeReceiptView:
    return PurgeReceiptView(
        consent_id=uuid.UUID(consent.id),
        subject_pseudonym=consent.subject_key,
        agency=receipt.agency,
        collecting_agency=consent.collecting_agency,
        withdrawn_at=consent.withdrawn_at,
        requested_at=receipt.requested_at,
        confirmed_at=receipt.confirmed_at,
        status="confirmed" if receipt.confirmed_at is not None else "pending",
    )


async def confirm_purge(
    session: AsyncSession, principal: Principal, consent_id: str
) -> PurgeReceiptView:
    """The caller's agency confirms it deleted its copies (idempotent)."""
    consent = await repository.get(session, consent_id)
    receipt = await repository.receipt(session, consent_id, principal.agency)
    if consent is None or receipt is None:
        await append(session, _audit(principal, "consent.purge_receipt", consent_id, "deny"))
        raise NotFound(
            "Aucun accusé de purge n'est attendu de votre agence pour ce consentement.",
            "No purge receipt is expected from your agency for this consent.",
            code="purge_receipt_not_found",
        )
    if receipt.confirmed_at is None:
        now = utcnow()
        await repository.confirm_receipt(session, receipt.id, now, principal.client_id)
        receipt.confirmed_at = receipt.confirmed_at or now
        await append(session, _audit(principal, "consent.purge_receipt", consent_id))
    return _receipt_view(receipt, consent)


async def receipts_of_consent(
    session: AsyncSession, principal: Principal, consent_id: str
) -> list[PurgeReceiptView]:
    """The receipts of one withdrawal: for its collector and the agencies asked to delete."""
    consent = await repository.get(session, consent_id)
    receipts = await repository.receipts_of(session, [consent_id]) if consent else []
    involved = {r.agency for r in receipts} | ({consent.collecting_agency} if consent else set())
    if consent is None or principal.agency not in involved:
        raise _not_found(consent_id)
    return [_receipt_view(r, consent) for r in receipts]


async def pending_receipts(
    session: AsyncSession, *, agency: str | None = None, limit: int = 1000
) -> list[PurgeReceiptView]:
    """Receipts still awaited; owed by or to ``agency`` (every agency when None)."""
    rows = await repository.pending_receipts(session, agency=agency, limit=limit)
    return [_receipt_view(receipt, consent) for receipt, consent in rows]


def as_create(consent: Consent) -> ConsentCreate:
    """The ``ConsentCreate`` part of a full consent record (FHIR input)."""
    return ConsentCreate.model_validate(
        consent.model_dump(include=set(ConsentCreate.model_fields)),
    )
