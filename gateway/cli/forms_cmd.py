"""``mno forms``: XLSForms, printable forms and the referral flow diagram."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Operational forms and flow diagram. / Fiches et diagramme de flux.",
    no_args_is_help=True,
)


@app.command("build")
def build_cmd(
    directory: Annotated[
        Path, typer.Argument(help="Output folder. / Dossier de sortie.", file_okay=False)
    ],
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="MoU policy file for the diagram's note (default: the repository's draft). / "
            "Protocole d'accord pour la note du diagramme.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """XLSForm (.xlsx), HTML and PDF forms, flow diagram (SVG, PNG). / Génère les fiches."""
    from gateway.errors import MnoError
    from gateway.forms.build import build_all
    from gateway.forms.flow import load_policy_file

    try:
        written = build_all(directory, load_policy_file(policy))
    except MnoError as exc:
        typer.echo(f"{exc.message_fr} / {exc.message_en}", err=True)
        raise typer.Exit(1) from None
    for path in written:
        typer.echo(str(path))
    typer.echo(f"{len(written)} fichiers écrits dans / files written to {directory}", err=True)
