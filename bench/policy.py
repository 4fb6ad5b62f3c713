"""Benchmark of the policy decision point, in process, with the Guinea MoU.

100,000 synthetic consents are held in memory (the database-backed version comes with the
consent registry). Measures pure decisions and decisions through the per-subject cache, on one
core. Prints JSON.

    .venv/bin/python bench/policy.py [--consents 100000] [--decisions 200000] [--cpu 0]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.policy.cache import CachedDecisionPoint
from gateway.policy.engine import (
    AgencyRef,
    CompiledPolicy,
    ConsentFact,
    Decision,
    DecisionRequest,
    SubjectContext,
    decide,
)
from gateway.policy.loader import load_policy
from gateway.policy.models import DATA_CATEGORIES

POLICY_FILE = Path(__file__).resolve().parents[1] / "deploy" / "policies" / "mou-guinee.yaml"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

NAMED = [
    AgencyRef("GOUV-RETOURS", "government"),
    AgencyRef("OIM-GN", "un"),
    AgencyRef("SANTE-CKY-01", "provider"),
    AgencyRef("SANTE-KNK-01", "provider"),
    AgencyRef("PSY-CKY-01", "provider"),
    AgencyRef("FORM-CKY-01", "provider"),
]
AGENCIES = (
    NAMED
    + [AgencyRef(f"ONG-{n:03d}", "ngo") for n in range(12)]
    + [AgencyRef(f"PREST-{n:03d}", "provider") for n in range(10)]
    + [AgencyRef(f"ETAT-{n:03d}", "government") for n in range(3)]
)
PURPOSE_WEIGHTS = {"referral": 6, "case_follow_up": 3, "meal_statistics": 1, "research": 0.3}


def pin_to_one_core(cpu: int | None) -> int | None:
    if not hasattr(os, "sched_setaffinity"):
        return None
    chosen = cpu if cpu is not None else min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {chosen})
    return chosen


def synthetic_consents(
    rng: random.Random, count: int
) -> dict[str, tuple[SubjectContext, tuple[ConsentFact, ...]]]:
    """Pseudonymous subjects with 1-4 consents each; no names, no identifiers of people."""
    subjects: dict[str, tuple[SubjectContext, tuple[ConsentFact, ...]]] = {}
    made = 0
    n = 0
    while made < count:
        n += 1
        age = rng.choice([None, *range(8, 70)])
        subject = SubjectContext(age=age, is_minor=None if age is not None else rng.random() < 0.2)
        minor = age is not None and age < 18
        facts = []
        for _ in range(min(rng.randint(1, 4), count - made)):
            made += 1
            start = NOW - timedelta(days=rng.randint(0, 400))
            recipients = {rng.choice(["provider", "ngo", "government", "un"])}
            recipients |= {a.code for a in rng.sample(AGENCIES, rng.randint(1, 4))}
            facts.append(
                ConsentFact(
                    consent_id=f"cons-{made:07d}",
                    purposes=frozenset(rng.sample(list(PURPOSE_WEIGHTS), rng.randint(1, 3))),
                    data_categories=frozenset(rng.sample(DATA_CATEGORIES, rng.randint(1, 5))),
                    recipients=frozenset(recipients),
                    valid_from=start,
                    valid_until=start + timedelta(days=rng.randint(30, 1000))
                    if rng.random() < 0.8
                    else None,
                    guardian_consent=minor and rng.random() < 0.9,
                    child_assent=minor and rng.random() < 0.8,
                    withdrawn=rng.random() < 0.05,
                )
            )
        subjects[f"subj-{n:07d}"] = (subject, tuple(facts))
    return subjects


Question = tuple[str, AgencyRef, str, frozenset[str], str | None, AgencyRef]


def questions(rng: random.Random, subject_keys: list[str], count: int) -> list[Question]:
    purposes = list(PURPOSE_WEIGHTS)
    weights = list(PURPOSE_WEIGHTS.values())
    out = []
    for _ in range(count):
        purpose = rng.choices(purposes, weights)[0]
        out.append(
            (
                rng.choice(subject_keys),
                rng.choice(AGENCIES),
                purpose,
                frozenset(rng.sample(DATA_CATEGORIES, rng.randint(1, 4))),
                rng.choice(["receiver", "receiver", "referrer", None]),
                rng.choice(AGENCIES),
            )
        )
    return out


def run(
    label: str,
    asked: list[Question],
    subjects: dict[str, tuple[SubjectContext, tuple[ConsentFact, ...]]],
    decide_one: Callable[[DecisionRequest], Decision],
    between: Callable[[int], None] | None = None,
) -> dict[str, object]:
    """Time each decision, request construction included (the caller pays for it too)."""
    samples = [0] * len(asked)
    permits = 0
    clock = time.perf_counter_ns
    gc.collect()
    gc.disable()  # a collection in the middle would be charged to one unlucky decision
    started = clock()
    for i, (key, recipient, purpose, categories, party, source) in enumerate(asked):
        if between is not None:
            between(i)
        t0 = clock()
        subject, consents = subjects[key]
        decision = decide_one(
            DecisionRequest(
                recipient=recipient,
                purpose=purpose,
                data_categories=categories,
                subject=subject,
                party=party,  # type: ignore[arg-type]
                consents=consents,
                source=source,
                at=NOW,
                subject_key=key,
                consent_version=0,
            )
        )
        samples[i] = clock() - t0
        permits += decision.decision == "permit"
    elapsed = clock() - started
    gc.enable()
    samples.sort()
    return {
        "mode": label,
        "decisions": len(asked),
        "decisions_per_s": round(len(asked) / (elapsed / 1e9)),
        "p50_us": round(samples[len(samples) // 2] / 1000, 2),
        "p99_us": round(samples[int(len(samples) * 0.99)] / 1000, 2),
        "max_us": round(samples[-1] / 1000, 2),
        "permit_ratio": round(permits / len(asked), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--consents", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--cpu", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20260302)
    args = parser.parse_args()

    cpu = pin_to_one_core(args.cpu)
    rng = random.Random(args.seed)
    policy: CompiledPolicy = load_policy(POLICY_FILE).compiled
    subjects = synthetic_consents(rng, args.consents)
    keys = list(subjects)

    asked = questions(rng, keys, args.decisions)
    uncached = run("uncached", asked, subjects, lambda r: decide(policy, r))

    # Cached: the router asks the same questions again (fan-out, retries, replays); a hot set of
    # subjects gets repeated questions, and 1 % of the questions follow a consent change.
    pdp = CachedDecisionPoint(policy)
    hot = questions(rng, keys[: max(1, len(keys) // 20)], max(1, args.decisions // 10))
    repeated = [rng.choice(hot) for _ in range(args.decisions)]
    invalidate_at = set(rng.sample(range(args.decisions), args.decisions // 100))

    def invalidate(i: int) -> None:
        if i in invalidate_at:
            pdp.invalidate_subject(repeated[i][0])

    cached = run("cached", repeated, subjects, pdp.decide, invalidate)
    cached["hit_ratio"] = round(pdp.hits / max(1, pdp.hits + pdp.misses), 3)
    cached["invalidations"] = len(invalidate_at)

    print(
        json.dumps(
            {
                "decisions_per_s": uncached["decisions_per_s"],
                "p50_us": uncached["p50_us"],
                "p99_us": uncached["p99_us"],
                "consents": sum(len(c) for _, c in subjects.values()),
                "subjects": len(subjects),
                "policy": f"{policy.policy_id}@{policy.version}",
                "cpu": cpu,
                "python": platform.python_version(),
                "uncached": uncached,
                "cached": cached,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
