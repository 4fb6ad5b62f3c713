"""The connector's local state: the checkpoint per source and the ledger of handled rows.

One SQLite file next to the configuration (never on the gateway). The checkpoint is the keyset
position (watermark, primary key) of the last row the gateway acknowledged; it advances in the
same local transaction as the ledger entries of that batch, and only after the gateway answered.
The ledger remembers, per idempotency key, that a row was sent (with the referral id) or
quarantined (with a fingerprint of its values, so that a corrected row is tried again). It holds
no personal data: keys are HMACs, fingerprints are SHA-256 digests.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from connectors.mapping import ConnectorError

LedgerStatus = Literal["sent", "quarantined"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    source TEXT PRIMARY KEY,
    position TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    source TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'quarantined')),
    fingerprint TEXT,
    referral_id TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (source, idempotency_key)
);
"""


def encode_value(value: Any) -> dict[str, Any]:
    """A watermark or key value as tagged JSON, so that it comes back with its type."""
    if value is None:
        return {"t": "null"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": value}
    if isinstance(value, float):
        return {"t": "float", "v": value}
    if isinstance(value, Decimal):
        return {"t": "decimal", "v": str(value)}
    if isinstance(value, datetime):
        return {"t": "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {"t": "time", "v": value.isoformat()}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, bytes):
        return {"t": "bytes", "v": base64.b64encode(value).decode()}
    raise ConnectorError(
        f"Type de filigrane non pris en charge : {type(value).__name__}",
        f"Unsupported watermark type: {type(value).__name__}",
    )


def decode_value(data: dict[str, Any]) -> Any:
    tag, value = data["t"], data.get("v")
    decoders: dict[str, Any] = {
        "null": lambda _: None,
        "bool": bool,
        "int": int,
        "float": float,
        "decimal": Decimal,
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "time": time.fromisoformat,
        "str": str,
        "bytes": base64.b64decode,
    }
    return decoders[tag](value)


@dataclass(frozen=True)
class Position:
    """Keyset position: the last acknowledged row's watermark and primary key."""

    watermark: Any
    pk: Any

    def dumps(self) -> str:
        return json.dumps({"watermark": encode_value(self.watermark), "pk": encode_value(self.pk)})

    @classmethod
    def loads(cls, text: str) -> Position:
        data = json.loads(text)
        return cls(decode_value(data["watermark"]), decode_value(data["pk"]))


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    status: LedgerStatus
    fingerprint: str | None = None
    referral_id: str | None = None


class CheckpointStore:
    """The local state file; every write is one SQLite transaction, synced to disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ConnectorError(
                f"Fichier d'état illisible : {path} ({exc})",
                f"Unreadable state file: {path} ({exc})",
            ) from None
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def position(self, source: str) -> Position | None:
        row = self._db.execute(
            "SELECT position FROM checkpoints WHERE source = ?", (source,)
        ).fetchone()
        return Position.loads(row[0]) if row else None

    def known(self, source: str, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        """The ledger entries of these keys (those never handled are absent)."""
        found: dict[str, LedgerEntry] = {}
        for chunk in _chunks(list(keys), 500):
            marks = ",".join("?" * len(chunk))
            with closing(
                self._db.execute(
                    "SELECT idempotency_key, status, fingerprint, referral_id FROM ledger "  # noqa: S608 - placeholders only
                    f"WHERE source = ? AND idempotency_key IN ({marks})",
                    (source, *chunk),
                )
            ) as cursor:
                for key, status, fingerprint, referral_id in cursor:
                    found[key] = LedgerEntry(key, status, fingerprint, referral_id)
        return found

    def commit(
        self, source: str, position: Position | None, entries: Sequence[LedgerEntry]
    ) -> None:
        """Record a handled batch and move the checkpoint, all or nothing."""
        now = datetime.now(UTC).isoformat()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT INTO ledger (source, idempotency_key, status, fingerprint, referral_id, at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, idempotency_key) DO UPDATE SET"
                " status = excluded.status, fingerprint = excluded.fingerprint,"
                " referral_id = coalesce(excluded.referral_id, ledger.referral_id),"
                " at = excluded.at",
                [(source, e.key, e.status, e.fingerprint, e.referral_id, now) for e in entries],
            )
            if position is not None:
                self._db.execute(
                    "INSERT INTO checkpoints (source, position, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (source) DO UPDATE SET position = excluded.position,"
                    " updated_at = excluded.updated_at",
                    (source, position.dumps(), now),
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def counts(self, source: str) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT status, count(*) FROM ledger WHERE source = ? GROUP BY status", (source,)
        ).fetchall()
        return {status: count for status, count in rows}


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
