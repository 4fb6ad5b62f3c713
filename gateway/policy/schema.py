"""The JSON Schema of policy files, generated from the pydantic model (editors validate with it)."""

from __future__ import annotations

import json
from typing import Any

from gateway.policy.models import PolicyFile

SCHEMA_ID = "https://mno.gov.gn/schemas/mou.schema.json"


def policy_json_schema() -> dict[str, Any]:
    schema = PolicyFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def render_policy_json_schema() -> str:
    """Stable text of the schema, as committed in deploy/policies/mou.schema.json."""
    return json.dumps(policy_json_schema(), indent=2, ensure_ascii=False) + "\n"
