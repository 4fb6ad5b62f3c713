"""``mno pseudonymise --key-file K IN OUT`` and ``--new-key``."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.main import app

runner = CliRunner()


def _register(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["prenom", "nom", "date_naissance", "sexe", "telephone", "service"])
        writer.writerow(["Aïssatou", "Bah", "1994", "F", "622001122", "sante"])
        writer.writerow(["Sékou", "Condé", "vers 1985", "M", "", "abri"])


def test_new_key_then_pseudonymise(tmp_path: Path) -> None:
    key_file = tmp_path / "cle.json"
    created = runner.invoke(app, ["pseudonymise", "--new-key", str(key_file), "--key-id", "mou-7"])
    assert created.exit_code == 0, created.output
    assert "mou-7" in created.output
    source, target = tmp_path / "registre.csv", tmp_path / "sortie.csv"
    _register(source)
    result = runner.invoke(
        app, ["pseudonymise", "--key-file", str(key_file), str(source), str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "2 lignes, 2 pseudonymisées" in result.output
    assert "2 rows, 2 pseudonymised" in result.output
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "service,pseudonym,key_id,tokens,bloom,birth_year,sex"
    assert "Bah" not in target.read_text(encoding="utf-8-sig")
    assert lines[1].split(",")[2] == "mou-7"


def test_a_wrong_key_file_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    key_file = tmp_path / "cle.json"
    key_file.write_text('{"format": "mno-linkage-key/1", "key_id": "k", "key": "c2hvcnQ="}')
    source, target = tmp_path / "registre.csv", tmp_path / "sortie.csv"
    _register(source)
    result = runner.invoke(
        app, ["pseudonymise", "--key-file", str(key_file), str(source), str(target)]
    )
    assert result.exit_code == 2
    assert "Erreur : Fichier de clé invalide" in result.output
    assert "Error: Invalid key file" in result.output
    assert "Key too short" in result.output
    assert not target.exists()


def test_a_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    key_file = tmp_path / "cle.json"
    assert runner.invoke(app, ["pseudonymise", "--new-key", str(key_file)]).exit_code == 0
    source, target = tmp_path / "registre.csv", tmp_path / "sortie.csv"
    _register(source)
    result = runner.invoke(
        app,
        [
            "pseudonymise",
            "--key-file",
            str(key_file),
            "--phone-column",
            "portable",
            "--quiet",
            str(source),
            str(target),
        ],
    )
    assert result.exit_code == 2
    assert "Colonne introuvable : « portable »" in result.output
    assert "Column not found: 'portable'" in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cle.json", "registre.csv"]


def test_arguments_are_required_without_new_key(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pseudonymise", str(tmp_path / "a.csv")])
    assert result.exit_code == 2
    assert "mno pseudonymise --key-file" in result.output
