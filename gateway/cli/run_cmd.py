"""``mno run`` (the whole system on the embedded default) and ``mno gateway``."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import uvicorn
from sqlalchemy import func, select

from gateway.agencies import repository as agency_repository
from gateway.app import create_app
from gateway.dashboard.service import seed_demo_staff
from gateway.db.engine import make_engine, make_sessionmaker
from gateway.db.migrate import upgrade
from gateway.demo import DemoClient, demo_traffic, seed_agencies
from gateway.events.broker import broker_for
from gateway.events.topics import ensure_topics
from gateway.linkage.rekey import linkage_secret
from gateway.linkage.service import DuplicateRule
from gateway.ops.logging import configure_logging
from gateway.outbox.relay import Relay
from gateway.referrals.models import ReferralRow
from gateway.settings import Settings
from gateway.workers import supervise


def run_gateway(*, host: str, port: int, workers: int | None = None) -> None:
    """The HTTP gateway under uvicorn; several worker processes share the port (default: one
    per core), each building its own app from the same environment."""
    settings = Settings()
    configure_logging(settings.log_level)
    count = workers or os.cpu_count() or 1
    if count == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
        return
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=count,
        log_config=None,
    )


def run_all(*, host: str, port: int, data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir)
    if "issuer" not in settings.model_fields_set:
        settings = settings.model_copy(update={"issuer": f"http://{host}:{port}"})
    configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_all(settings, host, port))
    print("MNO arrêté proprement. / MNO stopped cleanly.")  # noqa: T201


def _banner(base: str, clients: list[DemoClient], bootstrap: str) -> str:
    lines = [
        "",
        "MNO Gateway — système complet démarré / whole system running",
        f"  API + OpenAPI : {base}/docs",
        f"  Santé/health  : {base}/healthz   Prêt/ready: {base}/readyz",
        f"  Jeton/token   : POST {base}/oauth/token (client_credentials)",
        f"  Kafka         : {bootstrap}",
        "  Identifiants de démonstration / demo credentials (client_secret_basic):",
    ]
    for c in clients:
        lines.append(f"    {c.agency:<16} {c.client_id}  {c.client_secret}")
    lines.append("  Ctrl-C pour arrêter / to stop.")
    return "\n".join(lines)


async def _run_all(settings: Settings, host: str, port: int) -> None:
    from consumers.linkage.handler import LinkageWorker
    from consumers.meal.handler import MealAggregator
    from consumers.notifier.handler import Notifier
    from consumers.router.handler import Router

    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    async with broker_for(settings) as bootstrap:
        settings = settings.model_copy(update={"kafka_bootstrap": bootstrap})
        engine = make_engine(settings.resolved_database_url)
        sessionmaker = make_sessionmaker(engine)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        try:
            clients = await seed_agencies(sessionmaker, settings.data_dir)
            async with sessionmaker() as session:
                staff = await seed_demo_staff(session, settings.data_dir)
                await session.commit()
            async with sessionmaker() as session:
                codes = [a.code for a in await agency_repository.list_agencies(session)]
                referrals = (
                    await session.execute(select(func.count()).select_from(ReferralRow))
                ).scalar_one()
            await ensure_topics(
                bootstrap, codes, settings.kafka_partitions, settings.kafka_replication
            )
            relay = Relay(sessionmaker, bootstrap)
            router = Router(bootstrap, sessionmaker)
            linkage = LinkageWorker(
                bootstrap,
                sessionmaker,
                secret=linkage_secret(settings),
                rule=DuplicateRule.from_settings(settings),
            )
            tasks = [
                asyncio.create_task(supervise("relay", relay.run, stop)),
                asyncio.create_task(supervise("router", router.run, stop)),
                asyncio.create_task(
                    supervise("notifier", Notifier(bootstrap, sessionmaker, settings).run, stop)
                ),
                asyncio.create_task(
                    supervise("meal", MealAggregator(bootstrap, sessionmaker).run, stop)
                ),
                asyncio.create_task(supervise("linkage", linkage.run, stop)),
            ]
            server = uvicorn.Server(
                uvicorn.Config(create_app(settings), host=host, port=port, log_config=None)
            )
            serving = asyncio.create_task(server.serve())
            while not server.started and not serving.done():
                await asyncio.sleep(0.05)
            base = f"http://{host}:{port}"
            if server.started:
                if referrals == 0:
                    await demo_traffic(base, clients)
                print(_banner(base, clients, bootstrap), flush=True)  # noqa: T201
                print(  # noqa: T201
                    f"  Tableau de bord / dashboard: {base}/dashboard  {staff[0]}  {staff[1]}",
                    flush=True,
                )
            await serving
        finally:
            stop.set()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=15)
            await engine.dispose()
