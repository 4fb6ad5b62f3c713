"""``mno doctor``: is this installation healthy? Exit 0 when every check passes, 1 otherwise."""

from __future__ import annotations

import asyncio

import typer

from gateway.ops.doctor import run_checks
from gateway.settings import Settings


def doctor(
    kafka: str | None = typer.Option(
        None, "--kafka", help="Broker to check (default MNO_KAFKA_BOOTSTRAP). / Broker à vérifier."
    ),
) -> None:
    """Check configuration, database, broker, keys, clock, disk. / Vérifie l'installation."""
    try:
        settings = Settings()
    except ValueError as exc:
        typer.echo(f"[ÉCHEC/FAIL] configuration : {exc}")
        raise typer.Exit(1) from exc
    checks = asyncio.run(run_checks(settings, kafka))
    for check in checks:
        mark = "[OK]" if check.ok else "[ÉCHEC/FAIL]"
        typer.echo(f"{mark} {check.name} : {check.message_fr}\n      {check.message_en}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
