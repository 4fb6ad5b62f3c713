"""``mno connector run`` as a real process: dry-run report, SIGKILL mid-run, restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from gateway.referrals.models import ReferralRow
from tests.conftest import Database
from tests.connectors.conftest import LiveServer, Parties, example
from tests.connectors.factories import LegacyDb, expected_valid, fault_of, legacy_rows

ROOT = Path(__file__).resolve().parents[2]


def write_config(
    tmp_path: Path, legacy: LegacyDb, key_file: Path, server: LiveServer, parties: Parties
) -> Path:
    data = example("dossiers_retour.yaml")
    data["linkage_key_file"] = str(key_file)
    data["batch_size"] = 10
    data["source"].pop("url_env")
    data["source"].update({"url": legacy.url, "table": legacy.table_name})
    data["gateway"]["url"] = server.url
    data["gateway"]["client_id"] = parties.referrer.client_id
    path = tmp_path / "dossiers.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gateway.cli.main", "connector", "run", str(config), *args]


def environment(parties: Parties) -> dict[str, str]:
    assert parties.referrer.client_secret is not None
    return {
        **os.environ,
        "MNO_CONNECTEUR_SECRET": parties.referrer.client_secret,
        "PYTHONPATH": str(ROOT),
    }


async def count(database: Database) -> int:
    async with database.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(ReferralRow.__table__)))


async def settled(database: Database) -> int:
    last, stable = -1, 0
    while stable < 3:
        await asyncio.sleep(0.2)
        now = await count(database)
        stable = stable + 1 if now == last else 0
        last = now
    return last


async def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_dry_run_prints_the_report_in_french_and_english(
    tmp_path: Path,
    mariadb_legacy: LegacyDb,
    linkage_key_file: Path,
    database: Database,
    parties: Parties,
    live_gateway: LiveServer,
) -> None:
    await mariadb_legacy.insert(legacy_rows(40))
    config = write_config(tmp_path, mariadb_legacy, linkage_key_file, live_gateway, parties)
    done = await run(command(config, "--dry-run"), environment(parties))
    assert done.returncode == 0, done.stderr
    bad = [i for i in range(1, 41) if fault_of(i)]
    assert f"Acceptées / accepted: {40 - len(bad)}" in done.stdout
    assert f"Rejetées / rejected: {len(bad)}" in done.stdout
    assert "5 · case_category [categorie] : valeur inconnue « XYZ »" in done.stdout
    assert "unknown value 'XYZ': add it to the value map" in done.stdout
    # Structured logs on stderr: JSON lines with counters, no identity.
    logs = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    finished = [line for line in logs if line.get("event") == "poll.finished"]
    assert finished
    assert finished[0]["rows_rejected"] == len(bad)
    assert await count(database) == 0


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_sigkill_mid_run_then_restart_sends_each_row_once(
    tmp_path: Path,
    mariadb_legacy: LegacyDb,
    linkage_key_file: Path,
    database: Database,
    parties: Parties,
    live_gateway: LiveServer,
) -> None:
    total = 200
    await mariadb_legacy.insert(legacy_rows(total))
    valid = expected_valid(range(1, total + 1))
    config = write_config(tmp_path, mariadb_legacy, linkage_key_file, live_gateway, parties)
    env = environment(parties)

    process = subprocess.Popen(  # noqa: ASYNC220 - polled below without blocking
        command(config, "--once"), env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(1500):
            if await count(database) > 0 or process.poll() is not None:
                break
            await asyncio.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    killed_at = await settled(database)  # requests in flight may still be committed
    assert 0 < killed_at < valid, "the process must be killed while sending"
    assert process.returncode == -signal.SIGKILL

    done = await run(command(config, "--once", "--json"), env)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert await count(database) == valid
    # Rows committed before the kill but not checkpointed are sent again and recognised.
    assert report["rows_created"] <= valid - killed_at
    assert report["rows_sent"] >= valid - killed_at
    async with database.engine.connect() as conn:
        keys = (await conn.scalars(select(ReferralRow.idempotency_key))).all()
    assert len(set(keys)) == len(keys) == valid
