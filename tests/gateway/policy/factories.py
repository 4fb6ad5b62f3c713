"""Builders of synthetic consents, grants and decision requests for policy tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from gateway.policy.engine import (
    AgencyRef,
    BreakGlassGrant,
    CompiledPolicy,
    ConsentFact,
    DecisionRequest,
    Party,
    SubjectContext,
)
from gateway.policy.loader import LoadedPolicy, load_policy

REPO = Path(__file__).resolve().parents[3]
GUINEA_FILE = REPO / "deploy" / "policies" / "mou-guinee.yaml"
SCHEMA_FILE = REPO / "deploy" / "policies" / "mou.schema.json"

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@cache
def guinea() -> LoadedPolicy:
    return load_policy(GUINEA_FILE)


def guinea_policy() -> CompiledPolicy:
    return guinea().compiled


_counter = iter(range(1, 10**9))


def consent(
    *,
    purposes: Iterable[str] = ("referral",),
    categories: Iterable[str] = ("identity_contact", "socio_economic", "statistical"),
    recipients: Iterable[str] = ("provider",),
    valid_from: datetime = NOW - 30 * DAY,
    valid_until: datetime | None = NOW + 365 * DAY,
    guardian: bool = False,
    assent: bool = False,
    withdrawn: bool = False,
    consent_id: str | None = None,
) -> ConsentFact:
    return ConsentFact(
        consent_id=consent_id or f"cons-{next(_counter):06d}",
        purposes=frozenset(purposes),
        data_categories=frozenset(categories),
        recipients=frozenset(recipients),
        valid_from=valid_from,
        valid_until=valid_until,
        guardian_consent=guardian,
        child_assent=assent,
        withdrawn=withdrawn,
    )


def grant(
    recipient: str,
    *,
    purpose: str = "referral",
    valid_from: datetime = NOW - timedelta(hours=1),
    hours: float = 24,
) -> BreakGlassGrant:
    return BreakGlassGrant(
        grant_id=f"bg-{next(_counter):06d}",
        recipient=recipient,
        purpose=purpose,
        valid_from=valid_from,
        valid_until=valid_from + timedelta(hours=hours),
    )


def request(
    recipient: tuple[str, str],
    categories: Iterable[str],
    *,
    purpose: str = "referral",
    party: Party | None = "receiver",
    source: tuple[str, str] | None = ("ONG-GUIDE", "ngo"),
    consents: Iterable[ConsentFact] = (),
    age: int | None = 30,
    is_minor: bool | None = None,
    break_glass: BreakGlassGrant | None = None,
    at: datetime | None = NOW,
    subject_key: str | None = None,
    consent_version: int | None = None,
) -> DecisionRequest:
    return DecisionRequest(
        recipient=AgencyRef(*recipient),
        purpose=purpose,
        data_categories=frozenset(categories),
        subject=SubjectContext(is_minor=is_minor, age=age),
        party=party,
        consents=tuple(consents),
        source=AgencyRef(*source) if source is not None else None,
        break_glass=break_glass,
        at=at,
        subject_key=subject_key,
        consent_version=consent_version,
    )
