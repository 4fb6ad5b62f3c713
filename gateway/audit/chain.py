"""The hash of an audit entry: SHA-256 over the previous hash and the entry's canonical fields."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64
LANES = 16  # independent chains, so concurrent requests do not queue on one row lock

HASHED_FIELDS = (
    "lane",
    "seq",
    "at",
    "client_id",
    "agency",
    "action",
    "object_type",
    "object_id",
    "decision",
    "detail",
    "policy_version",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    body = json.dumps(
        {name: _canonical(fields.get(name)) for name in HASHED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()
