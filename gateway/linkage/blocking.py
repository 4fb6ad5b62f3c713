"""Blocking keys of a Bloom filter, stored in the database so that a match never scans the ledger.

Bit-sampling LSH on the *names* region, the scheme of the kit's in-memory index
(``connectors.pseudonym.match``): a table samples fixed bit positions, and two filters share
that table's key when they agree on all of them. Similar names agree on most positions, so they
share at least one of many tables with high probability; unrelated names almost never do.

A key is ``table (8 bits) | sampled bits (<= 32) | birth-year code (12 bits)``, below 2**63 so
that it fits a signed BIGINT:

* *loose* tables (few bits: similar names) carry the birth year and are probed over the query's
  year ± ``YEAR_WINDOW`` and "unknown year" (code 0); a query without a year probes every year;
* *strict* tables (many bits: near-identical names) ignore the year, which finds a person whose
  year was mistyped.

The positions are sampled once from a fixed seed. Re-keying permutes bits within the names
region, so the sampled positions see other bits after a rotation: ``mno linkage rekey``
recomputes every stored key.
"""

from __future__ import annotations

import random

from connectors.pseudonym.bloom import DEFAULT_BITS, region_layout

LOOSE_TABLES = 32
LOOSE_BITS = 24
STRICT_TABLES = 8
STRICT_BITS = 32
YEAR_WINDOW = 2
SEED = 20_250_601

_YEAR_BITS = 12
_YEAR_MAX = (1 << _YEAR_BITS) - 1
_YEAR_BASE = 1800

BLOOM_BYTES = DEFAULT_BITS // 8
_NAMES_OFFSET, _NAMES_SIZE = region_layout(DEFAULT_BITS)["names"]


def _sample(rng: random.Random, tables: int, bits: int) -> tuple[tuple[int, ...], ...]:
    return tuple(
        tuple(_NAMES_OFFSET + p for p in rng.sample(range(_NAMES_SIZE), bits))
        for _ in range(tables)
    )


_RNG = random.Random(SEED)  # noqa: S311 - fixed public sampling, not a secret
_LOOSE = _sample(_RNG, LOOSE_TABLES, LOOSE_BITS)
_STRICT = _sample(_RNG, STRICT_TABLES, STRICT_BITS)
del _RNG


def _year_code(birth_year: int | None) -> int:
    if birth_year is None:
        return 0
    return min(max(birth_year - _YEAR_BASE, 1), _YEAR_MAX)


def _names(bloom: bytes) -> list[int]:
    """Bit-sampled name keys of every table, table tag in the high bits, year bits zero."""
    if len(bloom) != BLOOM_BYTES:
        raise ValueError(f"the Bloom filter must be {BLOOM_BYTES} bytes")
    value = int.from_bytes(bloom, "little")  # bit i at byte i // 8, as the kit writes it
    keys = []
    for table, positions in enumerate((*_LOOSE, *_STRICT)):
        sample = 0
        for j, position in enumerate(positions):
            sample |= ((value >> position) & 1) << j
        keys.append((table << 56) | (sample << _YEAR_BITS))
    return keys


def block_keys(bloom: bytes, birth_year: int | None) -> list[int]:
    """The keys a record is stored under."""
    names = _names(bloom)
    year = _year_code(birth_year)
    return [key | year for key in names[:LOOSE_TABLES]] + names[LOOSE_TABLES:]


def probe_ranges(bloom: bytes, birth_year: int | None) -> list[tuple[int, int]]:
    """Inclusive key ranges to look up for a query."""
    names = _names(bloom)
    ranges: list[tuple[int, int]] = []
    for key in names[:LOOSE_TABLES]:
        if birth_year is None:
            ranges.append((key, key | _YEAR_MAX))
        else:
            year = _year_code(birth_year)
            low = max(year - YEAR_WINDOW, 1)
            high = min(year + YEAR_WINDOW, _YEAR_MAX)
            ranges.append((key | low, key | high))
            ranges.append((key, key))  # records without a birth year
    ranges.extend((key, key) for key in names[LOOSE_TABLES:])
    return ranges
