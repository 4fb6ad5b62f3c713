"""``mno policy``: validate and summarise MoU data-sharing policy files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="MoU data-sharing policy. / Politique de partage des données du protocole d'accord.",
    no_args_is_help=True,
)

EXIT_INVALID = 1
EXIT_UNREADABLE = 2


@app.command("check")
def check(
    file: Annotated[
        Path, typer.Argument(help="Policy file (YAML). / Fichier de politique (YAML).")
    ],
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail on warnings too. / Échoue aussi en cas d'avertissements.",
        ),
    ] = False,
) -> None:
    """Validate a policy file and summarise it in French. / Valide un fichier et le résume."""
    from gateway.policy.loader import PolicyFileError, load_policy
    from gateway.policy.summary import summarise

    try:
        loaded = load_policy(file)
    except PolicyFileError as exc:
        lines = [f"Fichier de politique invalide : {exc.filename}"]
        lines += [f"  - {issue.where_fr()} : {issue.fr}" for issue in exc.issues]
        lines.append(f"Invalid policy file: {exc.filename}")
        lines += [f"  - {issue.where_en()}: {issue.en}" for issue in exc.issues]
        typer.echo("\n".join(lines), err=True)
        raise typer.Exit(EXIT_UNREADABLE if exc.kind == "unreadable" else EXIT_INVALID) from None

    typer.echo(summarise(loaded.source, loaded.warnings))
    typer.echo("")
    count = len(loaded.warnings)
    typer.echo(
        f"Fichier valide ({count} avertissement{'s' if count > 1 else ''}). / "
        f"Valid file ({count} warning{'s' if count != 1 else ''})."
    )
    if strict and count:
        raise typer.Exit(EXIT_INVALID)


@app.command("schema")
def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file. / Écrit dans ce fichier."),
    ] = None,
) -> None:
    """Print the JSON Schema of policy files. / Affiche le schéma JSON des fichiers."""
    from gateway.policy.schema import render_policy_json_schema

    text = render_policy_json_schema()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Schéma écrit : {output} / Schema written: {output}")
