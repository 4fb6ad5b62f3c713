"""``mno pseudonymise``: the agency-side kit on a CSV or XLSX register."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from connectors.pseudonym.errors import PseudonymError
from connectors.pseudonym.keys import LinkageKey, load_key_file, write_key_file
from connectors.pseudonym.pipeline import ColumnMapping, PseudonymiseReport, pseudonymise_file


def _fail(error: PseudonymError) -> typer.Exit:
    typer.echo(f"Erreur : {error.message_fr}\nError: {error.message_en}", err=True)
    return typer.Exit(code=2)


def pseudonymise(
    source: Annotated[
        Path | None,
        typer.Argument(
            metavar="IN", help="CSV or XLSX register to read. / Registre CSV ou XLSX à lire."
        ),
    ] = None,
    target: Annotated[
        Path | None,
        typer.Argument(
            metavar="OUT",
            help="CSV or XLSX file to write. / Fichier CSV ou XLSX à écrire.",
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Shared linkage key file of the MoU. / Fichier de la clé de liaison partagée.",
        ),
    ] = None,
    new_key: Annotated[
        Path | None,
        typer.Option(
            "--new-key",
            help="Create a new key file and stop. / Crée un nouveau fichier de clé et s'arrête.",
        ),
    ] = None,
    key_id: Annotated[
        str,
        typer.Option("--key-id", help="Id of the new key. / Identifiant de la nouvelle clé."),
    ] = "mou-1",
    given_column: Annotated[
        str | None, typer.Option(help="Given names column. / Colonne des prénoms.")
    ] = None,
    family_column: Annotated[
        str | None, typer.Option(help="Family name column. / Colonne du nom de famille.")
    ] = None,
    name_column: Annotated[
        str | None, typer.Option(help="Full name column. / Colonne du nom complet.")
    ] = None,
    birth_date_column: Annotated[
        str | None, typer.Option(help="Birth date column. / Colonne de la date de naissance.")
    ] = None,
    sex_column: Annotated[str | None, typer.Option(help="Sex column. / Colonne du sexe.")] = None,
    phone_column: Annotated[
        str | None, typer.Option(help="Phone column. / Colonne du téléphone.")
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(help="Identity document column. / Colonne de la pièce d'identité."),
    ] = None,
    birth_place_column: Annotated[
        str | None,
        typer.Option(help="Place of birth column. / Colonne du lieu de naissance."),
    ] = None,
    drop_column: Annotated[
        list[str] | None,
        typer.Option(
            "--drop-column",
            help="Other identifying column to drop (repeatable). / "
            "Autre colonne identifiante à supprimer (répétable).",
        ),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option(help="XLSX sheet (default: first). / Feuille XLSX.")
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="CSV text encoding. / Encodage du CSV.")
    ] = "utf-8-sig",
    delimiter: Annotated[
        str | None,
        typer.Option(help="CSV delimiter (default: detected). / Séparateur CSV (détecté)."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="No progress bar. / Sans barre de progression.")
    ] = False,
) -> None:
    """Pseudonymise a CSV/XLSX register. / Pseudonymise un registre CSV/XLSX."""
    try:
        if new_key is not None:
            if source is not None or target is not None:
                raise PseudonymError(
                    "--new-key s'utilise seul, sans IN ni OUT",
                    "--new-key is used alone, without IN or OUT",
                )
            write_key_file(new_key, LinkageKey.generate(key_id))
            typer.echo(
                f"Clé {key_id} écrite dans {new_key} : à partager entre membres du protocole "
                f"d'accord seulement. / Key {key_id} written to {new_key}: share it with MoU "
                "members only."
            )
            return
        if key_file is None or source is None or target is None:
            raise PseudonymError(
                "Usage : mno pseudonymise --key-file CLE ENTREE SORTIE",
                "Usage: mno pseudonymise --key-file KEY IN OUT",
            )
        key = load_key_file(key_file)
        explicit = {
            name: column
            for name, column in (
                ("given", given_column),
                ("family", family_column),
                ("full_name", name_column),
                ("birth_date", birth_date_column),
                ("sex", sex_column),
                ("phone", phone_column),
                ("id_number", id_column),
                ("birth_place", birth_place_column),
            )
            if column
        }
        base = ColumnMapping()
        columns = ColumnMapping(
            explicit=explicit, also_drop=(*base.also_drop, *(drop_column or ()))
        )
        report = _run(source, target, key, columns, sheet, encoding, delimiter, quiet)
    except PseudonymError as error:
        raise _fail(error) from None
    typer.echo(
        f"{report.rows} lignes, {report.encoded} pseudonymisées, {report.without_name} sans nom ; "
        f"colonnes supprimées : {', '.join(report.dropped_columns)}. / "
        f"{report.rows} rows, {report.encoded} pseudonymised, {report.without_name} without a "
        f"name; dropped columns: {', '.join(report.dropped_columns)}."
    )


def _run(
    source: Path,
    target: Path,
    key: LinkageKey,
    columns: ColumnMapping,
    sheet: str | None,
    encoding: str,
    delimiter: str | None,
    quiet: bool,
) -> PseudonymiseReport:
    if quiet:
        return pseudonymise_file(
            source,
            target,
            key,
            columns=columns,
            sheet=sheet,
            encoding=encoding,
            delimiter=delimiter,
        )
    bytes_column = DownloadColumn() if source.suffix.lower() in (".csv", ".txt", ".tsv") else None
    columns_shown = [
        TextColumn("Pseudonymisation / Pseudonymising"),
        BarColumn(),
        TaskProgressColumn(),
        *([bytes_column] if bytes_column else []),
        TimeRemainingColumn(),
    ]
    with Progress(*columns_shown, transient=True) as bar:
        task = bar.add_task("pseudonymise", total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        return pseudonymise_file(
            source,
            target,
            key,
            columns=columns,
            sheet=sheet,
            encoding=encoding,
            delimiter=delimiter,
            progress=advance,
        )
