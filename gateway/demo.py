"""Demo data for ``mno run``: fictional Guinean agencies, their OAuth2 clients, and a few
referrals moving through the SOP workflow. Everything here is synthetic.

Each referral is preceded by the consent its referring agency collected (as the SOP requires):
without it the MoU policy would deliver nothing to the receiving agency. The example subject of
``mno schemas example`` has a consent too, so that the example referral sent to any demo agency
is delivered. The demo waits until its events reach the receivers' inboxes."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.agencies import repository as agency_repository
from gateway.agencies import service as agency_service
from gateway.directory import hsds
from gateway.privatefile import write_private
from schemas.examples import REFERRING_AGENCY, referral_create, subject

logger = logging.getLogger("mno.demo")

DEMO_SCOPES = "referrals:write referrals:read consent:write consent:read directory:write meal:read"

# (code, name, kind, area) — all names are fictional and say so.
DEMO_AGENCIES: tuple[tuple[str, str, str, str], ...] = (
    (
        "GOUV-RETOUR",
        "Bureau national d'accueil des migrants de retour (fictif)",
        "government",
        "GN-C",
    ),
    ("OIM-DEMO", "OIM — bureau de démonstration (fictif)", "un", "GN-C"),
    ("ONG-ESPOIR", "ONG Espoir Retour (fictive)", "ngo", "GN-K"),
    ("ONG-SOLIDARITE", "Solidarité Réintégration Guinée (fictive)", "ngo", "GN-N"),
    ("SANTE-DEMO", "Centre de santé fictif de Kaloum", "provider", "GN-C"),
    ("PSY-DEMO", "Centre d'écoute psychosociale fictif", "provider", "GN-C"),
    ("FORM-DEMO", "Centre de formation professionnelle fictif de Kindia", "provider", "GN-D"),
)

CREDENTIALS_FILE = "demo-credentials.json"


@dataclass(frozen=True)
class DemoClient:
    agency: str
    client_id: str
    client_secret: str


async def seed_agencies(
    sessionmaker: async_sessionmaker[AsyncSession], data_dir: Path
) -> list[DemoClient]:
    """Create the demo agencies and one client each, once; later runs reuse the saved file."""
    path = data_dir / CREDENTIALS_FILE
    if path.exists():
        return [DemoClient(**c) for c in json.loads(path.read_text())]
    clients: list[DemoClient] = []
    async with sessionmaker() as session:
        for code, name, kind, area in DEMO_AGENCIES:
            if await agency_repository.get_agency(session, code) is None:
                await agency_service.add_agency(session, code=code, name=name, kind=kind, area=area)
            scopes = DEMO_SCOPES + (" admin" if code == "GOUV-RETOUR" else "")
            new = await agency_service.create_client(
                session, agency_code=code, scopes=scopes, name=f"{code} démo"
            )
            assert new.client_secret is not None  # noqa: S101 - secret clients by construction
            clients.append(DemoClient(code, new.client.client_id, new.client_secret))
        # the fictional service directory the demo referrals point to
        await hsds.import_file(session, hsds.DEMO_FILE)
        await session.commit()
    # Demo secrets only (MNO_ENV=dev), kept so a second run can print them again.
    write_private(path, json.dumps([c.__dict__ for c in clients], indent=2))
    return clients


async def _token(http: httpx.AsyncClient, client: DemoClient) -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


# (referrer, receiver, steps the receiver takes)
DEMO_FLOWS: tuple[tuple[str, str, tuple[dict[str, Any], ...]], ...] = (
    (
        "OIM-DEMO",
        "SANTE-DEMO",
        (
            {"action": "acknowledge"},
            {"action": "accept"},
            {"action": "complete", "outcome": "served_fully"},
        ),
    ),
    ("GOUV-RETOUR", "PSY-DEMO", ({"action": "acknowledge"}, {"action": "accept"})),
    ("ONG-ESPOIR", "FORM-DEMO", ({"action": "decline", "reason_code": "no_capacity"},)),
    ("OIM-DEMO", "ONG-SOLIDARITE", ({"action": "acknowledge"},)),
    ("GOUV-RETOUR", "SANTE-DEMO", ()),
)


async def demo_traffic(base_url: str, clients: list[DemoClient]) -> int:
    """Post a few referrals through the real API and move them along. Returns how many."""
    by_agency = {c.agency: c for c in clients}
    done = 0
    expected: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        tokens = {c.agency: await _token(http, c) for c in clients}
        if REFERRING_AGENCY in tokens:
            others = [code for code in tokens if code != REFERRING_AGENCY]
            example = _demo_consent(REFERRING_AGENCY, "", subject().pseudonym)
            example.update(recipients=others, evidence_reference="DEMO/CONSENT/EXAMPLE")
            answer = await http.post(
                "/v1/consents",
                json=example,
                headers={"Authorization": f"Bearer {tokens[REFERRING_AGENCY]}"},
            )
            if answer.status_code != 201:
                logger.warning("demo consent refused", extra={"status": answer.status_code})
        for index, (referrer, receiver, steps) in enumerate(DEMO_FLOWS):
            if referrer not in by_agency or receiver not in by_agency:
                continue
            body = referral_create(to=receiver).model_dump(mode="json", exclude_none=True)
            body["subject"]["pseudonym"] = _demo_pseudonym(index)
            consent = await http.post(
                "/v1/consents",
                json=_demo_consent(referrer, receiver, body["subject"]["pseudonym"]),
                headers={"Authorization": f"Bearer {tokens[referrer]}"},
            )
            if consent.status_code != 201:
                logger.warning("demo consent refused", extra={"status": consent.status_code})
                continue
            body["consent_id"] = consent.json()["id"]
            created = await http.post(
                "/v1/referrals",
                json=body,
                headers={
                    "Authorization": f"Bearer {tokens[referrer]}",
                    "Idempotency-Key": f"demo-{index}-{uuid.uuid4().hex[:8]}",
                },
            )
            if created.status_code != 201:
                logger.warning("demo referral refused", extra={"status": created.status_code})
                continue
            referral_id = created.json()["id"]
            expected[receiver] = expected.get(receiver, 0) + 1
            for step in steps:
                moved = await http.post(
                    f"/v1/referrals/{referral_id}/transitions",
                    json=step,
                    headers={"Authorization": f"Bearer {tokens[receiver]}"},
                )
                if moved.status_code != 200:
                    logger.warning("demo step refused", extra={"status": moved.status_code})
                    break
                expected[receiver] += 1
            done += 1
        await _await_delivery(http, tokens, expected)
    return done


async def _await_delivery(
    http: httpx.AsyncClient, tokens: dict[str, str], expected: dict[str, int], timeout: float = 20
) -> None:
    """Wait (bounded) until each receiver's inbox holds its demo events: the demo is then
    complete when ``mno run`` prints its banner."""
    deadline = asyncio.get_running_loop().time() + timeout
    for agency, count in expected.items():
        while asyncio.get_running_loop().time() < deadline:
            page = await http.get(
                "/v1/inbox?after=0&limit=500&wait=1",
                headers={"Authorization": f"Bearer {tokens[agency]}"},
            )
            if page.status_code != 200:
                break  # no broker (inbox unavailable): nothing to wait for
            items = page.json()["items"]
            if sum(".referral." in i["event"]["type"] for i in items) >= count:
                break


def _demo_consent(collector: str, receiver: str, pseudonym: str) -> dict[str, Any]:
    """A written consent of an adult to share with the receiving agency; the MoU still decides
    which categories each agency may receive (a training centre never gets health data)."""
    now = datetime.now(UTC)
    return {
        "subject_pseudonym": pseudonym,
        "collecting_agency": collector,
        "purposes": ["referral", "case_follow_up"],
        "data_categories": [
            "identity_contact",
            "health",
            "protection_sensitive",
            "socio_economic",
            "statistical",
        ],
        "recipients": [receiver],
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=365)).isoformat(),
        "method": "written",
        "evidence_reference": f"DEMO/CONSENT/{collector}/{receiver}",
    }


def _demo_pseudonym(index: int) -> str:
    import base64
    import hashlib

    digest = hashlib.sha256(f"demo-subject-{index}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
