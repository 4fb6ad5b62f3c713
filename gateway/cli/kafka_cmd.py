"""``mno kafka``: topics and the embedded broker."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from gateway.agencies.models import Agency
from gateway.db.engine import is_sqlite, make_engine
from gateway.events.broker import broker_for, embedded_for
from gateway.events.topics import ensure_topics
from gateway.settings import Settings

app = typer.Typer(
    help="Kafka topics and embedded broker. / Topics Kafka et courtier embarqué.",
    no_args_is_help=True,
)


async def agency_codes_from_db(settings: Settings) -> list[str]:
    """Codes of the registered agencies; none while the database is missing or unmigrated."""
    url = settings.resolved_database_url
    if is_sqlite(url) and not Path(url.split("///", 1)[-1]).exists():
        return []  # never create an empty database file just to read it
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(Agency.code).order_by(Agency.code))
            return [str(code) for code in rows.scalars()]
    except DBAPIError:
        return []  # not migrated yet: only the --agency codes are used
    finally:
        await engine.dispose()


@app.command("init")
def init(
    agency: Annotated[
        list[str] | None,
        typer.Option(
            "--agency",
            help="Agency code whose inbox topic to create (repeatable), besides those in the "
            "database. / Code d'agence dont créer le topic de boîte (répétable), en plus de "
            "ceux de la base.",
        ),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            min=1, help="Partitions of the canonical topics. / Partitions des topics canoniques."
        ),
    ] = None,
    replication: Annotated[
        int | None,
        typer.Option(min=1, help="Replication factor. / Facteur de réplication."),
    ] = None,
) -> None:
    """Create the Kafka topics (idempotent). / Crée les topics Kafka (idempotent)."""
    settings = Settings()

    async def _main() -> tuple[list[str], list[str]]:
        codes = sorted({*(c.upper() for c in agency or []), *await agency_codes_from_db(settings)})
        async with broker_for(settings) as bootstrap:
            created = await ensure_topics(
                bootstrap,
                codes,
                partitions or settings.kafka_partitions,
                replication or settings.kafka_replication,
            )
        return codes, created

    codes, created = asyncio.run(_main())
    for name in created:
        typer.echo(f"créé / created: {name}")
    typer.echo(
        f"Topics prêts ({len(created)} créés, {len(codes)} agence(s)). / "
        f"Topics ready ({len(created)} created, {len(codes)} agency(ies))."
    )


@app.command("broker")
def broker() -> None:
    """Run the embedded broker until Ctrl-C. / Lance le courtier embarqué jusqu'à Ctrl-C."""
    settings = Settings()
    kafka = embedded_for(settings)

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with kafka:
            await ensure_topics(
                kafka.bootstrap, (), settings.kafka_partitions, settings.kafka_replication
            )
            typer.echo(f"MNO_KAFKA_BOOTSTRAP={kafka.bootstrap}")
            typer.echo(f"Journal / log: {kafka.logs_dir}")
            await stop.wait()
        typer.echo("Courtier arrêté. / Broker stopped.")

    asyncio.run(_main())
