"""``mno db``: database migrations."""

from __future__ import annotations

import typer

from gateway.db.migrate import pending_revisions
from gateway.db.migrate import upgrade as upgrade_db
from gateway.errors import ServiceUnavailable
from gateway.settings import Settings

app = typer.Typer(help="Database. / Base de données.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    check: bool = typer.Option(
        False,
        "--check",
        help="List pending migrations without applying them; exit 1 if any. / Liste les "
        "migrations en attente sans les appliquer ; code 1 s'il y en a.",
    ),
) -> None:
    """Apply migrations. / Applique les migrations."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if check:
        try:
            pending = pending_revisions(settings.resolved_database_url)
        except ServiceUnavailable as err:
            typer.echo(f"{err.message_fr}\n{err.message_en}", err=True)
            raise typer.Exit(2) from err
        if not pending:
            typer.echo("Aucune migration en attente. / No pending migration.")
            return
        typer.echo(f"Migrations en attente / pending migrations ({len(pending)}) :")
        for rev in pending:
            typer.echo(f"  {rev}")
        raise typer.Exit(1)
    upgrade_db(settings.resolved_database_url)
    typer.echo("Base de données à jour. / Database up to date.")
