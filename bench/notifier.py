"""Notifier: webhook deliveries per second to a local receiver, and latency event → webhook.

Starts the embedded Apache Kafka broker (or uses ``MNO_KAFKA_BOOTSTRAP``), a migrated database,
``mno notifier`` as a separate process, and a local HTTP receiver on loopback. Events are
written to one agency's inbox topic exactly as the router writes them (CloudEvents, binary
mode), each for its own referral, and the agency has ``--endpoints`` webhook subscriptions.

- latency: ``--latency-events`` events paced at ``--rate`` per second; time from the write to
  the inbox until the receiver has the signed webhook (p50, p99, max);
- throughput: ``--events`` written in one burst; deliveries per second until the last arrives.

Prints one JSON document.

    python bench/notifier.py [--events 3000] [--endpoints 1] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._server import ROOT  # noqa: E402
from gateway.agencies import service as agency_service  # noqa: E402
from gateway.db.base import utcnow  # noqa: E402
from gateway.db.engine import make_engine, make_sessionmaker  # noqa: E402
from gateway.db.migrate import upgrade  # noqa: E402
from gateway.events.broker import EmbeddedKafka  # noqa: E402
from gateway.events.cloudevents import to_kafka  # noqa: E402
from gateway.events.topics import ensure_topics, inbox_topic  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from gateway.subscriptions.models import WebhookEndpoint  # noqa: E402
from gateway.subscriptions.signing import SecretBox, new_secret  # noqa: E402
from tests.gateway.subscriptions.receiver import Receiver  # noqa: E402

POSTGRES_DB = "bench_notifier"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q) - 1))], 1)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux), to report CPU per delivery: a
    figure that holds on a busy machine, unlike deliveries per second."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def event(agency: str) -> dict[str, Any]:
    referral_id = str(uuid.uuid4())
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/mno/gateway/referrals",
        "type": "gn.mno.referral.acknowledged.v1",
        "subject": referral_id,
        "partitionkey": referral_id,
        "time": utcnow().isoformat(),
        "datacontenttype": "application/json",
        # A redacted inbox copy of typical size: ids, codes, deadlines.
        "data": {
            "id": referral_id,
            "referring_agency": "BENCH-A",
            "receiving_agency": agency,
            "status": "acknowledged",
            "urgency": "high",
            "services_requested": ["medical", "mhpss"],
            "subject": {"pseudonym": "p" * 43, "age_band": "18-24", "sex": "female"},
            "created_at": utcnow().isoformat(),
            "acknowledge_by": utcnow().isoformat(),
            "respond_by": utcnow().isoformat(),
            "version": 2,
        },
    }


async def prepare(url: str, agency: str, urls: list[str]) -> None:
    if url.startswith("postgresql"):
        admin = make_engine(url.rsplit("/", 1)[0] + "/postgres")
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f"DROP DATABASE IF EXISTS {POSTGRES_DB} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {POSTGRES_DB}"))
        await admin.dispose()
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    box = SecretBox(Settings().secret_key.get_secret_value())
    async with make_sessionmaker(engine)() as session:
        await agency_service.add_agency(session, code=agency, name="Bench", kind="provider")
        now = utcnow()
        for endpoint_url in urls:
            endpoint_id = str(uuid.uuid4())
            session.add(
                WebhookEndpoint(
                    id=endpoint_id,
                    agency=agency,
                    url=endpoint_url,
                    event_types=["*"],
                    secret=box.seal(new_secret(), endpoint_id),
                    status="active",
                    created_by="bench",
                    created_at=now,
                    updated_at=now,
                    consecutive_failures=0,
                )
            )
        await session.commit()
    await engine.dispose()


class Clock:
    """Write time of each event id, and first-arrival time per (receiver, id)."""

    def __init__(self, receivers: list[Receiver]) -> None:
        self.receivers = receivers
        self.written: dict[str, float] = {}

    def arrivals(self) -> dict[tuple[int, str], float]:
        found: dict[tuple[int, str], float] = {}
        for n, receiver in enumerate(self.receivers):
            for request in receiver.requests:
                found.setdefault((n, request.webhook_id), request.at)
        return found

    async def wait(self, ids: list[str], timeout: float) -> dict[tuple[int, str], float]:
        wanted = {(n, i) for n in range(len(self.receivers)) for i in ids}
        deadline = time.monotonic() + timeout
        while True:
            arrived = self.arrivals()
            if wanted <= arrived.keys() or time.monotonic() > deadline:
                return {k: v for k, v in arrived.items() if k in wanted}
            await asyncio.sleep(0.05)


async def write(producer: AIOKafkaProducer, topic: str, clock: Clock, agency: str) -> str:
    envelope = event(agency)
    value, headers = to_kafka(envelope)
    clock.written[envelope["id"]] = time.monotonic()
    await producer.send(topic, value=value, key=envelope["partitionkey"].encode(), headers=headers)
    return str(envelope["id"])


async def run(bootstrap: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    agency = f"BENCH-{uuid.uuid4().hex[:6].upper()}"
    topic = inbox_topic(agency)
    receivers = [Receiver() for _ in range(args.endpoints)]
    for receiver in receivers:
        await receiver.start()
    await prepare(url, agency, [r.url for r in receivers])
    await ensure_topics(bootstrap, [agency])
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MNO_DATABASE_URL": url,
        "MNO_DATA_DIR": str(tmp),
        "MNO_KAFKA_BOOTSTRAP": bootstrap,
        "MNO_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", "notifier"], cwd=ROOT, env=env
    )
    clock = Clock(receivers)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await producer.start()
    try:
        warm = [await write(producer, topic, clock, agency) for _ in range(20)]
        await producer.flush()
        if len(await clock.wait(warm, 120)) < len(warm) * args.endpoints:
            raise RuntimeError("the notifier did not deliver the warm-up events")

        # Latency: paced events, each on its own.
        paced: list[str] = []
        for _ in range(args.latency_events):
            paced.append(await write(producer, topic, clock, agency))
            await producer.flush()
            await asyncio.sleep(1 / args.rate)
        arrived = await clock.wait(paced, 60)
        latencies = [(at - clock.written[i]) * 1000 for (_n, i), at in arrived.items()]

        # Throughput: one burst.
        cpu_before = cpu_seconds(proc.pid)
        started = time.monotonic()
        burst = [await write(producer, topic, clock, agency) for _ in range(args.events)]
        await producer.flush()
        written = time.monotonic()
        got = await clock.wait(burst, 600)
        finished = max(got.values()) if got else time.monotonic()
        burst_latencies = [(at - clock.written[i]) * 1000 for (_n, i), at in got.items()]
        cpu_after = cpu_seconds(proc.pid)
    finally:
        await producer.stop()
        proc.terminate()
        proc.wait(timeout=30)
        for receiver in receivers:
            await receiver.stop()
    duplicates = sum(len(r.requests) for r in receivers) - len(clock.arrivals())
    return {
        "endpoints": args.endpoints,
        "latency": {
            "events": args.latency_events,
            "rate_per_s": args.rate,
            "delivered": len(latencies),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": percentile(latencies, 0.99),
            "max_ms": round(max(latencies), 1),
        },
        "throughput": {
            "events": args.events,
            "deliveries": len(got),
            "write_per_s": round(args.events / (written - started), 1),
            "deliveries_per_s": round(len(got) / (finished - started), 1),
            "p50_ms": round(statistics.median(burst_latencies), 1),
            "p99_ms": percentile(burst_latencies, 0.99),
            "notifier_cpu_ms_per_delivery": (
                round((cpu_after - cpu_before) * 1000 / max(1, len(got)), 2)
                if cpu_before is not None and cpu_after is not None
                else None
            ),
        },
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "duplicate_requests": duplicates,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--endpoints", type=int, default=1)
    parser.add_argument("--latency-events", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        url = (
            f"sqlite+aiosqlite:///{tmp / 'mno.db'}"
            if args.database == "sqlite"
            else f"postgresql+asyncpg://postgres@127.0.0.1:5432/{POSTGRES_DB}"
        )
        external = os.environ.get("MNO_KAFKA_BOOTSTRAP")
        broker = None if external else EmbeddedKafka(tmp / "kafka")
        if broker is not None:
            await broker.start()
        bootstrap = external or (broker.bootstrap if broker else "")
        try:
            measured = await run(bootstrap, url, args, tmp)
        finally:
            if broker is not None:
                await broker.stop()
    settings = Settings()
    print(
        json.dumps(
            {
                "benchmark": "notifier",
                "database": args.database,
                "concurrency_per_endpoint": settings.webhook_concurrency_per_endpoint,
                **measured,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
