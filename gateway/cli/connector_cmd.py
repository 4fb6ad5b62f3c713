"""``mno connector run``: the agency-side connector for legacy databases and field exports."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from connectors.client import GatewayRefused, GatewayUnavailable
from connectors.mapping import ConnectorError
from connectors.runner import ConnectorConfig, Counters, Runner, format_report
from gateway.ops.logging import configure_logging

app = typer.Typer(
    help="Legacy database and field-export connector. / "
    "Connecteur pour bases de données existantes et exports de terrain.",
    no_args_is_help=True,
)


class RichProgress:
    """A progress bar on the terminal (stderr); counters in its description."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def start(self, total: int | None) -> None:
        self._progress.start()
        self._task = self._progress.add_task("lignes / rows", total=total)

    def advance(self, rows: int, counters: Counters) -> None:
        if self._task is None:
            return
        lag = f" · retard/lag {counters.lag_seconds:.0f}s" if counters.lag_seconds else ""
        self._progress.update(
            self._task,
            advance=rows,
            description=f"envoyées/sent {counters.rows_sent} · "
            f"rejetées/rejected {counters.rows_rejected}{lag}",
        )

    def stop(self) -> None:
        self._progress.stop()


@app.command("run")
def run(
    config: Annotated[
        Path,
        typer.Argument(
            metavar="CONFIG.yaml",
            help="Connector configuration. / Configuration du connecteur.",
        ),
    ],
    once: Annotated[
        bool, typer.Option("--once", help="Poll once, then stop. / Une seule relève, puis arrêt.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Validate every row and print the report; send nothing. / Valide chaque "
            "ligne et affiche le rapport ; n'envoie rien.",
        ),
    ] = False,
    progress: Annotated[
        bool,
        typer.Option(
            "--progress/--no-progress",
            help="Progress bar (default: on a terminal). / Barre de progression.",
        ),
    ] = sys.stderr.isatty(),
    json_report: Annotated[
        bool,
        typer.Option("--json", help="Print the counters as JSON. / Compteurs en JSON."),
    ] = False,
    log_level: Annotated[
        str, typer.Option("--log-level", help="Log level. / Niveau de journalisation.")
    ] = "INFO",
) -> None:
    """Read, pseudonymise, encrypt and send legacy rows. / Lit, pseudonymise, chiffre et
    envoie les lignes d'un système existant."""
    configure_logging(log_level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        loaded = ConnectorConfig.load(config)
        hook = RichProgress(Console(stderr=True)) if progress else None
        runner = Runner(loaded, progress=hook)
        report = asyncio.run(runner.run(once=once, dry_run=dry_run))
    except GatewayRefused as exc:
        typer.echo(f"Erreur : {exc.message_fr}\nError: {exc.message_en}", err=True)
        raise typer.Exit(code=4) from None
    except GatewayUnavailable as exc:
        typer.echo(f"Erreur : {exc.message_fr}\nError: {exc.message_en}", err=True)
        raise typer.Exit(code=3) from None
    except ConnectorError as exc:
        typer.echo(f"Erreur : {exc.message_fr}\nError: {exc.message_en}", err=True)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        typer.echo("Interrompu / interrupted", err=True)
        raise typer.Exit(code=130) from None
    if json_report:
        typer.echo(
            json.dumps(
                {
                    "connector_id": report.connector_id,
                    "source": report.source,
                    "dry_run": report.dry_run,
                    "seconds": round(report.seconds, 3),
                    **report.counters.as_dict(),
                    "rejected": [
                        {
                            "pk": r.pk,
                            "stage": r.stage,
                            "errors": [e.as_dict() for e in r.rejections],
                        }
                        for r in report.rejected
                    ],
                },
                ensure_ascii=False,
                default=str,
            )
        )
    else:
        typer.echo(format_report(report))
        if report.counters.rows_rejected and not report.dry_run:
            typer.echo(
                f"\nQuarantaine / quarantine: {loaded.quarantine_file}",
            )
