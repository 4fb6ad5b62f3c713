"""``GET /v1/inbox``: the calling agency's own events, by cursor, with long polling.

Each event is decided again at read time: a consent withdrawn since routing stops the delivery
of copies already queued (dropped, the denial audited), and a narrower permit redacts more.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.audit.service import AuditRecord, append
from gateway.auth.dependencies import Principal, requires
from gateway.deps import RuntimeDep, SessionDep
from gateway.errors import ServiceUnavailable, ValidationFailed
from gateway.inbox.reader import InboxReader
from gateway.policy.service import PolicyDep

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])


class InboxItem(BaseModel):
    cursor: str = Field(description="Cursor of this event (Kafka offset). / Curseur (offset).")
    event: dict[str, Any] = Field(
        description="CloudEvent 1.0 (structured), redacted for your agency. / "
        "CloudEvent 1.0, expurgé pour votre agence."
    )


class InboxPage(BaseModel):
    items: list[InboxItem]
    next_cursor: str = Field(
        description="Pass as `after` to continue; re-reading from a cursor is safe. / "
        "À passer comme `after` pour continuer ; relire depuis un curseur est sans risque."
    )


def _reader(runtime: RuntimeDep) -> InboxReader:
    reader = runtime.components.get("inbox_reader")
    if not isinstance(reader, InboxReader):
        raise ServiceUnavailable(
            "La boîte de réception n'est pas disponible (courtier Kafka non configuré).",
            "The inbox is unavailable (no Kafka broker configured).",
            code="inbox_unavailable",
        )
    return reader


@router.get("", response_model=InboxPage)
async def read_inbox(
    runtime: RuntimeDep,
    session: SessionDep,
    point: PolicyDep,
    principal: Annotated[Principal, requires("referrals:read")],
    after: Annotated[
        str, Query(max_length=20, description="Cursor from a previous page; 0 = from the start.")
    ] = "0",
    limit: Annotated[int, Query(ge=1, le=500, description="Max events. / Nombre max.")] = 100,
    wait: Annotated[
        float, Query(ge=0, le=30, description="Long poll, seconds. / Attente max (s).")
    ] = 0,
) -> InboxPage:
    """Read your agency's inbox from a cursor. / Lire la boîte de réception de l'agence."""
    if not after.isdigit():
        raise ValidationFailed(
            "Curseur invalide : un entier ≥ 0 (valeur next_cursor précédente).",
            "Invalid cursor: an integer ≥ 0 (a previous next_cursor).",
            code="invalid_cursor",
            errors=[{"field": "query.after", "type": "invalid", "message": "not an offset"}],
        )
    page = await _reader(runtime).read(principal.agency, int(after), limit, wait)
    items: list[InboxItem] = []
    if page.records:
        checks = await point.recheck_events(
            session, principal.agency, [r.envelope for r in page.records]
        )
        for record, check in zip(page.records, checks, strict=True):
            if check.envelope is not None:
                items.append(InboxItem(cursor=str(record.offset), event=check.envelope))
                continue
            await append(
                session,
                AuditRecord(
                    action="inbox.deliver",
                    object_type="event",
                    object_id=check.object_id,
                    decision="deny",
                    client_id=principal.client_id,
                    agency=principal.agency,
                    detail=",".join(check.reasons)[:128],
                    policy_version=check.policy_version,
                ),
            )
        await append(
            session,
            AuditRecord(
                action="inbox.read",
                object_type="inbox",
                object_id=None,
                decision="permit" if items else "deny",
                client_id=principal.client_id,
                agency=principal.agency,
                detail=f"offsets {page.records[0].offset}-{page.records[-1].offset}; "
                f"delivered {len(items)}/{len(page.records)}",
                policy_version=point.tag,
            ),
        )
        await session.commit()
    return InboxPage(items=items, next_cursor=str(page.next_cursor))
