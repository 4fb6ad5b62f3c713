"""End to end: N referrals posted → all visible in the receiver's inbox.

Starts the real parts as separate processes on loopback — the embedded Apache Kafka broker
(or ``MNO_KAFKA_BOOTSTRAP``), ``mno gateway``, ``mno relay`` and ``mno router`` — posts N
referrals at a fixed concurrency, long-polls ``/v1/inbox`` and records when each referral
appears. In the same run it measures raw aiokafka produce → consume on the same broker with
records of the same size, as the ceiling. Prints one JSON document.

    python bench/pipeline.py [--referrals 2000] [--concurrency 16] [--database sqlite|postgres]
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

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._server import ROOT, free_port  # noqa: E402
from bench.submissions import prepare  # noqa: E402
from gateway.db.engine import make_engine  # noqa: E402
from gateway.events.broker import EmbeddedKafka  # noqa: E402
from gateway.events.topics import ensure_topics  # noqa: E402
from schemas.examples import referral_create  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, int(len(ordered) * q) - 1)], 2)


async def raw_kafka(bootstrap: str, n: int, size: int) -> dict[str, float]:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 3, 1)])
    await admin.close()
    payload = b"x" * size
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    started = time.perf_counter()
    try:
        futures = [await producer.send(topic, payload, key=str(i).encode()) for i in range(n)]
        await asyncio.gather(*futures)
        seen = 0
        while seen < n:
            batch = await consumer.getmany(timeout_ms=1000)
            seen += sum(len(records) for records in batch.values())
    finally:
        elapsed = time.perf_counter() - started
        await producer.stop()
        await consumer.stop()
    return {"records": n, "record_bytes": size, "per_s": round(n / elapsed, 1)}


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", *args],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
    )


async def grant_consent(url: str, tmp: Path) -> None:
    """The example subject consents to referral to BENCH-B (the policy delivers nothing else)."""
    from tests.conftest import Database
    from tests.gateway.consent.factories import seed_consent

    engine = make_engine(url)
    database = Database("bench", url, engine, tmp)
    try:
        await seed_consent(database, collecting_agency="BENCH-A", recipients=["BENCH-B"])
    finally:
        await engine.dispose()


async def pipeline(bootstrap: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    credentials, receiver_code = await prepare(url)
    await grant_consent(url, tmp)
    env = {
        "MNO_DATABASE_URL": url,
        "MNO_DATA_DIR": str(tmp),
        "MNO_KAFKA_BOOTSTRAP": bootstrap,
        "MNO_LOG_LEVEL": "WARNING",
        "MNO_TOKEN_RATE_LIMIT_PER_MINUTE": "100000",
    }
    await ensure_topics(bootstrap, ["BENCH-A", "BENCH-B"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["MNO_ISSUER"] = base
    procs = [
        spawn(["gateway", "--port", str(port)], env),
        spawn(["relay"], env),
        spawn(["router"], env),
    ]
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            for _ in range(300):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            token = (
                await http.post(
                    "/oauth/token", data={"grant_type": "client_credentials"}, auth=credentials
                )
            ).json()["access_token"]
            # the receiver reads with its own client
            receiver = await _receiver_token(url, http)
            body = referral_create(to=receiver_code).model_dump(mode="json", exclude_none=True)
            body.pop("consent_id", None)
            posted: dict[str, float] = {}
            arrived: dict[str, float] = {}
            errors = 0
            counter = iter(range(args.referrals))

            async def poster() -> None:
                nonlocal errors
                for _i in counter:
                    started = time.perf_counter()
                    response = await http.post(
                        "/v1/referrals",
                        json=body,
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Idempotency-Key": uuid.uuid4().hex,
                        },
                    )
                    if response.status_code == 201:
                        posted[response.json()["id"]] = started
                    else:
                        errors += 1

            async def reader(deadline: float) -> None:
                cursor = "0"
                while time.perf_counter() < deadline:
                    page = (
                        await http.get(
                            f"/v1/inbox?after={cursor}&limit=500&wait=2",
                            headers={"Authorization": f"Bearer {receiver}"},
                        )
                    ).json()
                    now = time.perf_counter()
                    for item in page["items"]:
                        arrived.setdefault(item["event"]["data"]["id"], now)
                    cursor = page["next_cursor"]
                    if len(arrived) >= args.referrals:
                        return

            started = time.perf_counter()
            read_task = asyncio.create_task(reader(started + 600))
            await asyncio.gather(*(poster() for _ in range(args.concurrency)))
            post_done = time.perf_counter()
            await read_task
            finished = time.perf_counter()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    latencies = [(arrived[i] - posted[i]) * 1000 for i in posted if i in arrived]
    return {
        "referrals": args.referrals,
        "concurrency": args.concurrency,
        "post_errors": errors,
        "delivered": len(latencies),
        "post_rps": round(len(posted) / (post_done - started), 1),
        "end_to_end_per_s": round(len(latencies) / (finished - started), 1),
        "latency_p50_ms": round(statistics.median(latencies), 1),
        "latency_p99_ms": percentile(latencies, 0.99),
        "envelope_bytes": len(json.dumps(body)),
    }


async def _receiver_token(url: str, http: httpx.AsyncClient) -> str:
    from gateway.agencies import service as agency_service
    from gateway.db.engine import make_engine, make_sessionmaker

    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        new = await agency_service.create_client(
            session, agency_code="BENCH-B", scopes="referrals:read"
        )
        await session.commit()
    await engine.dispose()
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(new.client.client_id, new.client_secret or ""),
    )
    return str(response.json()["access_token"])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--referrals", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        url = (
            f"sqlite+aiosqlite:///{tmp / 'mno.db'}"
            if args.database == "sqlite"
            else "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
        )
        external = os.environ.get("MNO_KAFKA_BOOTSTRAP")
        broker = None if external else EmbeddedKafka(tmp / "kafka")
        if broker is not None:
            await broker.start()
        bootstrap = external or (broker.bootstrap if broker else "")
        try:
            measured = await pipeline(bootstrap, url, args, tmp)
            ceiling = await raw_kafka(bootstrap, args.referrals * 3, measured["envelope_bytes"])
        finally:
            if broker is not None:
                await broker.stop()
    # each referral is 3 records through Kafka: canonical topic + 2 inbox copies
    print(
        json.dumps(
            {
                "benchmark": "pipeline",
                "database": args.database,
                **measured,
                "raw_kafka": ceiling,
                "ratio_records": round(measured["end_to_end_per_s"] * 3 / ceiling["per_s"], 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
