"""The blocked index and the scorer."""

from __future__ import annotations

import pytest

from connectors.pseudonym.encoder import Pseudonymiser
from connectors.pseudonym.match import (
    DEFAULT_THRESHOLD,
    Index,
    LinkageRecord,
    MatchConfig,
    match_sets,
    score,
)
from connectors.pseudonym.synthetic import SyntheticPopulation

from .conftest import encode_register


def _record(pseudonymiser: Pseudonymiser, **fields: object) -> LinkageRecord:
    encoding = pseudonymiser.encode(**fields)  # type: ignore[arg-type]
    assert encoding is not None
    return LinkageRecord.from_encoding(encoding)


def test_the_spellings_of_one_person_match_each_other(pseudonymiser: Pseudonymiser) -> None:
    spellings = ["Mamadou Diallo", "Mamadu Dialo", "DIALLO Mamadou", "Elhadj Mamadou Diallo"]
    records = [
        _record(pseudonymiser, full_name=name, birth_date="1990", sex="M") for name in spellings
    ]
    for left in records:
        for right in records:
            assert score(left, right) >= DEFAULT_THRESHOLD


def test_typos_and_approximate_years_still_match(pseudonymiser: Pseudonymiser) -> None:
    registered = _record(
        pseudonymiser,
        given="Fatoumata",
        family="Kourouma",
        birth_date="12/04/1988",
        sex="F",
        birth_place="Kankan",
    )
    approximate = _record(
        pseudonymiser,
        full_name="KOUROUMA Fatoumatta",
        birth_date="vers 1989",
        sex="Femme",
        birth_place="Kankan",
    )
    assert score(registered, approximate) >= DEFAULT_THRESHOLD


def test_namesakes_born_years_apart_do_not_match(pseudonymiser: Pseudonymiser) -> None:
    young = _record(pseudonymiser, full_name="Mamadou Diallo", birth_date="2001", sex="M")
    old = _record(pseudonymiser, full_name="Mamadou Diallo", birth_date="1962", sex="M")
    other_day = _record(pseudonymiser, full_name="Mamadou Diallo", birth_date="03/02/2001", sex="M")
    same_day = _record(pseudonymiser, full_name="Mamadu Dialo", birth_date="2001-02-03", sex="H")
    assert score(young, old) < DEFAULT_THRESHOLD
    assert score(other_day, same_day) > score(young, other_day)
    assert score(other_day, same_day) >= DEFAULT_THRESHOLD


def test_different_people_do_not_match(pseudonymiser: Pseudonymiser) -> None:
    left = _record(pseudonymiser, full_name="Aïssatou Barry", birth_date="1995", sex="F")
    right = _record(pseudonymiser, full_name="Sékou Camara", birth_date="1995", sex="M")
    assert score(left, right) < 0.3


def test_query_finds_the_subject_among_many(pseudonymiser: Pseudonymiser) -> None:
    population = SyntheticPopulation(seed=11, size=3000)
    register = population.register("A", population.people, seed=1)
    index = Index()
    index.add_many(
        (f"subject-{record.person_id}", encoded)
        for record, encoded in zip(register, encode_register(pseudonymiser, register), strict=True)
    )
    assert len(index) == 3000
    other = population.register("B", population.people[:200], seed=2)
    found = 0
    for record, encoded in zip(other, encode_register(pseudonymiser, other), strict=True):
        result = index.query(encoded)
        assert all(score_ >= DEFAULT_THRESHOLD for _, score_ in result)
        assert result == sorted(result, key=lambda item: -item[1])
        found += bool(result) and result[0][0] == f"subject-{record.person_id}"
    assert found >= 185  # recall is measured properly in test_quality


def test_incremental_adds_find_what_bulk_adds_find(pseudonymiser: Pseudonymiser) -> None:
    population = SyntheticPopulation(seed=12, size=700)
    register = encode_register(pseudonymiser, population.register("A", population.people, seed=1))
    bulk = Index()
    bulk.add_many(enumerate(register))
    # A tiny buffer forces flushes and segment merges.
    incremental = Index(MatchConfig(buffer_size=16))
    for subject, record in enumerate(register):
        incremental.add(subject, record)
    queries = encode_register(
        pseudonymiser, population.register("B", population.people[:60], seed=2)
    )
    for query in queries:
        assert incremental.query(query, limit=5) == bulk.query(query, limit=5)


def test_a_subject_with_several_records_is_returned_once(pseudonymiser: Pseudonymiser) -> None:
    index = Index()
    index.add("s-1", _record(pseudonymiser, full_name="Oumou Sow", birth_date="1999", sex="F"))
    index.add("s-1", _record(pseudonymiser, full_name="SOW Oumou", birth_date="1999", sex="F"))
    index.add("s-2", _record(pseudonymiser, full_name="Hawa Touré", birth_date="1970", sex="F"))
    result = index.query(_record(pseudonymiser, full_name="Umu Sow", birth_date="1999", sex="F"))
    assert [subject for subject, _ in result] == ["s-1"]
    assert result[0][1] >= DEFAULT_THRESHOLD


def test_records_without_birth_year_are_still_found(pseudonymiser: Pseudonymiser) -> None:
    index = Index()
    index.add(
        "s-1", _record(pseudonymiser, full_name="Lansana Kouyaté", sex="M", phone="628112233")
    )
    index.add(
        "s-2", _record(pseudonymiser, full_name="Lansana Kouyaté", birth_date="1950", sex="M")
    )
    query = _record(
        pseudonymiser,
        full_name="Lansana Kouyate",
        birth_date="1993",
        sex="M",
        phone="+224628112233",
    )
    assert [subject for subject, _ in index.query(query)] == ["s-1"]


def test_a_wrong_size_filter_is_refused() -> None:
    with pytest.raises(ValueError, match="1024 bits"):
        Index().add("s", LinkageRecord(("t",), b"\x00" * 64))


def test_match_sets_pairs_each_record_at_most_once(pseudonymiser: Pseudonymiser) -> None:
    population = SyntheticPopulation(seed=13, size=2000)
    scenario = population.scenario(left_size=300, right_size=300, overlap=150)
    left = encode_register(pseudonymiser, scenario.left)
    right = encode_register(pseudonymiser, scenario.right)
    pairs = match_sets(left, right)
    assert len({a for a, _, _ in pairs}) == len(pairs) == len({b for _, b, _ in pairs})
    many = match_sets(left, right, one_to_one=False)
    assert len(many) >= len(pairs)
    assert len({(a, b) for a, b, _ in pairs} & scenario.true_pairs) >= 135
