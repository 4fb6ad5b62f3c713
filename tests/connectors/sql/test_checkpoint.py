"""The local state file: typed positions, the ledger, all-or-nothing commits."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.mapping import ConnectorError
from connectors.sql.checkpoint import (
    CheckpointStore,
    LedgerEntry,
    Position,
    decode_value,
    encode_value,
)


@pytest.mark.parametrize(
    "value",
    [
        None,
        17,
        2.5,
        Decimal("12.30"),
        "2025-03-01 08:00:00",
        datetime(2025, 3, 1, 8, 0),
        datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
        date(2025, 3, 1),
        b"\x00\x01",
        True,
    ],
)
def test_values_come_back_with_their_type(value: object) -> None:
    restored = decode_value(encode_value(value))
    assert restored == value
    assert type(restored) is type(value)


def test_unsupported_watermark_type_is_refused() -> None:
    with pytest.raises(ConnectorError, match="Unsupported watermark type"):
        encode_value(object())


def test_commit_moves_checkpoint_and_ledger_together(tmp_path: Path) -> None:
    path = tmp_path / "etat" / "connecteur.etat.sqlite"
    store = CheckpointStore(path)
    assert store.position("sql:t") is None
    store.commit(
        "sql:t",
        Position(datetime(2025, 3, 1, 8, 0), 10),
        [LedgerEntry("k1", "sent", "f1", "ref-1"), LedgerEntry("k2", "quarantined", "f2")],
    )
    store.close()

    reopened = CheckpointStore(path)
    assert reopened.position("sql:t") == Position(datetime(2025, 3, 1, 8, 0), 10)
    known = reopened.known("sql:t", ["k1", "k2", "k3"])
    assert known["k1"].status == "sent"
    assert known["k1"].referral_id == "ref-1"
    assert known["k2"] == LedgerEntry("k2", "quarantined", "f2", None)
    assert "k3" not in known
    assert reopened.known("sql:other", ["k1"]) == {}
    # A corrected row sent later: the entry changes, the referral id is kept when absent.
    reopened.commit("sql:t", None, [LedgerEntry("k2", "sent", "f3", "ref-2")])
    reopened.commit("sql:t", None, [LedgerEntry("k1", "sent", "f1")])
    known = reopened.known("sql:t", ["k1", "k2"])
    assert known["k2"].status == "sent"
    assert known["k1"].referral_id == "ref-1"
    assert reopened.position("sql:t") == Position(datetime(2025, 3, 1, 8, 0), 10)
    assert reopened.counts("sql:t") == {"sent": 2}
    reopened.close()


def test_failed_commit_changes_nothing(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "s.sqlite")
    store.commit("sql:t", Position(1, 1), [LedgerEntry("k1", "sent")])
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint"):
        store.commit(
            "sql:t",
            Position(2, 2),
            [LedgerEntry("k2", "sent"), LedgerEntry("k3", "lost")],  # type: ignore[arg-type]
        )
    assert store.position("sql:t") == Position(1, 1)
    assert set(store.known("sql:t", ["k1", "k2", "k3"])) == {"k1"}
    store.close()


def test_many_keys_are_looked_up_in_chunks(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "s.sqlite")
    keys = [f"k{i}" for i in range(1200)]
    store.commit("file:x", None, [LedgerEntry(k, "sent") for k in keys[::2]])
    assert len(store.known("file:x", keys)) == 600
    store.close()
