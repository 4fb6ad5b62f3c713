"""Data category of every referral field, and redaction to the categories a policy permits.

The categories are declared once, on the model fields (``x-data-category`` in the JSON Schema);
this module reads them back so that the router, the REST API and the exports redact the same way.

Choices (also in the data dictionary):
- ``subject.pseudonym`` is *statistical*: the gateway re-keys it with its own secret, so a
  recipient cannot reverse it, and MEAL needs it to count distinct persons.
- ``subject.tokens``, ``subject.bloom`` and ``subject.birth_year`` are *identity_contact*: extra
  tokens and Bloom encodings are matching material open to dictionary and frequency attacks, and
  an exact birth year is a quasi-identifier (statistics use ``age_band``).
- ``external_reference`` is *identity_contact*: it points at an identified case file.
- ``case_category`` and ``vulnerabilities`` are *protection_sensitive*.
- ids, agencies, status, history, urgency, services requested, deadlines, decline reason and
  outcome are *statistical*: routing and MEAL need them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from schemas.codes import DataCategory
from schemas.referral import Referral
from schemas.subject import SubjectRef

# Fields whose value is a model with its own per-field categories.
_NESTED: Mapping[str, type[BaseModel]] = {"subject": SubjectRef}


def field_categories(model: type[BaseModel]) -> dict[str, DataCategory]:
    """``field name → category`` for the tagged fields of ``model``."""
    result: dict[str, DataCategory] = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and "x-data-category" in extra:
            result[name] = DataCategory(str(extra["x-data-category"]))
    return result


SUBJECT_FIELD_CATEGORIES: dict[str, DataCategory] = field_categories(SubjectRef)
REFERRAL_FIELD_CATEGORIES: dict[str, DataCategory] = {
    **field_categories(Referral),
    **{f"subject.{name}": cat for name, cat in SUBJECT_FIELD_CATEGORIES.items()},
}
"""Top-level fields of ``Referral`` and ``subject.<field>`` for the nested subject."""


def redact_referral(payload: Mapping[str, Any], permitted: Iterable[str]) -> dict[str, Any]:
    """A copy of a referral (or ReferralCreate) JSON payload keeping only permitted categories.

    Unknown fields are dropped (fail closed). The nested subject is redacted field by field and
    dropped entirely when nothing of it may be shared.
    """
    allowed = {DataCategory(c) for c in permitted}
    result: dict[str, Any] = {}
    for name, value in payload.items():
        category = REFERRAL_FIELD_CATEGORIES.get(name)
        if category is None or category not in allowed:
            continue
        if name in _NESTED and isinstance(value, Mapping):
            nested = {
                key: item
                for key, item in value.items()
                if SUBJECT_FIELD_CATEGORIES.get(key) in allowed
            }
            if nested:
                result[name] = nested
            continue
        result[name] = value
    return result
