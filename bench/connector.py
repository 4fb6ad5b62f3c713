"""Connector throughput and memory: legacy rows → the real gateway on loopback.

Fills a synthetic legacy case table (``dossiers_retour``, French columns) in SQLite with 20,000
then 100,000 rows, and runs ``mno connector run --once`` on each as a child process against the
gateway under uvicorn (SQLite or PostgreSQL behind it). Reports rows per second and the child's
peak resident memory (``wait4`` rusage): memory must stay flat as the table grows, because
the source is read in keyset pages and nothing is kept per row. Also compares the batch
endpoint with one ``POST /v1/referrals`` per row on a smaller table. Prints one JSON document.

    python bench/connector.py [--sizes 20000,100000] [--live-sizes 20000,100000]
                              [--gateway-db sqlite|postgres] [--compare 3000] [--batch-size 200]

Each size runs twice: ``--dry-run`` (read, map, pseudonymise, encrypt: the connector alone) and
live (sent to the gateway and checkpointed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from joserfc.jwk import ECKey
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._server import Server  # noqa: E402
from connectors.pseudonym.keys import LinkageKey, write_key_file  # noqa: E402
from gateway.agencies import service as agency_service  # noqa: E402
from gateway.db.engine import make_engine, make_sessionmaker  # noqa: E402
from gateway.db.migrate import upgrade  # noqa: E402
from tests.connectors.factories import LegacyDb, legacy_rows  # noqa: E402

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/connectors_bench"
EXAMPLE = ROOT / "connectors" / "examples" / "dossiers_retour.yaml"


async def prepare_gateway(url: str) -> tuple[str, str]:
    """A migrated gateway database with the referrer and two receivers; the client's creds."""
    if url.startswith("postgresql"):
        admin = make_engine(url.rsplit("/", 1)[0] + "/postgres")
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("DROP DATABASE IF EXISTS connectors_bench WITH (FORCE)"))
            await conn.execute(text("CREATE DATABASE connectors_bench"))
        await admin.dispose()
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        for code in ("CDS-KANKAN", "MEC-CONAKRY"):
            key = ECKey.generate_key("P-256", auto_kid=True)
            await agency_service.add_agency(
                session,
                code=code,
                name=f"Bench {code}",
                kind="provider",
                public_jwk=dict(key.as_dict(private=False)),
            )
        await agency_service.add_agency(session, code="OIM-GN", name="Bench OIM", kind="un")
        new = await agency_service.create_client(
            session, agency_code="OIM-GN", scopes="referrals:write"
        )
        await session.commit()
    await engine.dispose()
    assert new.client_secret is not None
    return new.client.client_id, new.client_secret


async def fill_legacy(path: Path, rows: int) -> LegacyDb:
    legacy = LegacyDb("sqlite", f"sqlite:///{path}", "dossiers_retour")
    await legacy.create()
    await legacy.insert(legacy_rows(rows, faults=False), chunk=5000)
    await legacy.dispose()
    return legacy


def write_config(
    folder: Path, legacy: LegacyDb, key_file: Path, server: Server, client_id: str, **extra: Any
) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["linkage_key_file"] = str(key_file)
    data["source"].pop("url_env")
    data["source"].update({"url": legacy.url, "table": legacy.table_name, "lookback_seconds": 0})
    data["gateway"].update({"url": server.base, "client_id": client_id})
    data.update(extra)
    path = folder / f"{data['connector_id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def run_connector(config: Path, secret: str, *, dry_run: bool = False) -> dict[str, Any]:
    """One ``mno connector run --once`` child; its counters, wall time and peak RSS."""
    env = {**os.environ, "MNO_CONNECTEUR_SECRET": secret, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    errors = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", "connector", "run", str(config),
         "--dry-run" if dry_run else "--once", "--json", "--no-progress",
         "--log-level", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors,
    )  # fmt: skip
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    errors.seek(0)
    err = errors.read()
    errors.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"connector failed ({process.returncode}): {err.decode()[-2000:]}")
    report = json.loads(out)
    return {
        "rows": report["rows_read"],
        "created": report["rows_accepted"] if dry_run else report["rows_created"],
        "rejected": report["rows_rejected"],
        "connector_seconds": report["seconds"],
        "wall_seconds": round(elapsed, 2),
        "rows_per_second": round(report["rows_read"] / report["seconds"], 1),
        # Linux reports ru_maxrss in KiB.
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        # The connector's own CPU per row (the rest of the time it waits for the gateway).
        "connector_cpu_ms_per_row": round(
            (usage.ru_utime + usage.ru_stime) * 1000 / max(report["rows_read"], 1), 3
        ),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000", help="legacy table sizes")
    parser.add_argument(
        "--live-sizes", default=None, help="sizes sent to the gateway (default: --sizes)"
    )
    parser.add_argument("--gateway-db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--compare", type=int, default=3000, help="rows for batch vs single")
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    live_sizes = [int(s) for s in (args.live_sizes or args.sizes).split(",") if s]

    with tempfile.TemporaryDirectory(prefix="mno-bench-connector-") as tmp:
        folder = Path(tmp)
        url = PG_URL if args.gateway_db == "postgres" else f"sqlite+aiosqlite:///{folder}/gw.db"
        client_id, secret = await prepare_gateway(url)
        key_file = folder / "cle-liaison.json"
        write_key_file(key_file, LinkageKey.generate("bench-1"))
        server = Server(
            "gateway.app:create_app",
            {
                "MNO_DATABASE_URL": url,
                "MNO_DATA_DIR": str(folder),
                "MNO_ISSUER": "http://127.0.0.1",
                "MNO_LOG_LEVEL": "WARNING",
            },
        )
        results: dict[str, Any] = {
            "benchmark": "connector",
            "gateway_db": args.gateway_db,
            "batch_size": args.batch_size,
            # Read, map, pseudonymise and encrypt every row; nothing sent (the connector alone).
            "dry_run": [],
            # The same, sent to the gateway and checkpointed (bounded by the gateway's work).
            "live": [],
        }
        try:
            server.wait()
            for size in sorted(set(sizes) | set(live_sizes)):
                legacy = await fill_legacy(folder / f"legacy-{size}.db", size)
                config = write_config(
                    folder, legacy, key_file, server, client_id,
                    connector_id=f"bench-{size}", batch_size=args.batch_size,
                )  # fmt: skip
                if size in sizes:
                    dry = run_connector(config, secret, dry_run=True)
                    assert dry["created"] == size, dry
                    results["dry_run"].append(dry)
                if size in live_sizes:
                    live = run_connector(config, secret)
                    assert live["created"] == size, live
                    results["live"].append(live)
            for mode in ("dry_run", "live"):
                runs = results[mode]
                if len(runs) >= 2:
                    first, last = runs[0], runs[-1]
                    results[f"{mode}_memory_growth"] = round(
                        last["peak_rss_mib"] / first["peak_rss_mib"], 3
                    )
                    results[f"{mode}_rows_growth"] = round(last["rows"] / first["rows"], 1)
            if args.compare:
                legacy = await fill_legacy(folder / "legacy-compare.db", args.compare)
                comparison = {}
                for mode, batch in (("batch", True), ("single", False)):
                    config = write_config(
                        folder, legacy, key_file, server, client_id,
                        connector_id=f"bench-compare-{mode}", batch_size=args.batch_size,
                    )  # fmt: skip
                    data = yaml.safe_load(config.read_text(encoding="utf-8"))
                    data["gateway"]["batch"] = batch
                    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
                    comparison[mode] = run_connector(config, secret)["rows_per_second"]
                comparison["speedup"] = round(comparison["batch"] / comparison["single"], 2)
                results["batch_vs_single_rows_per_second"] = comparison
        finally:
            server.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
