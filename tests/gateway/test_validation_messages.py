"""Every validation error type has a French and an English text (issue 14: French first)."""

from __future__ import annotations

import typing
from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError
from pydantic_core.core_schema import ErrorType

from gateway.validation_messages import FRENCH, GENERIC_FR, messages

ALL_TYPES = sorted(typing.get_args(ErrorType))


def test_the_table_covers_every_type_pydantic_core_defines() -> None:
    assert len(ALL_TYPES) > 100
    assert sorted(set(ALL_TYPES) - set(FRENCH)) == []


@pytest.mark.parametrize("kind", ALL_TYPES)
def test_each_type_has_a_french_text_distinct_from_the_english(kind: str) -> None:
    fr, en = messages({"type": kind, "loc": ("body", "x"), "msg": "Some English text", "ctx": {}})
    assert fr
    assert fr != en
    assert en == "Some English text"
    assert "{" not in fr
    assert not fr.startswith("Valeur invalide (")  # the generic fallback is not used


def test_an_unknown_type_still_gets_french() -> None:
    fr, en = messages({"type": "brand_new_type", "msg": "New"})
    assert fr == GENERIC_FR.format(type="brand_new_type")
    assert en == "New"


class Sample(BaseModel):
    count: int
    name: str
    code: str


def _errors(**data: object) -> dict[str, tuple[str, str]]:
    with pytest.raises(ValidationError) as err:
        Sample.model_validate(data)
    return {str(e["loc"][0]): messages(e) for e in err.value.errors()}


def test_real_pydantic_errors_with_their_context_keep_the_accents() -> None:
    found = _errors(count="douze", code=3)
    assert found["count"] == (
        "Un nombre entier est attendu (texte non convertible)",
        "Input should be a valid integer, unable to parse string as an integer",
    )
    assert found["name"] == ("Champ obligatoire", "Field required")
    assert found["code"][0] == "Une chaîne de caractères est attendue"


def test_limits_from_the_context_appear_in_french() -> None:
    class Bounded(BaseModel):
        n: int
        s: str

        model_config = {"str_max_length": 3}

    with pytest.raises(ValidationError) as err:
        Bounded.model_validate({"n": 1, "s": "trop long"})
    fr, en = messages(err.value.errors()[0])
    assert fr == "Texte trop long : au plus 3 caractère(s)"
    assert "at most 3 characters" in en


def test_our_bilingual_value_errors_are_split_and_lose_the_english_prefix() -> None:
    err = {
        "type": "value_error",
        "msg": "Value error, outcome est requis pour complete / outcome is required for complete",
        "ctx": {"error": "outcome est requis pour complete / outcome is required for complete"},
    }
    assert messages(err) == (
        "outcome est requis pour complete",
        "outcome is required for complete",
    )
    plain = {"type": "value_error", "msg": "Value error, naive", "ctx": {"error": "naive"}}
    assert messages(plain) == ("Valeur invalide : naive", "naive")


def test_expected_values_are_joined_in_french() -> None:
    class Choice(BaseModel):
        purpose: Literal["referral", "research"]

    with pytest.raises(ValidationError) as err:
        Choice.model_validate({"purpose": "statistics"})
    fr, en = messages(err.value.errors()[0])
    assert fr == "Valeur non admise : attendu 'referral' ou 'research'"
    assert "'referral' or 'research'" in en
