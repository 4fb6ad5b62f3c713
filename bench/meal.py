"""Benchmark of the MEAL aggregator and indicator queries. Prints JSON.

1. Materialisation: N synthetic referral events (default 1,000,000; CloudEvents with the flat
   referral snapshot, as on the topic) go in process through the aggregator's service layer
   (``consumers.meal.service.apply_events``: typed validation, flattening, idempotency check,
   batched upserts, processed ids) into the database, one transaction per batch, as the Kafka
   handler does. Events of one referral arrive in successive batches, so most writes update.
   Submissions are spread in time order over 2026. Generation time is excluded; everything
   from the envelope dict to the commit is counted.
2. Indicator query: p50/p95/p99 of ``gateway.meal.service.indicators`` (compute + publish with
   suppression) for one month, without and with four breakdowns, and for a whole year.

    .venv/bin/python bench/meal.py [--events 1000000] [--batch 2000] [--backend sqlite|postgres]
        [--queries 200] [--postgres-url URL]

The PostgreSQL backend uses (and empties) the database named by --postgres-url.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# bench/gateway.py would shadow the gateway package: drop this folder from the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from sqlalchemy import text  # noqa: E402

from consumers.meal.service import apply_events  # noqa: E402
from gateway.db.engine import make_engine, make_sessionmaker  # noqa: E402
from gateway.db.migrate import upgrade  # noqa: E402
from gateway.meal import repository, service  # noqa: E402
from gateway.meal.logframe import load_logframe  # noqa: E402
from gateway.meal.periods import parse_period  # noqa: E402

URGENCY_HOURS = {"immediate": (2, 24), "high": (24, 72), "normal": (72, 168), "low": (168, 336)}
REFERRERS = [f"ORIENT-{n:02d}" for n in range(12)]
RECEIVERS = [f"PREST-{n:02d}" for n in range(20)]
AREAS = ["GN-C", "GN-KD", "GN-KA", "GN-NZ", "GN-LA", "GN-MM", "GN-BK", "GN-FA", None]
SERVICES = ["medical", "mhpss", "shelter", "legal_aid", "economic_reintegration", "transport"]
BANDS = ["0-4", "5-11", "12-14", "15-17", "18-24", "25-34", "35-49", "50-59", "60+"]
OUTCOMES = ["served_fully", "served_partially", "not_served_unreachable", "not_served_cost"]
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def story_events(rnd: random.Random, serial: int, submitted: datetime) -> list[dict[str, Any]]:
    """The events of one synthetic referral: 1 to 4 snapshots (submit, ack, accept/decline,
    complete), mix 70 % served path, 10 % declined, 10 % acknowledged only, 10 % pending."""
    rid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    referrer, receiver = rnd.choice(REFERRERS), rnd.choice(RECEIVERS)
    urgency = rnd.choices(list(URGENCY_HOURS), weights=(1, 3, 10, 2))[0]
    ack_h, respond_h = URGENCY_HOURS[urgency]
    band = rnd.choice(BANDS)
    subject: dict[str, Any] = {
        "pseudonym": f"{serial:043d}"[-43:].replace("0", "A"),
        "age_band": band,
        "sex": rnd.choice(("female", "male", "female", "male", "unknown")),
        "is_minor": band in ("0-4", "5-11", "12-14", "15-17"),
    }
    area = rnd.choice(AREAS)
    if area:
        subject["area_code"] = area
    base: dict[str, Any] = {
        "schema_version": "1.0",
        "id": rid,
        "referring_agency": referrer,
        "receiving_agency": receiver,
        "subject": subject,
        "case_category": rnd.choice(("returning_migrant", "victim_of_trafficking", "uasc")),
        "services_requested": rnd.sample(SERVICES, rnd.choice((1, 1, 2))),
        "urgency": urgency,
        "created_at": _iso(submitted),
        "acknowledge_by": _iso(submitted + timedelta(hours=ack_h)),
        "respond_by": _iso(submitted + timedelta(hours=respond_h)),
    }
    kind = rnd.random()
    t_ack = submitted + timedelta(hours=rnd.uniform(0.2, ack_h * 1.6))
    t_resp = t_ack + timedelta(hours=rnd.uniform(0.5, respond_h))
    t_done = t_resp + timedelta(hours=rnd.uniform(24, 600))
    steps: list[tuple[str, str, datetime, dict[str, str]]] = [
        ("submit", "submitted", submitted, {})
    ]
    if kind < 0.9:
        steps.append(("acknowledge", "acknowledged", t_ack, {}))
    if kind < 0.7:
        steps.append(("accept", "accepted", t_resp, {}))
        steps.append(("complete", "completed", t_done, {"outcome": rnd.choice(OUTCOMES)}))
    elif kind < 0.8:
        steps.append(("decline", "declined", t_resp, {"reason_code": "no_capacity"}))
    history: list[dict[str, Any]] = []
    out = []
    extra: dict[str, str] = {}
    for action, status, moment, fields in steps:
        actor = referrer if action == "submit" else receiver
        history.append(
            {
                "status": status,
                "action": action,
                "at": _iso(moment),
                "actor_agency": actor,
                "actor_client": f"c-{actor.lower()}",
                **fields,
            }
        )
        if "outcome" in fields:
            extra["outcome"] = fields["outcome"]
        if "reason_code" in fields:
            extra["decline_reason"] = fields["reason_code"]
        data = {
            **base,
            **extra,
            "status": status,
            "history": list(history),
            "updated_at": _iso(moment),
            "version": len(history),
        }
        out.append(
            {
                "specversion": "1.0",
                "id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                "source": "/mno/bench",
                "type": f"gn.mno.referral.{status}.v1",
                "subject": rid,
                "time": _iso(moment),
                "data": data,
            }
        )
    return out


def batches(total: int, batch: int, seed: int = 7) -> Iterator[list[dict[str, Any]]]:
    """Batches of about ``batch`` events; a referral's k-th event comes k batches later.
    Submissions are spread in order over 2026, as on a topic (3.4 events per referral)."""
    rnd = random.Random(seed)
    minutes_per_story = 365 * 24 * 60 / (total / 3.4)
    per_group = max(1, batch // 4)
    groups: list[list[list[dict[str, Any]]]] = []
    produced = serial = 0
    while produced < total:
        groups.append(
            [
                story_events(
                    rnd,
                    serial + i,
                    YEAR_START + timedelta(minutes=(serial + i) * minutes_per_story),
                )
                for i in range(per_group)
            ]
        )
        serial += per_group
        groups = groups[-4:]
        out: list[dict[str, Any]] = []
        for age, group in enumerate(reversed(groups)):
            out.extend(events[age] for events in group if len(events) > age)
        out = out[: total - produced]
        produced += len(out)
        yield out
    # drain: the later steps of the last groups
    for age in range(1, 4):
        out = [e[age] for group in groups[-(4 - age) :] for e in group if len(e) > age]
        if out and produced < total:
            out = out[: total - produced]
            produced += len(out)
            yield out


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="mno-bench-meal-"))
        url = f"sqlite+aiosqlite:///{folder / 'mno.db'}"
    else:
        url = args.postgres_url
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    frame = load_logframe()

    events = 0
    spent = 0.0
    generation = time.perf_counter()
    batch_times: list[float] = []
    for chunk in batches(args.events, args.batch):
        started = time.perf_counter()
        async with sessionmaker() as session:
            applied = await apply_events(session, chunk)
            await session.commit()
        elapsed = time.perf_counter() - started
        assert not applied.poison, applied.poison[:3]
        spent += elapsed
        batch_times.append(elapsed)
        events += applied.applied
    wall = time.perf_counter() - generation
    async with sessionmaker() as session:
        facts = await repository.count_facts(session)

    as_of = datetime(2027, 1, 15, tzinfo=UTC)
    cases = {
        "month_total": (parse_period("2026-10"), ()),
        "month_4_breakdowns": (parse_period("2026-10"), ("sex", "region", "agency", "service")),
        "year_total": (parse_period("2026"), ()),
    }
    queries: dict[str, Any] = {}
    for name, (period, dims) in cases.items():
        samples = []
        rounds = args.queries if name != "year_total" else max(10, args.queries // 10)
        for _ in range(rounds):
            started = time.perf_counter()
            async with sessionmaker() as session:
                body = await service.indicators(
                    session, frame, period, disaggregate=dims, as_of=as_of
                )
            samples.append((time.perf_counter() - started) * 1000)
        made = next(i for i in body["indicators"] if i["code"] == "referrals_made")["value"]
        queries[name] = {
            "runs": rounds,
            "p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(percentile(samples, 95), 1),
            "p99_ms": round(percentile(samples, 99), 1),
            "referrals_in_period": made,
            "indicators": len(body["indicators"]),
        }
    await engine.dispose()
    return {
        "benchmark": "meal",
        "backend": args.backend,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "events": events,
        "batch_size": args.batch,
        "materialisation": {
            "seconds": round(spent, 1),
            "events_per_second": round(events / spent),
            "batch_p99_ms": round(percentile(batch_times, 99) * 1000, 1),
            "wall_seconds_with_generation": round(wall, 1),
        },
        "facts": facts,
        "indicator_query": queries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/mno_bench_meal"
    )
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
