"""JSON Schema export: committed copies current, examples valid, errors point at the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from gateway.cli.main import app
from schemas.examples import EXAMPLES, example
from schemas.export import DRAFT_2020_12, PUBLIC_MODELS, json_schema, stale
from tests.schemas import strategies as s

COMMITTED = Path(__file__).resolve().parents[2] / "schemas" / "json"
runner = CliRunner()


def _validator(name: str, directory: Path = COMMITTED) -> Draft202012Validator:
    schema = json.loads((directory / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _errors(validator: Draft202012Validator, instance: Any) -> list[tuple[str, str]]:
    return sorted(
        (".".join(str(p) for p in error.absolute_path), error.validator)
        for error in validator.iter_errors(instance)
    )


def test_committed_schemas_are_current() -> None:
    assert stale(COMMITTED) == [], "run: mno schemas export schemas/json"


def test_every_public_model_has_an_example() -> None:
    assert set(EXAMPLES) == set(PUBLIC_MODELS)


@pytest.mark.parametrize("name", list(PUBLIC_MODELS))
def test_schema_is_draft_2020_12_with_an_id(name: str) -> None:
    schema = json_schema(name)
    assert schema["$schema"] == DRAFT_2020_12
    assert schema["$id"] == f"https://mno.gov.gn/schemas/1.0/{name}.schema.json"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", list(PUBLIC_MODELS))
def test_every_example_validates_against_its_committed_schema(name: str) -> None:
    instance = example(name).model_dump(mode="json", exclude_none=True)
    assert _errors(_validator(name), instance) == []


def test_exported_referral_schema_validates_the_cli_example(tmp_path: Path) -> None:
    exported = runner.invoke(app, ["schemas", "export", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    assert len(list((tmp_path / "out").glob("*.schema.json"))) == len(PUBLIC_MODELS)
    printed = runner.invoke(app, ["schemas", "example", "referral", "--to", "CROIX-ROUGE-GN"])
    assert printed.exit_code == 0, printed.output
    body = json.loads(printed.stdout)
    assert body["receiving_agency"] == "CROIX-ROUGE-GN"
    assert _errors(_validator("referral", tmp_path / "out"), body) == []


def test_an_invalid_body_is_rejected_with_the_exact_field_path() -> None:
    body = example("referral").model_dump(mode="json", exclude_none=True)
    body["subject"]["sex"] = "woman"
    body["services_requested"] = []
    body["subject"]["name"] = "Mariama Camara"
    assert _errors(_validator("referral"), body) == [
        ("services_requested", "minItems"),
        ("subject", "additionalProperties"),
        ("subject.sex", "enum"),
    ]


def test_subject_needs_age_band_or_birth_year_in_the_schema_too() -> None:
    validator = _validator("subject-ref")
    subject = example("subject-ref").model_dump(mode="json", exclude_none=True)
    assert _errors(validator, {k: v for k, v in subject.items() if k != "age_band"}) == []
    bare = {k: v for k, v in subject.items() if k not in ("age_band", "birth_year")}
    assert _errors(validator, bare) == [("", "anyOf")]


@settings(max_examples=50, deadline=None)
@given(referral=s.referrals())
def test_generated_referrals_satisfy_the_exported_schema(referral: Any) -> None:
    assert _errors(_validator("referral-record"), referral.model_dump(mode="json")) == []


def test_example_with_unknown_name_or_bad_agency_exits_with_code_2() -> None:
    unknown = runner.invoke(app, ["schemas", "example", "patient"])
    assert unknown.exit_code == 2
    assert "Unknown model 'patient'" in unknown.output
    bad = runner.invoke(app, ["schemas", "example", "referral", "--to", "croix rouge"])
    assert bad.exit_code == 2
    assert "Invalid agency code" in bad.output
