"""No submission answers 5xx because of contention: 64 concurrent submissions at a real
uvicorn with two worker processes, on SQLite and on PostgreSQL, all answer 201."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.agencies import service as agency_service
from gateway.db.engine import make_sessionmaker
from schemas.examples import synthetic_token
from tests.conftest import Database
from tests.gateway.referrals.test_endpoints import body_for

CONCURRENT = 64


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@pytest.fixture
async def two_workers(database: Database) -> AsyncIterator[str]:
    """``mno gateway --workers 2`` (uvicorn, two processes), over the test database."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MNO_DATABASE_URL": database.url,
        "MNO_DATA_DIR": str(database.data_dir),
        "MNO_ISSUER": url,
        "MNO_TOKEN_RATE_LIMIT_PER_MINUTE": "100000",
        "MNO_LOG_LEVEL": "WARNING",
    }
    mno = str(Path(sys.executable).parent / "mno")
    command = [mno, "gateway", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env)  # noqa: S603 - fixed arguments
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            for _ in range(300):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail("uvicorn did not start")
        assert len(_children(process.pid)) >= 2, "expected two uvicorn worker processes"
        yield url
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 20)


async def _token(http: httpx.AsyncClient, database: Database, code: str, kind: str) -> str:
    async with make_sessionmaker(database.engine)() as session:
        await agency_service.add_agency(session, code=code, name=f"Agence {code}", kind=kind)
        new = await agency_service.create_client(
            session, agency_code=code, scopes="referrals:write referrals:read"
        )
        await session.commit()
    assert new.client_secret is not None
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(new.client.client_id, new.client_secret),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def test_64_concurrent_submissions_all_answer_201(
    two_workers: str, database: Database
) -> None:
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=two_workers, timeout=60, limits=limits) as http:
        token = await _token(http, database, "AGENCE-A", "un")
        await _token(http, database, "AGENCE-B", "provider")

        async def submit(index: int) -> httpx.Response:
            body = body_for("AGENCE-B")
            body.pop("receiving_service", None)
            body["subject"]["pseudonym"] = synthetic_token(f"concurrent-{index}")
            body["subject"]["tokens"] = [synthetic_token(f"concurrent-{index}:alt")]
            return await http.post(
                "/v1/referrals",
                json=body,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
            )

        answers = await asyncio.gather(*(submit(i) for i in range(CONCURRENT)))
        listed = await http.get(
            "/v1/referrals",
            params={"role": "sent", "limit": 100},
            headers={"Authorization": f"Bearer {token}"},
        )

    statuses = [r.status_code for r in answers]
    assert statuses == [201] * CONCURRENT, [r.text for r in answers if r.status_code != 201][:3]
    assert len({r.json()["id"] for r in answers}) == CONCURRENT
    assert listed.status_code == 200
    assert len(listed.json()["items"]) == CONCURRENT
