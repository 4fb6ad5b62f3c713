"""Keys and helpers shared by the pseudonymisation kit tests."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from connectors.pseudonym.encoder import Pseudonymiser
from connectors.pseudonym.keys import LinkageKey
from connectors.pseudonym.match import LinkageRecord
from connectors.pseudonym.synthetic import AgencyRecord


@pytest.fixture(scope="session")
def key() -> LinkageKey:
    return LinkageKey("test-mou-1", bytes(range(32)))


@pytest.fixture(scope="session")
def pseudonymiser(key: LinkageKey) -> Pseudonymiser:
    return Pseudonymiser(key)


def encode_register(
    pseudonymiser: Pseudonymiser, records: Sequence[AgencyRecord]
) -> list[LinkageRecord]:
    """What an agency would send for each synthetic record."""
    encoded = []
    for record in records:
        encoding = pseudonymiser.encode(
            given=record.given,
            family=record.family,
            full_name=record.full_name,
            birth_date=record.birth_date,
            sex=record.sex,
            phone=record.phone,
            birth_place=record.birth_place,
        )
        assert encoding is not None
        encoded.append(LinkageRecord.from_encoding(encoding))
    return encoded


def precision_recall_f1(
    found: set[tuple[int, int]], truth: set[tuple[int, int]]
) -> tuple[float, float, float]:
    true_positives = len(found & truth)
    precision = true_positives / len(found) if found else 0.0
    recall = true_positives / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
