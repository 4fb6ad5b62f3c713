"""``mno policy check``: French summary on a valid file, located French/English errors otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from tests.gateway.policy.factories import GUINEA_FILE, SCHEMA_FILE

runner = CliRunner()
GUINEA = GUINEA_FILE.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert old in GUINEA
    text = GUINEA.replace(old, new, 1)
    path = tmp_path / "mou.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_guinea_file_is_valid_and_summarised_in_french() -> None:
    result = runner.invoke(app, ["policy", "check", str(GUINEA_FILE)])

    assert result.exit_code == 0, result.output
    assert "Qui peut recevoir quoi, pour quelle finalité, à quelle condition" in result.stdout
    assert "version 0.1.0" in result.stdout
    assert "consentement explicite nommant l'agence destinataire" in result.stdout
    assert "Assentiment de l'enfant : exigé à partir de 12 ans." in result.stdout
    assert "Durée maximale : 24 h" in result.stdout
    assert "Fichier valide (0 avertissement). / Valid file (0 warnings)." in result.stdout


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected_fr", "expected_en"),
    [
        pytest.param(
            "    consent: required\n    parties: [receiver]\n    description_fr: \"L'agence",
            "    consent: always\n    parties: [receiver]\n    description_fr: \"L'agence",
            "consent: always",
            "champ flows[0].consent : valeur non autorisée ; valeurs possibles : 'required', "
            "'explicit' ou 'not_required_for_statistical'",
            "field flows[0].consent: Input should be",
            id="bad-consent-condition",
        ),
        pytest.param(
            "    categories: [identity_contact, socio_economic, statistical]\n"
            "    consent: required\n"
            "    parties: [receiver]\n    description_fr: \"L'agence",
            "    categories: [identity_contact, finances, statistical]\n"
            "    consent: required\n"
            "    parties: [receiver]\n    description_fr: \"L'agence",
            "finances",
            "champ flows[0].categories[1] : valeur non autorisée",
            "field flows[0].categories[1]",
            id="unknown-category",
        ),
        pytest.param(
            "    to_roles: [health_provider]\n",
            "    to_roles: [health_provide]\n",
            "health_provide]",
            "champ flows[1].to_roles[0] : rôle inconnu « health_provide »",
            "field flows[1].to_roles[0]: unknown role 'health_provide'",
            id="unknown-role",
        ),
        pytest.param(
            '    consent: explicit\n    description_fr: "Uniquement',
            '    consnet: explicit\n    description_fr: "Uniquement',
            "consnet",
            "champ flows[9].consnet : champ inconnu (faute de frappe ?)",
            "field flows[9].consnet: Extra inputs are not permitted",
            id="typo-in-field-name",
        ),
        pytest.param(
            'version: "0.1.0"',
            "version: 0.1",
            "version: 0.1",
            "champ version : texte attendu (mettez la valeur entre guillemets)",
            "field version: Input should be a valid string",
            id="unquoted-version",
        ),
        pytest.param(
            "  max_duration_hours: 24",
            "  max_duration_hours: 240",
            "max_duration_hours: 240",
            "champ break_glass.max_duration_hours : doit être au plus 72",
            "field break_glass.max_duration_hours",
            id="break-glass-too-long",
        ),
        pytest.param(
            "  notify: [data_protection_focal_point, coordinator]",
            "  notify: [coordinator]",
            "notify: [coordinator]",
            "le point focal protection des données doit toujours être notifié",
            "the data-protection focal point must always be notified",
            id="focal-point-not-notified",
        ),
        pytest.param(
            "  - id: pas-de-recherche-sur-mineurs",
            "  - id: pas-donnees-sensibles-vers-formation",
            "  - id: pas-donnees-sensibles-vers-formation\n    purposes",
            "champ deny[2].id : identifiant de règle en double",
            "field deny[2].id: duplicate rule id",
            id="duplicate-rule-id",
        ),
    ],
)
def test_invalid_field_is_located(
    tmp_path: Path, old: str, new: str, needle: str, expected_fr: str, expected_en: str
) -> None:
    path, text = _broken(tmp_path, old, new)
    if "\n" in needle:
        # The id line of the third prohibition (the first one now has the same id).
        lines = text.splitlines()
        line = [n for n, t in enumerate(lines, 1) if t == needle.split("\n")[0]][1]
    else:
        line = _line_of(text, needle)

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"Fichier de politique invalide : {path}" in result.stderr
    assert f"Invalid policy file: {path}" in result.stderr
    assert result.stderr.index("Fichier de politique") < result.stderr.index("Invalid policy")
    assert expected_fr in result.stderr
    assert expected_en in result.stderr
    assert f"ligne {line}" in result.stderr


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, "  referrer:\n    label_fr:", "  referrer\n    label_fr:")

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 1
    assert "syntaxe YAML invalide : « : » manquant après une clé" in result.stderr
    assert "invalid YAML syntax" in result.stderr
    line = _line_of(text, "Agence qui identifie et oriente")
    assert f"ligne {line}" in result.stderr


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    path, text = _broken(
        tmp_path, "  age_of_majority: 18\n", "  age_of_majority: 18\n  age_of_majority: 16\n"
    )

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 1
    assert "duplicate key 'age_of_majority'" in result.stderr
    assert f"ligne {_line_of(text, 'age_of_majority: 16')}" in result.stderr


def test_missing_field_is_named(tmp_path: Path) -> None:
    path, _ = _broken(tmp_path, "policy_id: mou-guinee\n", "")

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 1
    assert "champ policy_id : champ obligatoire manquant" in result.stderr


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    path, _ = _broken(
        tmp_path, "  roles: [coordinator, health_provider]", "  roles: [chef, medecin]"
    )

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 1
    assert "« chef »" in result.stderr
    assert "« medecin »" in result.stderr


def test_empty_file_is_not_a_policy(tmp_path: Path) -> None:
    path = tmp_path / "vide.yaml"
    path.write_text("# rien\n", encoding="utf-8")

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 1
    assert "le document doit être un bloc « clé : valeur »" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "check", str(tmp_path / "absent.yaml")])

    assert result.exit_code == 2
    assert "fichier introuvable" in result.stderr
    assert "file not found" in result.stderr


def test_warnings_are_printed_and_fail_only_in_strict_mode(tmp_path: Path) -> None:
    path, _ = _broken(
        tmp_path,
        "explicit_consent_categories: [protection_sensitive, health]",
        "explicit_consent_categories: [health]",
    )

    relaxed = runner.invoke(app, ["policy", "check", str(path)])
    strict = runner.invoke(app, ["policy", "check", "--strict", str(path)])

    assert relaxed.exit_code == 0
    assert "Points à revoir (1)" in relaxed.stdout
    assert "devraient exiger un consentement explicite" in relaxed.stdout
    assert "should require explicit consent" in relaxed.stdout
    assert strict.exit_code == 1


def test_contradicting_flows_are_warned(tmp_path: Path) -> None:
    extra = (
        "  - id: doublon-prestataire\n"
        "    purpose: referral\n"
        "    to_roles: [service_provider]\n"
        "    categories: [identity_contact]\n"
        "    consent: explicit\n"
        "    parties: [receiver]\n\n"
        "  - id: orientation-vers-sante\n"
    )
    path, _ = _broken(tmp_path, "  - id: orientation-vers-sante\n", extra)

    result = runner.invoke(app, ["policy", "check", str(path)])

    assert result.exit_code == 0
    assert (
        "contradiction entre les flux « orientation-vers-prestataire » et « doublon"
        in result.stdout
    )


def test_schema_command_prints_the_committed_schema() -> None:
    result = runner.invoke(app, ["policy", "schema"])

    assert result.exit_code == 0
    assert result.stdout == SCHEMA_FILE.read_text(encoding="utf-8")


def test_help_is_bilingual() -> None:
    result = runner.invoke(app, ["policy", "check", "--help"])

    assert result.exit_code == 0
    assert "Valide" in result.stdout
    assert "Validate" in result.stdout
