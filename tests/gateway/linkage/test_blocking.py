"""Blocking keys: a record is found by its own probes and by a variant's, not by strangers'."""

from __future__ import annotations

import hashlib

import pytest

from connectors.pseudonym.encoder import Pseudonymiser
from connectors.pseudonym.keys import LinkageKey
from gateway.linkage.blocking import (
    BLOOM_BYTES,
    LOOSE_TABLES,
    STRICT_TABLES,
    block_keys,
    probe_ranges,
)
from gateway.linkage.layers import Layers, rekeyer

KIT = Pseudonymiser(LinkageKey("mou-test-1", hashlib.sha256(b"mno synthetic key").digest()))
GATEWAY = Layers((rekeyer(1, b"g" * 32),))


def bloom(name: str, year: str = "1990") -> bytes:
    encoding = KIT.encode(full_name=name, birth_date=year, sex="M")
    assert encoding is not None
    return GATEWAY.bloom(encoding.bloom)


def found(stored: list[int], ranges: list[tuple[int, int]]) -> bool:
    return any(low <= key <= high for key in stored for low, high in ranges)


def test_keys_fit_a_signed_bigint_and_find_their_own_record() -> None:
    value = bloom("Mamadou Diallo")
    keys = block_keys(value, 1990)
    assert len(keys) == LOOSE_TABLES + STRICT_TABLES
    assert all(0 <= key < 2**63 for key in keys)
    assert found(keys, probe_ranges(value, 1990))
    assert found(keys, probe_ranges(value, 1992))  # a year off by two
    assert found(keys, probe_ranges(value, None))  # a query without a year
    assert found(block_keys(value, None), probe_ranges(value, 1990))  # a record without one


def test_variants_share_a_block_and_strangers_rarely_do() -> None:
    stored = block_keys(bloom("Mamadou Diallo"), 1990)
    assert found(stored, probe_ranges(bloom("DIALLO Mamadu"), 1990))
    assert found(stored, probe_ranges(bloom("Elhadj Mamadou Dialo"), 1991))
    strangers = ["Fatoumata Camara", "Kadiatou Sylla", "Ibrahima Soumah", "Aïssatou Bah"]
    assert not any(found(stored, probe_ranges(bloom(name), 1990)) for name in strangers)


def test_a_filter_of_another_size_is_refused() -> None:
    with pytest.raises(ValueError, match=str(BLOOM_BYTES)):
        block_keys(bytes(BLOOM_BYTES // 2), 1990)
