"""The committed JSON Schema of policy files is current and accepts the Guinea MoU."""

from __future__ import annotations

import json

import yaml
from jsonschema import Draft202012Validator

from gateway.policy.schema import render_policy_json_schema
from tests.gateway.policy.factories import GUINEA_FILE, SCHEMA_FILE


def _guinea_document() -> dict[str, object]:
    document = yaml.safe_load(GUINEA_FILE.read_text(encoding="utf-8"))
    # JSON has no date type: editors see the YAML date as a string.
    document["effective_from"] = document["effective_from"].isoformat()
    return document


def test_committed_schema_is_generated_from_the_model() -> None:
    # Regenerate with: mno policy schema -o deploy/policies/mou.schema.json
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_policy_json_schema()


def test_guinea_file_is_valid_against_the_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)

    errors = list(Draft202012Validator(schema).iter_errors(_guinea_document()))

    assert errors == []


def test_schema_rejects_an_unknown_category() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    document = _guinea_document()
    document["explicit_consent_categories"] = ["finances"]

    errors = list(Draft202012Validator(schema).iter_errors(document))

    assert [list(e.absolute_path) for e in errors] == [["explicit_consent_categories", 0]]
