"""Streaming pseudonymisation of a CSV or XLSX register (what ``mno pseudonymise`` runs).

Rows are read one at a time and written to a temporary file next to the output; the output
appears (atomic rename) only once every row is done. A missing column, an unreadable file or a
bad key stops everything before anything is written, and nothing partial is ever left behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.pseudonym.encoder import Pseudonymiser
from connectors.pseudonym.errors import PseudonymError
from connectors.pseudonym.keys import LinkageKey
from connectors.pseudonym.normalise import fold_text

# Output columns added to every row.
ADDED_COLUMNS = ("pseudonym", "key_id", "tokens", "bloom", "birth_year", "sex")

FIELDS = ("given", "family", "full_name", "birth_date", "sex", "phone", "id_number", "birth_place")

# Header names recognised for each field, compared after folding ("Prénoms" → "prenoms",
# "Date de naissance" → "date_de_naissance").
DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "given": ("prenom", "prenoms", "given_name", "given_names", "first_name", "firstname"),
    "family": ("nom", "nom_de_famille", "family_name", "surname", "last_name", "lastname"),
    "full_name": (
        "nom_complet",
        "nom_prenom",
        "nom_prenoms",
        "nom_et_prenom",
        "nom_et_prenoms",
        "prenom_nom",
        "full_name",
        "fullname",
        "name",
    ),
    "birth_date": (
        "date_naissance",
        "date_de_naissance",
        "naissance",
        "ddn",
        "ne_le",
        "birth_date",
        "date_of_birth",
        "dob",
        "birthdate",
    ),
    "sex": ("sexe", "sex", "genre", "gender"),
    "phone": (
        "telephone",
        "tel",
        "numero_telephone",
        "numero_de_telephone",
        "portable",
        "mobile",
        "contact",
        "phone",
        "phone_number",
    ),
    "id_number": (
        "numero_piece",
        "numero_de_piece",
        "piece_identite",
        "numero_cni",
        "cni",
        "passeport",
        "numero_passeport",
        "id_number",
        "national_id",
        "document_number",
        "passport",
    ),
    "birth_place": ("lieu_naissance", "lieu_de_naissance", "ne_a", "birth_place", "place_of_birth"),
}
# Other columns that identify a person: dropped as well, never copied to the output.
DEFAULT_ALSO_DROP = (
    "adresse",
    "address",
    "email",
    "courriel",
    "e_mail",
    "nom_pere",
    "nom_du_pere",
    "prenom_pere",
    "nom_mere",
    "nom_de_la_mere",
    "prenom_mere",
    "father_name",
    "mother_name",
    "photo",
    "signature",
    "surnom",
    "nickname",
    "alias",
)


def header_key(header: object) -> str:
    return fold_text(str(header or "")).replace(" ", "_")


@dataclass(frozen=True)
class ColumnMapping:
    """Which input column holds which field; explicit names must exist in the header."""

    explicit: dict[str, str] = field(default_factory=dict)  # field → header as written
    aliases: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ALIASES))
    also_drop: tuple[str, ...] = DEFAULT_ALSO_DROP

    def resolve(self, header: Sequence[object]) -> dict[str, int]:
        """Field → column index. Raises a bilingual error for a missing column."""
        keys = [header_key(name) for name in header]
        positions: dict[str, int] = {}
        for field_name, column in self.explicit.items():
            wanted = header_key(column)
            if wanted not in keys:
                raise PseudonymError(
                    f"Colonne introuvable : « {column} » (champ {field_name}). "
                    f"Colonnes du fichier : {', '.join(str(name) for name in header)}",
                    f"Column not found: '{column}' (field {field_name}). "
                    f"File columns: {', '.join(str(name) for name in header)}",
                )
            positions[field_name] = keys.index(wanted)
        for field_name in FIELDS:
            if field_name in positions:
                continue
            for alias in self.aliases.get(field_name, ()):
                if alias in keys and keys.index(alias) not in positions.values():
                    positions[field_name] = keys.index(alias)
                    break
        if not ({"given", "family", "full_name"} & positions.keys()):
            raise PseudonymError(
                "Aucune colonne de nom : il faut « nom » et « prenom », ou « nom_complet » "
                "(ou --name-column / --given-column / --family-column). "
                f"Colonnes du fichier : {', '.join(str(name) for name in header)}",
                "No name column: 'nom' and 'prenom', or 'nom_complet', are required "
                "(or --name-column / --given-column / --family-column). "
                f"File columns: {', '.join(str(name) for name in header)}",
            )
        return positions

    def dropped(self, header: Sequence[object], positions: dict[str, int]) -> set[int]:
        extra = {header_key(name) for name in self.also_drop}
        drop = set(positions.values())
        drop.update(index for index, name in enumerate(header) if header_key(name) in extra)
        return drop


@dataclass
class PseudonymiseReport:
    """What a run did, for the person who ran it."""

    rows: int = 0
    encoded: int = 0
    without_name: int = 0
    dropped_columns: list[str] = field(default_factory=list)
    kept_columns: list[str] = field(default_factory=list)


Progress = Callable[[int, int | None], None]


# ---------------------------------------------------------------------------------------------
# Readers and writers


class _CsvReader:
    def __init__(self, path: Path, encoding: str, delimiter: str | None) -> None:
        self._raw = path.open("rb")
        self.total = path.stat().st_size
        self._text = io.TextIOWrapper(self._raw, encoding=encoding, newline="")
        try:
            sample = self._text.read(65536)
        except UnicodeDecodeError:
            self.close()
            raise PseudonymError(
                f"Encodage illisible en {encoding} : essayez --encoding cp1252 (Excel Windows)",
                f"Cannot decode as {encoding}: try --encoding cp1252 (Windows Excel)",
            ) from None
        self._text.seek(0)
        if delimiter is None:
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        self.delimiter = delimiter
        self._rows = csv.reader(self._text, delimiter=delimiter)

    @property
    def done(self) -> int:
        return self._raw.tell()

    def __iter__(self) -> Iterator[list[Any]]:
        try:
            yield from self._rows
        except UnicodeDecodeError:
            raise PseudonymError(
                "Caractère illisible dans le fichier : essayez --encoding cp1252",
                "Undecodable character in the file: try --encoding cp1252",
            ) from None

    def close(self) -> None:
        self._text.close()


class _XlsxReader:
    def __init__(self, path: Path, sheet: str | None) -> None:
        import openpyxl  # only needed for spreadsheets
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, OSError, KeyError, ValueError) as exc:
            raise PseudonymError(
                f"Classeur XLSX illisible : {path} ({exc})",
                f"Unreadable XLSX workbook: {path} ({exc})",
            ) from None
        if sheet is not None and sheet not in self._book.sheetnames:
            names = ", ".join(self._book.sheetnames)
            self.close()
            raise PseudonymError(
                f"Feuille introuvable : « {sheet} » (feuilles : {names})",
                f"Sheet not found: '{sheet}' (sheets: {names})",
            )
        self._sheet = self._book[sheet] if sheet else self._book.active
        max_row = getattr(self._sheet, "max_row", None)
        self.total: int | None = max_row if isinstance(max_row, int) and max_row > 0 else None
        self.done = 0

    def __iter__(self) -> Iterator[list[Any]]:
        for row in self._sheet.iter_rows(values_only=True):
            self.done += 1
            yield list(row)

    def close(self) -> None:
        self._book.close()


class _CsvWriter:
    def __init__(self, handle: io.TextIOWrapper, delimiter: str) -> None:
        self._writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")

    def write(self, row: Sequence[object]) -> None:
        self._writer.writerow(["" if value is None else value for value in row])


class _XlsxWriter:
    def __init__(self) -> None:
        import openpyxl

        self.book = openpyxl.Workbook(write_only=True)
        self._sheet = self.book.create_sheet("pseudonymes")

    def write(self, row: Sequence[object]) -> None:
        self._sheet.append(list(row))


def _format(path: Path, role_fr: str, role_en: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    raise PseudonymError(
        f"Format de {role_fr} non pris en charge : {path.name} (CSV ou XLSX)",
        f"Unsupported {role_en} format: {path.name} (CSV or XLSX)",
    )


# ---------------------------------------------------------------------------------------------
# The run


def pseudonymise_file(
    source: Path,
    target: Path,
    key: LinkageKey,
    *,
    columns: ColumnMapping | None = None,
    sheet: str | None = None,
    encoding: str = "utf-8-sig",
    delimiter: str | None = None,
    progress: Progress | None = None,
) -> PseudonymiseReport:
    """Pseudonymise ``source`` into ``target``: all or nothing."""
    columns = columns or ColumnMapping()
    if not source.is_file():
        raise PseudonymError(
            f"Fichier d'entrée introuvable : {source}", f"Input file not found: {source}"
        )
    if source.resolve() == target.resolve():
        raise PseudonymError(
            "Le fichier de sortie doit être différent du fichier d'entrée",
            "The output file must differ from the input file",
        )
    in_format = _format(source, "l'entrée", "input")
    out_format = _format(target, "la sortie", "output")
    if not target.parent.is_dir():
        raise PseudonymError(
            f"Dossier de sortie introuvable : {target.parent}",
            f"Output folder not found: {target.parent}",
        )
    reader: _CsvReader | _XlsxReader = (
        _CsvReader(source, encoding, delimiter)
        if in_format == "csv"
        else _XlsxReader(source, sheet)
    )
    # The temporary file sits next to the target so that the final rename is atomic.
    try:
        descriptor, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as exc:
        reader.close()
        raise PseudonymError(
            f"Impossible d'écrire dans {target.parent} ({exc.strerror})",
            f"Cannot write to {target.parent} ({exc.strerror})",
        ) from None
    os.close(descriptor)
    temporary = Path(name)
    try:
        with contextlib.closing(reader):
            if out_format == "csv":
                csv_delimiter = reader.delimiter if isinstance(reader, _CsvReader) else ","
                with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
                    report = _run(reader, _CsvWriter(handle, csv_delimiter), key, columns, progress)
            else:
                writer = _XlsxWriter()
                report = _run(reader, writer, key, columns, progress)
                writer.book.save(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return report


def _run(
    reader: _CsvReader | _XlsxReader,
    writer: _CsvWriter | _XlsxWriter,
    key: LinkageKey,
    columns: ColumnMapping,
    progress: Progress | None,
) -> PseudonymiseReport:
    rows = iter(reader)
    header: list[Any] | None = None
    for row in rows:
        if any(value not in (None, "") for value in row):
            header = row
            break
    if header is None:
        raise PseudonymError("Le fichier est vide", "The file is empty")
    positions = columns.resolve(header)
    dropped = columns.dropped(header, positions)
    kept = [index for index in range(len(header)) if index not in dropped]
    kept_names = [str(header[index] or "") for index in kept]
    clash = sorted(set(ADDED_COLUMNS) & {header_key(name) for name in kept_names})
    if clash:
        raise PseudonymError(
            f"Le fichier a déjà des colonnes de sortie : {', '.join(clash)}",
            f"The file already has output columns: {', '.join(clash)}",
        )
    report = PseudonymiseReport(
        dropped_columns=[str(header[index] or "") for index in sorted(dropped)],
        kept_columns=kept_names,
    )
    writer.write([*kept_names, *ADDED_COLUMNS])
    pseudonymiser = Pseudonymiser(key)
    total = reader.total
    for row in rows:
        if not any(value not in (None, "") for value in row):
            continue
        values = {name: _cell(row, index) for name, index in positions.items()}
        encoding = pseudonymiser.encode(
            given=_text(values.get("given")),
            family=_text(values.get("family")),
            full_name=_text(values.get("full_name")),
            birth_date=values.get("birth_date"),
            sex=values.get("sex"),
            phone=_phone(values.get("phone")),
            id_number=values.get("id_number"),
            birth_place=values.get("birth_place"),
        )
        report.rows += 1
        if encoding is None:
            report.without_name += 1
            added: list[object] = ["", key.key_id, "", "", "", ""]
        else:
            report.encoded += 1
            added = [
                encoding.pseudonym,
                encoding.key_id,
                " ".join(encoding.tokens),
                encoding.bloom_text,
                encoding.birth_year if encoding.birth_year is not None else "",
                encoding.sex or "unknown",
            ]
        writer.write([_cell(row, index) for index in kept] + added)
        if progress is not None and report.rows % 256 == 0:
            progress(reader.done, total)
    if progress is not None:
        progress(total if total is not None else reader.done, total)
    return report


def _cell(row: Sequence[object], index: int) -> object:
    return row[index] if index < len(row) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _phone(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
