"""``mno schemas``: JSON Schemas, example instances and the data dictionary of the contract."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from schemas.common import AGENCY_CODE_PATTERN
from schemas.examples import EXAMPLES, RECEIVING_AGENCY, example

app = typer.Typer(
    help="Shared referral contract. / Contrat d'échange des référencements.",
    no_args_is_help=True,
)

DEFAULT_DICTIONARY = Path("docs/data-dictionary.md")


@app.command("export")
def export_cmd(
    directory: Annotated[
        Path, typer.Argument(help="Output folder. / Dossier de sortie.", file_okay=False)
    ],
) -> None:
    """Write one JSON Schema (draft 2020-12) per public model. / Écrit un schéma JSON par modèle."""
    from schemas.export import export

    written = export(directory)
    typer.echo(
        f"{len(written)} schémas écrits dans / schemas written to {directory}",
        err=True,
    )


@app.command("example")
def example_cmd(
    name: Annotated[
        str,
        typer.Argument(help="Model name, e.g. referral. / Nom du modèle, ex. referral."),
    ],
    to: Annotated[
        str,
        typer.Option("--to", help="Receiving agency code. / Code de l'agence destinataire."),
    ] = RECEIVING_AGENCY,
) -> None:
    """Print a valid example instance as JSON. / Affiche un exemple valide en JSON."""
    if name not in EXAMPLES:
        known = ", ".join(EXAMPLES)
        typer.echo(
            f"Modèle inconnu « {name} » (connus : {known}). / "
            f"Unknown model '{name}' (known: {known}).",
            err=True,
        )
        raise typer.Exit(2)
    if not re.fullmatch(AGENCY_CODE_PATTERN, to):
        typer.echo(f"Code d'agence invalide : {to!r}. / Invalid agency code: {to!r}.", err=True)
        raise typer.Exit(2)
    instance = example(name, to)
    typer.echo(
        json.dumps(
            instance.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False
        )
    )


@app.command("docs")
def docs_cmd(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Markdown file. / Fichier Markdown.")
    ] = DEFAULT_DICTIONARY,
) -> None:
    """Generate the data dictionary (French and English). / Génère le dictionnaire de données."""
    from schemas.dictionary import render_dictionary

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_dictionary(), encoding="utf-8")
    typer.echo(f"Dictionnaire écrit / dictionary written: {output}", err=True)
