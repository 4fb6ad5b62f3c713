"""Synthetic consents for tests: bodies for the API, and rows written straight to the registry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.consent import repository as consent_repository
from gateway.consent.models import ConsentRow
from gateway.db.engine import make_sessionmaker
from gateway.linkage.rekey import linkage_secret, rekey_token
from gateway.policy.service import join_codes
from schemas.examples import subject, synthetic_token
from tests.conftest import Database

EXAMPLE_SUBJECT = subject().pseudonym  # the subject of schemas.examples.referral_create
PROVIDER_CATEGORIES = ("identity_contact", "socio_economic", "statistical")


def new_subject(seed: str | None = None) -> str:
    """A fresh synthetic pseudonym (an agency-side token, not derived from anyone)."""
    return synthetic_token(seed or uuid.uuid4().hex)


def consent_body(
    collector: str,
    recipients: Sequence[str],
    *,
    subject_pseudonym: str = EXAMPLE_SUBJECT,
    categories: Sequence[str] = PROVIDER_CATEGORIES,
    purposes: Sequence[str] = ("referral",),
    minor: bool = False,
    days: int = 365,
) -> dict[str, Any]:
    """A ``ConsentCreate`` body for ``POST /v1/consents``."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "subject_pseudonym": subject_pseudonym,
        "collecting_agency": collector,
        "purposes": list(purposes),
        "data_categories": list(categories),
        "recipients": list(recipients),
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=days)).isoformat(),
        "method": "written",
        "evidence_reference": "TEST/CONSENT/0001",
    }
    if minor:
        body.update(subject_is_minor=True, guardian_consent=True, child_assent=True)
    return body


async def seed_consent(
    database: Database,
    *,
    collecting_agency: str,
    recipients: Sequence[str],
    subject_pseudonym: str = EXAMPLE_SUBJECT,
    categories: Sequence[str] = PROVIDER_CATEGORIES,
    purposes: Sequence[str] = ("referral",),
) -> str:
    """Write a granted consent straight into the registry (no event, no audit entry).

    A precondition for tests of other parts, whose receivers may read only what a consent
    permits under the MoU.
    """
    now = datetime.now(UTC)
    key = rekey_token(linkage_secret(database.settings()), subject_pseudonym)
    consent_id = str(uuid.uuid4())
    async with make_sessionmaker(database.engine)() as session:
        session.add(
            ConsentRow(
                id=consent_id,
                subject_key=key,
                collecting_agency=collecting_agency,
                recorded_by_client="test-seed",
                purposes=join_codes(purposes),
                data_categories=join_codes(categories),
                recipients=join_codes(recipients),
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=365),
                method="written",
                evidence_reference=None,
                subject_is_minor=False,
                guardian_consent=None,
                child_assent=None,
                status="granted",
                recorded_at=now,
            )
        )
        await session.flush()
        await consent_repository.bump_version(session, key, now)
        await session.commit()
    return consent_id
