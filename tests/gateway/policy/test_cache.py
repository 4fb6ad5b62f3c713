"""The decision cache: hits, and every way a cached decision must stop being used."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from gateway.policy.cache import CachedDecisionPoint
from gateway.policy.engine import ConsentFact, DecisionRequest, decide
from tests.gateway.policy.factories import DAY, NOW, consent, grant, guinea_policy, request

PROVIDER = ("ONG-ABRI", "provider")


def _asked(
    consents: list[ConsentFact],
    *,
    version: int = 1,
    at: datetime = NOW,
    subject_key: str = "subj-A",
) -> DecisionRequest:
    return request(
        PROVIDER,
        ["identity_contact"],
        consents=consents,
        subject_key=subject_key,
        consent_version=version,
        at=at,
    )


def test_same_question_is_answered_from_cache() -> None:
    pdp = CachedDecisionPoint(guinea_policy())
    asked = _asked([consent()])

    first = pdp.decide(asked)
    second = pdp.decide(asked)

    assert first.permitted
    assert second is first
    assert (pdp.hits, pdp.misses) == (1, 1)


def test_invalidation_after_withdrawal_denies() -> None:
    pdp = CachedDecisionPoint(guinea_policy())
    given = consent()
    assert pdp.decide(_asked([given])).permitted

    dropped = pdp.invalidate_subject("subj-A")
    # Same consent_version on purpose: invalidation alone must be enough.
    after = pdp.decide(_asked([replace(given, withdrawn=True)]))

    assert dropped == 1
    assert not after.permitted
    assert after.reasons[0].code == "consent_withdrawn"


def test_without_invalidation_a_stale_entry_would_be_served() -> None:
    # Documents why the lead must call invalidate_subject (or bump consent_version).
    pdp = CachedDecisionPoint(guinea_policy())
    given = consent()
    pdp.decide(_asked([given]))

    stale = pdp.decide(_asked([replace(given, withdrawn=True)]))
    fresh = pdp.decide(_asked([replace(given, withdrawn=True)], version=2))

    assert stale.permitted
    assert not fresh.permitted


def test_invalidation_touches_only_that_subject() -> None:
    pdp = CachedDecisionPoint(guinea_policy())
    for key in ("subj-A", "subj-B"):
        pdp.decide(_asked([consent()], subject_key=key))

    pdp.invalidate_subject("subj-A")
    pdp.decide(_asked([consent()], subject_key="subj-B"))

    assert len(pdp) == 1
    assert pdp.hits == 1


def test_decision_from_consents_read_before_a_withdrawal_is_not_stored() -> None:
    pdp = CachedDecisionPoint(guinea_policy())
    token = pdp.generation("subj-A")
    read_before = [consent()]
    pdp.invalidate_subject("subj-A")  # the withdrawal lands while the caller was reading

    pdp.decide(_asked(read_before), generation=token)

    assert len(pdp) == 0
    pdp.decide(_asked(read_before), generation=pdp.generation("subj-A"))
    assert len(pdp) == 1


def test_cached_permit_stops_when_the_consent_expires() -> None:
    pdp = CachedDecisionPoint(guinea_policy())
    short = [consent(valid_until=NOW + DAY)]

    before = pdp.decide(_asked(short, at=NOW))
    still = pdp.decide(_asked(short, at=NOW + DAY / 2))
    after = pdp.decide(_asked(short, at=NOW + DAY))

    assert before.permitted
    assert still is before
    assert not after.permitted
    assert after.reasons[0].code == "consent_expired"


def test_cached_deny_stops_when_a_future_consent_starts() -> None:
    pdp = CachedDecisionPoint(guinea_policy())
    future = [consent(valid_from=NOW + DAY)]

    assert not pdp.decide(_asked(future, at=NOW)).permitted
    assert pdp.decide(_asked(future, at=NOW + DAY)).permitted


def test_cached_break_glass_stops_when_the_grant_ends() -> None:
    pdp = CachedDecisionPoint(guinea_policy())
    emergency = grant("SANTE-DEMO", valid_from=NOW, hours=24)

    def ask(at: datetime) -> DecisionRequest:
        return request(
            ("SANTE-DEMO", "provider"),
            ["health"],
            party=None,
            break_glass=emergency,
            subject_key="subj-A",
            at=at,
        )

    assert pdp.decide(ask(NOW + DAY / 2)).permitted
    assert not pdp.decide(ask(NOW + DAY)).permitted


def test_cache_is_bounded() -> None:
    pdp = CachedDecisionPoint(guinea_policy(), max_entries=10)
    for n in range(50):
        pdp.decide(_asked([consent()], subject_key=f"subj-{n}"))

    assert len(pdp) == 10


def test_generation_table_is_bounded_and_old_tokens_go_stale() -> None:
    pdp = CachedDecisionPoint(guinea_policy(), max_tracked_subjects=3)
    token = pdp.generation("subj-A")
    for n in range(5):
        pdp.invalidate_subject(f"other-{n}")

    pdp.decide(_asked([consent()]), generation=token)

    assert len(pdp) == 0


def test_requests_without_subject_are_not_cached() -> None:
    pdp = CachedDecisionPoint(guinea_policy())
    asked = request(PROVIDER, ["identity_contact"], consents=[consent()])

    pdp.decide(asked)
    pdp.decide(asked)

    assert len(pdp) == 0
    assert pdp.misses == 2


def test_cached_answer_equals_uncached_answer() -> None:
    pdp = CachedDecisionPoint(guinea_policy())
    asked = _asked([consent()])

    assert pdp.decide(asked) == decide(guinea_policy(), asked)
    assert pdp.decide(asked) == decide(guinea_policy(), asked)
