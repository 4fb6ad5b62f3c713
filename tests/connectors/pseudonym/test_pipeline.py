"""Streaming a CSV or XLSX register: identifying columns out, linkage columns in, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from connectors.pseudonym.errors import PseudonymError
from connectors.pseudonym.keys import LinkageKey
from connectors.pseudonym.match import LinkageRecord, score
from connectors.pseudonym.pipeline import ADDED_COLUMNS, ColumnMapping, pseudonymise_file
from connectors.pseudonym.synthetic import SyntheticPopulation

HEADER = [
    "id_dossier",
    "Prénom",
    "Nom",
    "Date de naissance",
    "Sexe",
    "Téléphone",
    "Adresse",
    "Service",
]
ROWS = [
    ["A1", "Mamadou", "Diallo", "15/03/1990", "M", "622 12 34 56", "Ratoma", "sante"],
    ["A2", "Mamadu", "Dialo", "1990", "H", "+224622123456", "Kaloum", "abri"],
    ["A3", "Elhadj Mamadou", "DIALLO", "vers 1990", "M", "", "Dixinn", "juridique"],
    ["A4", "", "", "1990", "F", "", "", "sante"],
]


def _write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ";") -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.read()
    delimiter = ";" if sample.splitlines()[0].count(";") else ","
    return list(csv.DictReader(sample.splitlines(), delimiter=delimiter))


def test_csv_register_is_pseudonymised(tmp_path: Path, key: LinkageKey) -> None:
    source, target = tmp_path / "registre.csv", tmp_path / "pseudonymes.csv"
    _write_csv(source, HEADER, ROWS)
    seen: list[tuple[int, int | None]] = []
    report = pseudonymise_file(
        source, target, key, progress=lambda done, total: seen.append((done, total))
    )
    rows = _read_csv(target)
    assert list(rows[0]) == ["id_dossier", "Service", *ADDED_COLUMNS]
    assert (report.rows, report.encoded, report.without_name) == (4, 3, 1)
    assert set(report.dropped_columns) == {
        "Prénom",
        "Nom",
        "Date de naissance",
        "Sexe",
        "Téléphone",
        "Adresse",
    }
    text = target.read_text(encoding="utf-8-sig")
    for identifying in ("Mamadou", "Diallo", "622", "Ratoma", "15/03/1990"):
        assert identifying not in text
    assert len({row["pseudonym"] for row in rows[:3]}) == 1
    assert rows[0]["birth_year"] == "1990"
    assert rows[0]["sex"] == "male"
    assert rows[0]["key_id"] == key.key_id
    assert rows[3]["pseudonym"] == ""
    first, second = (LinkageRecord.from_row(row) for row in rows[:2])
    assert score(first, second) >= 0.56
    assert seen
    assert seen[-1][0] == seen[-1][1] == source.stat().st_size


def test_xlsx_register_is_pseudonymised(tmp_path: Path, key: LinkageKey) -> None:
    source, target = tmp_path / "registre.xlsx", tmp_path / "pseudonymes.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Bénéficiaires"
    sheet.append(["N°", "Nom complet", "Date de naissance", "Sexe", "Téléphone", "Préfecture"])
    population = SyntheticPopulation(seed=31, size=40)
    for index, person in enumerate(population.people):
        full = f"{person.family.upper()} {' '.join(person.given)}"
        sheet.append(
            [
                index,
                full,
                dt.datetime.combine(person.birth, dt.time()),
                "F" if person.sex == "female" else "M",
                int(person.phone),
                "Kindia",
            ]
        )
    book.save(source)
    report = pseudonymise_file(source, target, key, sheet="Bénéficiaires")
    assert report.encoded == 40
    result = openpyxl.load_workbook(target, read_only=True)
    values = [list(row) for row in result.active.iter_rows(values_only=True)]  # type: ignore[union-attr]
    result.close()
    assert values[0] == ["N°", "Préfecture", *ADDED_COLUMNS]
    assert len(values) == 41
    assert all(len(str(row[2])) == 43 for row in values[1:])
    assert {row[7] for row in values[1:]} <= {"male", "female"}
    assert values[1][6] == population.people[0].birth.year


def test_a_missing_column_writes_nothing(tmp_path: Path, key: LinkageKey) -> None:
    source, target = tmp_path / "registre.csv", tmp_path / "pseudonymes.csv"
    _write_csv(source, ["id", "service"], [["1", "sante"]])
    with pytest.raises(PseudonymError) as caught:
        pseudonymise_file(source, target, key)
    assert "Aucune colonne de nom" in caught.value.message_fr
    assert "No name column" in caught.value.message_en
    assert sorted(path.name for path in tmp_path.iterdir()) == ["registre.csv"]


def test_an_explicit_column_must_exist(tmp_path: Path, key: LinkageKey) -> None:
    source, target = tmp_path / "registre.csv", tmp_path / "pseudonymes.csv"
    _write_csv(source, HEADER, ROWS)
    with pytest.raises(PseudonymError, match="Column not found: 'Tel portable'"):
        pseudonymise_file(
            source, target, key, columns=ColumnMapping(explicit={"phone": "Tel portable"})
        )
    assert not target.exists()


def test_a_failure_midway_leaves_no_partial_output(tmp_path: Path, key: LinkageKey) -> None:
    source, target = tmp_path / "registre.csv", tmp_path / "pseudonymes.csv"
    _write_csv(source, HEADER, ROWS * 200)
    target.write_text("ancien contenu")

    def interrupt(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pseudonymise_file(source, target, key, progress=interrupt)
    assert target.read_text() == "ancien contenu"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pseudonymes.csv", "registre.csv"]


def test_extra_identifying_columns_can_be_dropped(tmp_path: Path, key: LinkageKey) -> None:
    source, target = tmp_path / "registre.csv", tmp_path / "pseudonymes.csv"
    _write_csv(
        source,
        ["nom_complet", "date_naissance", "Nom du tuteur", "service"],
        [["Hawa Camara", "2010", "Sékou Camara", "abri"]],
        delimiter=",",
    )
    columns = ColumnMapping(also_drop=("nom_du_tuteur",))
    pseudonymise_file(source, target, key, columns=columns)
    text = target.read_text(encoding="utf-8-sig")
    assert "Camara" not in text
    assert text.splitlines()[0].startswith("service,pseudonym")


def test_unsupported_formats_and_same_file_are_refused(tmp_path: Path, key: LinkageKey) -> None:
    source = tmp_path / "registre.csv"
    _write_csv(source, HEADER, ROWS)
    with pytest.raises(PseudonymError, match="Unsupported output format"):
        pseudonymise_file(source, tmp_path / "sortie.json", key)
    with pytest.raises(PseudonymError, match="must differ"):
        pseudonymise_file(source, source, key)
    with pytest.raises(PseudonymError, match="Input file not found"):
        pseudonymise_file(tmp_path / "absent.csv", tmp_path / "sortie.csv", key)
