"""KoboToolbox and ODK exports (CSV or XLSX) as a connector source, streamed row by row.

Exports name columns by their group path: ``identification/nom`` (KoboToolbox),
``identification-nom`` (ODK Central) or just ``nom``. A mapping may name a column by its full
path with any of the separators ``/ . : -``, or by its last segment when that is unambiguous.

A file is read whole at every poll (exports are replaced, not appended to); the connector's
ledger skips the rows already acknowledged, so a new export sends only its new submissions.
"""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.mapping import ConnectorError, is_blank
from connectors.sql.checkpoint import Position
from connectors.sql.source import SourceRow, to_aware

_SEPARATORS = re.compile(r"[/.:\-]+")


@dataclass(frozen=True)
class FileSourceConfig:
    path: Path
    primary_key: str  # KoboToolbox: _uuid; ODK Central: KEY or meta/instanceID
    sheet: str | None = None
    encoding: str = "utf-8-sig"
    delimiter: str | None = None
    timestamp: str | None = None  # e.g. _submission_time, for the lag
    timezone: str = "UTC"

    @property
    def name(self) -> str:
        return self.path.name


def _path_key(name: str) -> str:
    return _SEPARATORS.sub("/", name.strip().casefold()).strip("/")


def resolve_columns(header: Sequence[object], wanted: Sequence[str]) -> dict[str, int]:
    """Mapping column name → header index, by exact name, group path, then last segment."""
    names = ["" if h is None else str(h).strip() for h in header]
    exact = {name: index for index, name in enumerate(names) if name}
    by_path: dict[str, list[int]] = {}
    by_leaf: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        if not name:
            continue
        path = _path_key(name)
        by_path.setdefault(path, []).append(index)
        by_leaf.setdefault(path.rsplit("/", 1)[-1], []).append(index)
    resolved: dict[str, int] = {}
    missing: list[str] = []
    for column in wanted:
        if column in exact:
            resolved[column] = exact[column]
            continue
        path = _path_key(column)
        candidates = by_path.get(path) or by_leaf.get(path.rsplit("/", 1)[-1], [])
        if len(candidates) == 1:
            resolved[column] = candidates[0]
        elif len(candidates) > 1:
            shown = ", ".join(names[i] for i in candidates)
            raise ConnectorError(
                f"Colonne ambiguë « {column} » : {shown} — écrivez le chemin complet du groupe",
                f"Ambiguous column '{column}': {shown} — write the full group path",
            )
        else:
            missing.append(column)
    if missing:
        raise ConnectorError(
            f"Colonnes introuvables dans le fichier : {', '.join(missing)} "
            f"(colonnes du fichier : {', '.join(n for n in names if n)})",
            f"Columns not found in the file: {', '.join(missing)} "
            f"(file columns: {', '.join(n for n in names if n)})",
        )
    return resolved


def _csv_rows(path: Path, encoding: str, delimiter: str | None) -> Iterator[list[Any]]:
    with path.open("r", encoding=encoding, newline="") as handle:
        if delimiter is None:
            sample = handle.read(65536)
            handle.seek(0)
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        try:
            yield from csv.reader(handle, delimiter=delimiter)
        except UnicodeDecodeError:
            raise ConnectorError(
                f"Encodage illisible en {encoding} : essayez encoding: cp1252",
                f"Cannot decode as {encoding}: try encoding: cp1252",
            ) from None


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[list[Any]]:
    import openpyxl  # only spreadsheets need it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ConnectorError(
            f"Classeur XLSX illisible : {path} ({exc})", f"Unreadable XLSX workbook: {path} ({exc})"
        ) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ConnectorError(
                f"Feuille introuvable : « {sheet} » (feuilles : {', '.join(book.sheetnames)})",
                f"Sheet not found: '{sheet}' (sheets: {', '.join(book.sheetnames)})",
            )
        worksheet = book[sheet] if sheet else book.worksheets[0]
        for row in worksheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


class FileSource:
    """Rows of one export file, as dictionaries keyed by the mapping's column names."""

    def __init__(self, config: FileSourceConfig, columns: Sequence[str]) -> None:
        suffix = config.path.suffix.lower()
        if suffix not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm"):
            raise ConnectorError(
                f"Format non pris en charge : {config.path.name} (CSV ou XLSX)",
                f"Unsupported format: {config.path.name} (CSV or XLSX)",
            )
        try:
            self._zone: tzinfo = ZoneInfo(config.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConnectorError(
                f"Fuseau horaire inconnu : {config.timezone}",
                f"Unknown time zone: {config.timezone}",
            ) from None
        self.config = config
        self.name = config.name
        wanted = [config.primary_key]
        if config.timestamp:
            wanted.append(config.timestamp)
        self.columns = list(dict.fromkeys([*wanted, *columns]))

    def _rows(self) -> Iterator[list[Any]]:
        if not self.config.path.is_file():
            raise ConnectorError(
                f"Fichier introuvable : {self.config.path}", f"File not found: {self.config.path}"
            )
        if self.config.path.suffix.lower() in (".xlsx", ".xlsm"):
            return _xlsx_rows(self.config.path, self.config.sheet)
        return _csv_rows(self.config.path, self.config.encoding, self.config.delimiter)

    def _records(self) -> Generator[SourceRow, None, None]:
        rows = self._rows()
        header: list[Any] | None = None
        for row in rows:
            if any(not is_blank(v) for v in row):
                header = row
                break
        if header is None:
            return
        positions = resolve_columns(header, self.columns)
        for row in rows:
            if all(is_blank(v) for v in row):
                continue
            values = {
                column: (None if is_blank(v := (row[i] if i < len(row) else None)) else v)
                for column, i in positions.items()
            }
            stamp = values.get(self.config.timestamp) if self.config.timestamp else None
            yield SourceRow(
                pk=values[self.config.primary_key],
                values=values,
                position=None,
                timestamp=to_aware(stamp, self._zone) if stamp is not None else None,
            )

    async def check(self) -> None:
        """Fail early when the file is missing or lacks a mapped column."""

        def run() -> None:
            records = self._records()
            try:
                next(records, None)
            finally:
                records.close()

        await asyncio.to_thread(run)

    def start(self, checkpoint: Position | None) -> Position | None:
        return None

    async def batches(self, after: Position | None, size: int) -> AsyncIterator[list[SourceRow]]:
        records = self._records()
        try:
            while True:
                page = await asyncio.to_thread(_take, records, size)
                if not page:
                    return
                yield page
        finally:
            records.close()

    async def remaining(self, after: Position | None) -> int | None:
        return None  # unknown without reading the file twice

    async def without_watermark(self, size: int) -> AsyncIterator[list[SourceRow]]:
        return
        yield  # an empty async generator

    async def close(self) -> None:
        return None


def _take(records: Iterator[SourceRow], size: int) -> list[SourceRow]:
    page: list[SourceRow] = []
    for record in records:
        page.append(record)
        if len(page) >= size:
            break
    return page
