"""``mno db``: database migrations."""

from __future__ import annotations

import typer

from gateway.db.migrate import upgrade as upgrade_db
from gateway.settings import Settings

app = typer.Typer(help="Database. / Base de données.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply migrations. / Applique les migrations."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_db(settings.resolved_database_url)
    typer.echo("Base de données à jour. / Database up to date.")
