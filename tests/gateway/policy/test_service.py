"""The database-backed decision point: facts from the registry, caches that never go stale.

Two ``PolicyDecisionPoint`` instances on one database stand for two processes (the gateway and
the router): a change made through one is seen by the other on its next use, with no message
between them, because every use reads the subjects' change counters first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies import service as agency_service
from gateway.auth.dependencies import Principal
from gateway.consent import service as consent_service
from gateway.db.engine import make_sessionmaker
from gateway.linkage.rekey import rekey_token
from gateway.policy.engine import AgencyRef
from gateway.policy.service import PolicyDecisionPoint, ReferralSharing
from gateway.referrals.models import ReferralRow
from schemas.consent import ConsentCreate, ConsentWithdraw
from schemas.examples import referral
from tests.conftest import Database
from tests.gateway.policy.factories import GUINEA_FILE, guinea_policy

SECRET = b"0" * 32
COLLECTOR = Principal("ong-espoir-test", "ONG-ESPOIR", frozenset({"consent:write"}), "jti")
PROVIDER = AgencyRef("FORM-DEMO", "provider")
SOURCE = AgencyRef("ONG-ESPOIR", "ngo")
PSEUDONYM = "A" * 43


def consent_for(recipient: str, categories: list[str]) -> ConsentCreate:
    now = datetime.now(UTC)
    return ConsentCreate.model_validate(
        {
            "subject_pseudonym": PSEUDONYM,
            "collecting_agency": "ONG-ESPOIR",
            "purposes": ["referral"],
            "data_categories": categories,
            "recipients": [recipient],
            "valid_from": now - timedelta(days=1),
            "method": "verbal",
        }
    )


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    maker = make_sessionmaker(database.engine)
    async with maker() as session:
        for code, kind in (("ONG-ESPOIR", "ngo"), ("FORM-DEMO", "provider")):
            await agency_service.add_agency(session, code=code, name=code, kind=kind)
        await session.commit()
        yield session


async def _decide(point: PolicyDecisionPoint, session: AsyncSession, key: str) -> set[str]:
    facts = (await point.facts(session, [key]))[key]
    await session.commit()  # end the read transaction, as a request would
    decision = point.decide(
        facts,
        recipient=PROVIDER,
        purpose="referral",
        party="receiver",
        source=SOURCE,
    )
    return set(decision.permitted_categories)


async def test_a_withdrawal_made_elsewhere_reaches_every_cache(session: AsyncSession) -> None:
    gateway = PolicyDecisionPoint(guinea_policy())
    router = PolicyDecisionPoint(guinea_policy())
    consent = await consent_service.record_consent(
        session,
        COLLECTOR,
        consent_for("FORM-DEMO", ["identity_contact", "statistical"]),
        linkage_secret=SECRET,
    )
    await session.commit()
    key = consent.subject_pseudonym

    assert await _decide(router, session, key) == {"identity_contact", "statistical"}
    assert await _decide(router, session, key) == {"identity_contact", "statistical"}
    assert router.fact_loads == 1  # the second answer came from memory
    assert router.decisions.hits == 1

    # The gateway process withdraws; nobody tells the router's caches.
    await consent_service.withdraw_consent(
        session, COLLECTOR, str(consent.id), ConsentWithdraw(reason="requested_by_person")
    )
    await session.commit()
    gateway.invalidate(key)

    assert await _decide(router, session, key) == set()
    assert router.fact_loads == 2


async def test_a_new_consent_widens_at_once_and_unknown_subjects_are_denied(
    session: AsyncSession,
) -> None:
    point = PolicyDecisionPoint(guinea_policy())
    key = rekey_token(SECRET, PSEUDONYM)
    assert await _decide(point, session, key) == set()

    await consent_service.record_consent(
        session, COLLECTOR, consent_for("provider", ["socio_economic"]), linkage_secret=SECRET
    )
    await session.commit()

    assert await _decide(point, session, key) == {"socio_economic"}


async def test_recheck_denies_a_queued_copy_after_withdrawal_and_fails_closed(
    session: AsyncSession,
) -> None:
    point = PolicyDecisionPoint.from_file(GUINEA_FILE)
    consent = await consent_service.record_consent(
        session,
        COLLECTOR,
        consent_for("FORM-DEMO", ["identity_contact", "socio_economic", "statistical"]),
        linkage_secret=SECRET,
    )
    snapshot = referral("FORM-DEMO").model_dump(mode="json")
    snapshot["referring_agency"] = "ONG-ESPOIR"
    snapshot["subject"]["pseudonym"] = consent.subject_pseudonym
    now = datetime.now(UTC)
    session.add(
        ReferralRow(
            id=snapshot["id"],
            referring_agency="ONG-ESPOIR",
            referring_client="c",
            receiving_agency="FORM-DEMO",
            status="submitted",
            urgency="high",
            subject_key=consent.subject_pseudonym,
            body='{"subject": {"is_minor": false}}',
            created_at=now,
            updated_at=now,
            acknowledge_by=now,
            respond_by=now,
            version=1,
            idempotency_key="k" * 8,
            request_hash="h",
        )
    )
    await session.commit()
    envelope = {"id": "e1", "type": "gn.mno.referral.submitted.v1", "data": snapshot}
    ghost = {
        **envelope,
        "id": "e2",
        "data": {**snapshot, "id": "00000000-0000-4000-8000-000000000000"},
    }

    before, missing = await point.recheck_events(session, "FORM-DEMO", [envelope, ghost])
    await consent_service.withdraw_consent(
        session, COLLECTOR, str(consent.id), ConsentWithdraw(reason="requested_by_person")
    )
    await session.commit()
    [after] = await point.recheck_events(session, "FORM-DEMO", [envelope])

    assert before.permit
    assert before.envelope is not None
    assert before.envelope["data"]["protected"] == snapshot["protected"]
    assert "case_category" not in before.envelope["data"]
    assert before.envelope["mnopolicyversion"] == point.tag
    assert not missing.permit
    assert missing.reasons == ("unknown_referral",)
    assert not after.permit
    assert after.envelope is None
    assert "consent_withdrawn" in after.reasons


def test_referral_sharing_reads_the_minor_flag_of_an_event() -> None:
    sharing = ReferralSharing.from_event_data(
        {
            "id": "r",
            "referring_agency": "A",
            "receiving_agency": "B",
            "subject": {"pseudonym": "p", "is_minor": True},
        }
    )
    assert sharing is not None
    assert sharing.subject.is_minor is True
    assert sharing.relation("B") == "receiver"
    assert sharing.relation("C") is None
    assert ReferralSharing.from_event_data({"subject": {}}) is None
