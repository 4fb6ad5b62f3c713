"""``mno directory``: import and export the service directory as Open Referral HSDS 3.0."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli.common import run_with_session
from gateway.errors import MnoError
from gateway.settings import Settings

app = typer.Typer(
    help="Service-provider directory (HSDS). / Annuaire des prestataires (HSDS).",
    no_args_is_help=True,
)


def _fail(exc: MnoError) -> typer.Exit:
    typer.echo(f"{exc.message_fr} / {exc.message_en}", err=True)
    return typer.Exit(1)


@app.command("import")
def import_cmd(
    source: Annotated[
        Path,
        typer.Argument(
            help="HSDS JSON file, or a folder (or file) of HSDS CSV tables. / Fichier JSON "
            "HSDS, ou dossier (ou fichier) de tables CSV HSDS.",
            exists=True,
        ),
    ],
) -> None:
    """Create or update services (and missing agencies). / Crée ou met à jour les services."""
    from gateway.directory import hsds
    from gateway.directory import service as directory_service

    try:
        organizations, entries = hsds.from_hsds(hsds.read_document(source))
    except MnoError as exc:
        raise _fail(exc) from None

    async def work(session: AsyncSession, _settings: Settings) -> directory_service.ImportReport:
        return await directory_service.import_directory(session, organizations, entries)

    try:
        report = run_with_session(work)
    except MnoError as exc:
        raise _fail(exc) from None
    typer.echo(
        f"Agences créées / agencies created: {len(report.agencies_created)}; "
        f"services créés / created: {len(report.services_created)}; "
        f"mis à jour / updated: {len(report.services_updated)}"
    )


@app.command("export")
def export_cmd(
    directory: Annotated[
        Path, typer.Argument(help="Output folder. / Dossier de sortie.", file_okay=False)
    ],
) -> None:
    """Write directory.json (HSDS JSON) and the HSDS CSV tables. / Exporte l'annuaire."""
    from gateway.directory import hsds
    from gateway.directory import service as directory_service

    async def work(session: AsyncSession, _settings: Settings) -> dict[str, object]:
        organizations, records = await directory_service.export_directory(session)
        return hsds.to_hsds(organizations, [r.entry() for r in records])

    document = run_with_session(work)
    written = hsds.write_export(document, directory)
    typer.echo(f"{len(written)} fichiers écrits dans / files written to {directory}", err=True)
