"""``mno``: every command of the MNO gateway. Help is in English and French."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.cli import db_cmd, meal_cmd, run_cmd, workers_cmd
from gateway.cli.registry import register_groups

app = typer.Typer(
    name="mno",
    help="MNO Gateway — national referral mechanism exchange. / "
    "Passerelle du Mécanisme National d'Orientation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cmd.app, name="db")
register_groups(app)


@app.command("run")
def run(
    port: Annotated[int, typer.Option(help="HTTP port. / Port HTTP.")] = 8000,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Data folder. / Dossier des données.")
    ] = Path("./var"),
    host: Annotated[str, typer.Option(help="Listen address. / Adresse d'écoute.")] = "127.0.0.1",
) -> None:
    """Run the whole system with demo data. / Lance tout le système avec des données de démo."""
    run_cmd.run_all(host=host, port=port, data_dir=data_dir)


@app.command("gateway")
def gateway(
    host: Annotated[str, typer.Option(help="Listen address. / Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port. / Port HTTP.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes (default: the number of cores). / Processus (par défaut : "
            "le nombre de cœurs).",
        ),
    ] = None,
) -> None:
    """Run the HTTP gateway only. / Lance uniquement la passerelle HTTP."""
    run_cmd.run_gateway(host=host, port=port, workers=workers)


@app.command("relay")
def relay() -> None:
    """Run the outbox relay only. / Lance uniquement le relais de la boîte d'envoi."""
    workers_cmd.run_relay()


@app.command("meal-aggregator")
def meal_aggregator(rebuild: meal_cmd.RebuildOption = False) -> None:
    """Run the MEAL aggregator only. / Lance uniquement l'agrégateur MEAL."""
    meal_cmd.run_aggregator(rebuild=rebuild)


@app.command("router")
def router() -> None:
    """Run the policy-aware router only. / Lance uniquement le routeur."""
    workers_cmd.run_router()


@app.command("linkage-worker")
def linkage_worker() -> None:
    """Run the linkage worker (duplicate-assistance detection) only. / Lance uniquement le
    travailleur de liaison (détection des doubles assistances)."""
    workers_cmd.run_linkage_worker()


@app.command("notifier")
def notifier() -> None:
    """Run the notifier (webhooks, e-mail, SMS) only. / Lance uniquement le notificateur."""
    from gateway.cli.notifier_cmd import run_notifier

    run_notifier()


if __name__ == "__main__":  # pragma: no cover
    app()
