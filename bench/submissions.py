"""Referral submissions per second and latency against uvicorn on loopback.

Measures ``POST /v1/referrals`` (validated, stored, outbox + audit in one transaction) on
SQLite and on PostgreSQL at a fixed concurrency, and, in the same run, a bare FastAPI endpoint
taking the same body as the baseline. Prints one JSON document.

    python -m bench.submissions [--requests 3000] [--concurrency 32] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench._server import Server, load
from gateway.agencies import service as agency_service
from gateway.db.engine import make_engine, make_sessionmaker
from gateway.db.migrate import upgrade
from gateway.settings import Settings
from schemas.examples import referral_create

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"


async def prepare(url: str) -> tuple[tuple[str, str], str]:
    """Migrated database with two agencies; returns the referrer's credentials."""
    if url.startswith("postgresql"):
        admin = make_engine(url.rsplit("/", 1)[0] + "/postgres")
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("DROP DATABASE IF EXISTS bench WITH (FORCE)"))
            await conn.execute(text("CREATE DATABASE bench"))
        await admin.dispose()
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        await agency_service.add_agency(session, code="BENCH-A", name="Bench A", kind="ngo")
        await agency_service.add_agency(session, code="BENCH-B", name="Bench B", kind="provider")
        new = await agency_service.create_client(
            session, agency_code="BENCH-A", scopes="referrals:write referrals:read"
        )
        await session.commit()
    await engine.dispose()
    assert new.client_secret is not None  # noqa: S101
    return (new.client.client_id, new.client_secret), "BENCH-B"


async def run_backend(url: str, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    credentials, receiver = await prepare(url)
    server = Server(
        "gateway.app:create_app",
        {
            "MNO_DATABASE_URL": url,
            "MNO_DATA_DIR": str(data_dir),
            "MNO_ISSUER": "http://127.0.0.1",
            "MNO_LOG_LEVEL": "WARNING",
            "MNO_TOKEN_RATE_LIMIT_PER_MINUTE": "100000",
        },
    )
    try:
        server.wait()
        token = httpx.post(
            server.base + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=credentials,
            timeout=30,
        ).json()["access_token"]
        body = referral_create(to=receiver).model_dump(mode="json", exclude_none=True)
        body.pop("consent_id", None)
        headers = {"Authorization": f"Bearer {token}"}

        async def submit(client: httpx.AsyncClient, i: int) -> httpx.Response:
            return await client.post(
                "/v1/referrals",
                json=body,
                headers={**headers, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"},
            )

        # warm-up: connection pools, caches, JIT-free but import-heavy first calls
        await load(submit, base=server.base, total=200, concurrency=args.concurrency, expect=201)
        return await load(
            submit,
            base=server.base,
            total=args.requests,
            concurrency=args.concurrency,
            expect=201,
        )
    finally:
        server.stop()


async def run_baseline(args: argparse.Namespace) -> dict[str, Any]:
    server = Server("bench._baseline_app:create", {})
    try:
        server.wait()
        body = referral_create().model_dump(mode="json", exclude_none=True)

        async def echo(client: httpx.AsyncClient, i: int) -> httpx.Response:
            return await client.post("/echo", json=body)

        await load(echo, base=server.base, total=200, concurrency=args.concurrency, expect=201)
        return await load(
            echo, base=server.base, total=args.requests, concurrency=args.concurrency, expect=201
        )
    finally:
        server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    baseline = await run_baseline(args)
    results: dict[str, Any] = {
        "benchmark": "submissions",
        "requests": args.requests,
        "concurrency": args.concurrency,
        "baseline": baseline,
        "backends": {},
    }
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            url = (
                f"sqlite+aiosqlite:///{Path(tmp) / 'mno.db'}"
                if backend == "sqlite"
                else Settings().model_copy().test_database_url.rsplit("/", 1)[0] + "/bench"
            )
            measured = await run_backend(url, args, Path(tmp))
        results["backends"][backend] = {
            "submit_rps": measured["rps"],
            "p50_ms": measured["p50_ms"],
            "p99_ms": measured["p99_ms"],
            "errors": measured["errors"],
            "baseline_rps": baseline["rps"],
            "ratio": round(measured["rps"] / baseline["rps"], 3),
        }
    results["load_average"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
