"""KoboToolbox / ODK exports: group-path headers, CSV and XLSX streamed in batches."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.files.source import FileSource, FileSourceConfig, resolve_columns
from connectors.mapping import ConnectorError
from tests.connectors.factories import write_kobo_export

WANTED = ["identification/nom", "orientation/besoins", "_uuid"]


def test_columns_resolve_by_exact_name_group_path_or_last_segment() -> None:
    kobo = ["start", "identification/nom", "orientation/besoins", "_uuid"]
    assert resolve_columns(kobo, WANTED) == {
        "identification/nom": 1,
        "orientation/besoins": 2,
        "_uuid": 3,
    }
    odk = ["KEY", "identification-nom", "orientation-besoins", "_uuid"]
    assert resolve_columns(odk, WANTED) == {
        "identification/nom": 1,
        "orientation/besoins": 2,
        "_uuid": 3,
    }
    flat = ["nom", "besoins", "_UUID"]
    assert resolve_columns(flat, ["identification/nom", "besoins", "_uuid"]) == {
        "identification/nom": 0,
        "besoins": 1,
        "_uuid": 2,
    }


def test_ambiguous_and_missing_columns_are_explained() -> None:
    with pytest.raises(ConnectorError) as raised:
        resolve_columns(["mere/nom", "enfant/nom"], ["nom"])
    assert "mere/nom, enfant/nom" in raised.value.message_fr
    assert "write the full group path" in raised.value.message_en
    with pytest.raises(ConnectorError) as raised:
        resolve_columns(["a", "b"], ["identification/nom"])
    assert "Colonnes introuvables dans le fichier : identification/nom" in raised.value.message_fr


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_exports_stream_in_batches_with_typed_empty_cells(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"export{suffix}"
    write_kobo_export(path, range(1, 24))
    source = FileSource(
        FileSourceConfig(path=path, primary_key="_uuid", timestamp="_submission_time"),
        ["identification/nom", "identification/date_naissance", "orientation/besoins"],
    )
    await source.check()
    pages = [page async for page in source.batches(None, 10)]
    assert [len(p) for p in pages] == [10, 10, 3]
    rows = [row for page in pages for row in page]
    assert rows[0].pk == "00000000-0000-4000-8000-000000000001"
    assert rows[0].position is None
    assert rows[0].timestamp is not None
    assert rows[0].timestamp.tzinfo is not None
    assert rows[10].values["identification/nom"] is None  # row 11 has no name: None, not ""
    assert rows[0].values["orientation/besoins"]
    assert await source.remaining(None) is None
    assert [row async for row in source.without_watermark(10)] == []


async def test_missing_file_sheet_or_format_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="Unsupported format"):
        FileSource(FileSourceConfig(path=tmp_path / "export.ods", primary_key="_uuid"), [])
    missing = FileSource(FileSourceConfig(path=tmp_path / "absent.csv", primary_key="_uuid"), [])
    with pytest.raises(ConnectorError, match="File not found"):
        await missing.check()
    path = tmp_path / "export.xlsx"
    write_kobo_export(path, range(1, 3))
    wrong_sheet = FileSource(
        FileSourceConfig(path=path, primary_key="_uuid", sheet="repeat_enfants"), []
    )
    with pytest.raises(ConnectorError, match="Sheet not found: 'repeat_enfants'"):
        await wrong_sheet.check()
