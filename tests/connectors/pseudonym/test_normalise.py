"""Normalisation of Guinean and West African names, phones and birth dates."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.pseudonym.normalise import (
    BirthDate,
    fold_text,
    normalise_name,
    normalise_phone,
    normalise_place,
    normalise_sex,
    parse_birth_date,
)


def test_case_accents_and_apostrophes_are_folded() -> None:
    assert fold_text("Aïssatou") == "aissatou"
    assert fold_text("N'Diaye") == fold_text("N’Diaye") == "ndiaye"
    assert fold_text("  KEÏTA   Sékou ") == "keita sekou"


@pytest.mark.parametrize(
    "written",
    [
        "Mamadou Diallo",
        "Mamadu Dialo",
        "DIALLO Mamadou",
        "Elhadj Mamadou Diallo",
        "El Hadj Mamadou DIALLO",
        "Al Hadji Mamadou Jalloh",
        "M. Mamadou Diallo",
        "Dr Mamadou Djallo",
    ],
)
def test_variants_of_mamadou_diallo_fold_to_the_same_tokens(written: str) -> None:
    assert normalise_name(full=written).tokens == ("jalo", "mamadu")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Soumah", "Souma"),
        ("Condé", "Konde"),
        ("Camara", "Kamara"),
        ("Sylla", "Sillah"),
        ("Touré", "Ture"),
        ("Barry", "Bari"),
        ("Bah", "Ba"),
        ("Cissé", "Sissé"),
        ("Thierno", "Tierno"),
        ("Chérif", "Sherif"),
        ("Kadiatou", "Kadjatou"),
        ("Djénabou", "Jenabou"),
        ("Alpha", "Alfa"),
        ("Keïta", "Keyta"),
        ("Hawa", "Awa"),
    ],
)
def test_transliteration_variants_coincide(left: str, right: str) -> None:
    assert normalise_name(full=left).tokens == normalise_name(full=right).tokens


def test_honorifics_for_women_are_stripped() -> None:
    plain = normalise_name(given="Aïssatou", family="Bah")
    for title in ("Hadja", "Mme", "Madame", "Hadja El"):
        assert normalise_name(given=f"{title} Aïssatou", family="Bah").tokens == plain.tokens


def test_given_and_family_order_does_not_matter() -> None:
    separate = normalise_name(given="Fatoumata Binta", family="Sow")
    swapped = normalise_name(given="Sow", family="Fatoumata Binta")
    assert separate.tokens == swapped.tokens == normalise_name(full="SOW Fatoumata Binta").tokens


def test_full_name_column_finds_the_family_name() -> None:
    capitals = normalise_name(full="KOUROUMA Sékou")
    assert capitals.family == ("kuruma",)
    assert capitals.given == ("seku",)
    known = normalise_name(full="Ibrahima Camara")
    assert known.family == ("kamara",)
    assert known.given == ("ibrahima",)


@pytest.mark.parametrize(
    "raw",
    [
        "+224 622 12 34 56",
        "00224622123456",
        "622-12-34-56",
        "622 123 456",
        "622.12.34.56",
        "224622123456",
        622123456,
        "622123456.0",
    ],
)
def test_guinean_phone_numbers_become_e164(raw: str | int) -> None:
    assert normalise_phone(raw) == "+224622123456"


def test_foreign_and_invalid_phone_numbers() -> None:
    assert normalise_phone("+212 6 12 34 56 78") == "+212612345678"
    assert normalise_phone("12345") is None
    assert normalise_phone("") is None
    assert normalise_phone("abc") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15/03/1990", BirthDate(1990, True, 3, 15)),
        ("1990-03-15", BirthDate(1990, True, 3, 15)),
        ("19900315", BirthDate(1990, True, 3, 15)),
        ("15 mars 1990", BirthDate(1990, True, 3, 15)),
        (dt.date(1990, 3, 15), BirthDate(1990, True, 3, 15)),
        (dt.datetime(1990, 3, 15, 0, 0), BirthDate(1990, True, 3, 15)),
        ("1990", BirthDate(1990, False)),
        (1990, BirthDate(1990, False)),
        ("vers 1990", BirthDate(1990, False)),
        ("1990 ?", BirthDate(1990, False)),
        ("~1990", BirthDate(1990, False)),
        ("env. 1990", BirthDate(1990, False)),
        ("01/01/1990", BirthDate(1990, False)),
        ("00/00/1990", BirthDate(1990, False)),
        ("03/1990", BirthDate(1990, False)),
        ("", BirthDate(None)),
        ("inconnue", BirthDate(None)),
        ("1850", BirthDate(None)),
    ],
)
def test_birth_dates(raw: object, expected: BirthDate) -> None:
    assert parse_birth_date(raw) == expected


def test_sex_codes_follow_the_contract() -> None:
    assert {normalise_sex(v) for v in ("M", "H", "Masculin", "homme", "male")} == {"male"}
    assert {normalise_sex(v) for v in ("F", "Féminin", "femme", "female")} == {"female"}
    assert normalise_sex("?") is None


def test_places_fold_like_names() -> None:
    assert normalise_place("N'Zérékoré") == normalise_place("Nzerekore")
    assert normalise_place("") is None
