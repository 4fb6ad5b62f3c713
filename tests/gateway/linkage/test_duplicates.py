"""Which repeats are suspicious: a watched service, again, within the window, not refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from connectors.pseudonym.encoder import Pseudonymiser
from gateway.db.base import utcnow
from gateway.linkage.models import AssistanceEntry, LinkageRecordRow
from gateway.linkage.service import DuplicateRule, parse_categories
from gateway.outbox.models import OutboxEvent
from gateway.referrals.models import ReferralRow
from gateway.settings import Settings
from tests.gateway.linkage.conftest import ADULTS, Ledger, encode, register, subject_of

DUPLICATE = "gn.mno.subject.duplicate_suspected.v1"


@pytest.fixture
async def people(ledger: Ledger, kit: Pseudonymiser) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same person as agencies A and B wrote them down (different spellings)."""
    await ledger.agencies("AGENCE-A", "AGENCE-B", "PRESTA-P", "PRESTA-Q")
    person = ADULTS[:1]
    return (
        subject_of(encode(kit, register("A", person, 1)[0])),
        subject_of(encode(kit, register("B", person, 2)[0])),
    )


async def events(ledger: Ledger) -> list[dict[str, Any]]:
    async with ledger.database.engine.connect() as conn:
        rows = await conn.execute(select(OutboxEvent.envelope).where(OutboxEvent.type == DUPLICATE))
        return [json.loads(envelope)["data"] for (envelope,) in rows]


async def test_a_watched_service_again_within_the_window_is_flagged_once_per_repeat(
    ledger: Ledger, people: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    by_a, by_b = people
    first = await ledger.refer("AGENCE-A", "PRESTA-P", by_a, ["shelter", "medical"])
    await ledger.refer("AGENCE-B", "PRESTA-Q", by_b, ["medical", "mhpss"])
    assert await events(ledger) == []  # medical care twice is not a duplicate
    again = await ledger.refer("AGENCE-B", "PRESTA-Q", by_b, ["shelter", "cash_in_kind"])
    [event] = await events(ledger)
    assert event["referral_id"] == again
    assert event["matching_referral_ids"] == [first]
    assert event["overlapping_services"] == ["shelter"]
    assert event["match_method"] in ("exact_token", "fuzzy_bloom")


async def test_refused_or_old_requests_are_not_repeats(
    ledger: Ledger, people: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    by_a, by_b = people
    declined = await ledger.refer("AGENCE-A", "PRESTA-P", by_a, ["shelter"])
    old = await ledger.refer("AGENCE-A", "PRESTA-P", by_a, ["economic_reintegration"])
    long_ago = utcnow() - timedelta(days=400)
    async with ledger.sessionmaker() as session:
        await session.execute(
            update(ReferralRow)
            .where(ReferralRow.id == declined)
            .values(status="closed", decline_reason="no_capacity")  # declined, then closed
        )
        await session.execute(
            update(AssistanceEntry)
            .where(AssistanceEntry.referral_id == old)
            .values(requested_at=long_ago)
        )
        await session.commit()
    await ledger.refer("AGENCE-B", "PRESTA-Q", by_b, ["shelter", "economic_reintegration"])
    assert await events(ledger) == []
    # The ledger still links all three to one subject.
    async with ledger.database.engine.connect() as conn:
        subjects = set((await conn.execute(select(LinkageRecordRow.subject_id))).scalars())
    assert len(subjects) == 1


async def test_without_a_bloom_filter_only_the_full_pseudonym_links(ledger: Ledger) -> None:
    await ledger.agencies("AGENCE-A", "AGENCE-B", "PRESTA-P")
    plain = {"pseudonym": "P" * 43, "birth_year": 1990, "sex": "female", "is_minor": False}
    first = await ledger.refer("AGENCE-A", "PRESTA-P", plain, ["shelter"])
    second = await ledger.refer("AGENCE-B", "PRESTA-P", plain, ["shelter"])
    # Sex unknown: the pseudonym is a token of names and year only, every namesake's.
    vague = {**plain, "sex": "unknown"}
    third = await ledger.refer("AGENCE-B", "PRESTA-P", vague, ["medical"])
    async with ledger.database.engine.connect() as conn:
        rows = dict(
            (await conn.execute(select(LinkageRecordRow.referral_id, LinkageRecordRow.subject_id)))
            .tuples()
            .all()
        )
    assert rows[first] == rows[second] != rows[third]
    [event] = await events(ledger)
    assert event["match_method"] == "exact_token"
    assert event["score"] == 1.0


def test_the_rule_comes_from_settings_and_refuses_unknown_categories() -> None:
    settings = Settings(
        duplicate_window_days=30,
        duplicate_categories="shelter, transport",
        secret_key=SecretStr("x" * 40),
    )
    assert DuplicateRule.from_settings(settings) == DuplicateRule(
        30, frozenset({"shelter", "transport"})
    )
    assert DuplicateRule.from_settings(Settings()).categories == frozenset(
        {"economic_reintegration", "cash_in_kind", "vocational_training", "shelter"}
    )
    assert DuplicateRule().window_days == 365
    with pytest.raises(ValueError, match="astrology"):
        parse_categories("shelter astrology")
