"""JSON Schema (draft 2020-12) of every public model, one file each."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.agency import Agency
from schemas.common import SCHEMA_BASE_URI
from schemas.consent import Consent, ConsentCreate, ConsentWithdraw
from schemas.events import EVENT_CLASSES, CloudEvent
from schemas.referral import Referral, ReferralCreate, ReferralTransition
from schemas.service import Service
from schemas.subject import SubjectRef

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

PUBLIC_MODELS: Mapping[str, type[BaseModel]] = {
    "agency": Agency,
    "service": Service,
    "subject-ref": SubjectRef,
    "referral": ReferralCreate,
    "referral-record": Referral,
    "referral-transition": ReferralTransition,
    "consent": ConsentCreate,
    "consent-record": Consent,
    "consent-withdraw": ConsentWithdraw,
    "cloud-event": CloudEvent,
    **{cls.schema_name: cls for cls in EVENT_CLASSES},
}
"""Schema name (file ``<name>.schema.json``) → model. ``referral`` is the body a partner POSTs."""


def schema_id(name: str) -> str:
    return f"{SCHEMA_BASE_URI}{name}.schema.json"


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one public model, with ``$schema`` and ``$id``."""
    model = PUBLIC_MODELS[name]
    body = model.model_json_schema(mode="validation")
    return {"$schema": DRAFT_2020_12, "$id": schema_id(name), **body}


def render(name: str) -> str:
    """The exact text of the exported file (stable, so the committed copies can be compared)."""
    return json.dumps(json_schema(name), indent=2, ensure_ascii=False) + "\n"


def export(directory: Path) -> list[Path]:
    """Write every schema into ``directory``; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in PUBLIC_MODELS:
        path = directory / f"{name}.schema.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written


def stale(directory: Path) -> list[str]:
    """Names whose file in ``directory`` is missing or differs from the models, plus strays."""
    expected = {f"{name}.schema.json": name for name in PUBLIC_MODELS}
    problems = [
        file
        for file, name in expected.items()
        if not (directory / file).is_file()
        or (directory / file).read_text(encoding="utf-8") != render(name)
    ]
    problems += sorted(p.name for p in directory.glob("*.schema.json") if p.name not in expected)
    return problems
