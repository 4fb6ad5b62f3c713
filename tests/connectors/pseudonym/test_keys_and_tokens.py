"""Key files, exact tokens and Bloom filters."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from connectors.pseudonym.bloom import bloom_from_text
from connectors.pseudonym.encoder import Pseudonymiser
from connectors.pseudonym.errors import PseudonymError
from connectors.pseudonym.keys import LinkageKey, load_key_file, write_key_file

TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def test_a_written_key_file_loads_back(tmp_path: Path) -> None:
    key = LinkageKey.generate("mou-2025-1")
    path = tmp_path / "cle.json"
    write_key_file(path, key)
    assert load_key_file(path) == key
    assert path.stat().st_mode & 0o077 == 0


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "cle.json"
    write_key_file(path, LinkageKey.generate("a"))
    with pytest.raises(PseudonymError, match="already exists"):
        write_key_file(path, LinkageKey.generate("b"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("pas du json", "not a JSON document"),
        (json.dumps({"key_id": "k", "key": "AAAA"}), "format must be"),
        (json.dumps({"format": "mno-linkage-key/1", "key_id": "k"}), "key_id and key"),
        (json.dumps({"format": "mno-linkage-key/1", "key_id": "k", "key": "@@"}), "not base64"),
        (
            json.dumps(
                {
                    "format": "mno-linkage-key/1",
                    "key_id": "k",
                    "key": base64.b64encode(b"x" * 16).decode(),
                }
            ),
            "Key too short: 16 bytes",
        ),
        (
            json.dumps(
                {
                    "format": "mno-linkage-key/1",
                    "key_id": "bad id!",
                    "key": base64.b64encode(b"x" * 32).decode(),
                }
            ),
            "Invalid key id",
        ),
    ],
)
def test_a_bad_key_file_gives_a_clear_bilingual_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "cle.json"
    path.write_text(content)
    with pytest.raises(PseudonymError, match=message) as caught:
        load_key_file(path)
    assert "Fichier de clé invalide" in caught.value.message_fr


def test_a_missing_key_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PseudonymError) as caught:
        load_key_file(tmp_path / "absente.json")
    assert "introuvable" in caught.value.message_fr
    assert "not found" in caught.value.message_en


def test_tokens_are_43_character_base64url_and_deterministic(pseudonymiser: Pseudonymiser) -> None:
    first = pseudonymiser.encode(
        given="Aïssatou", family="Bah", birth_date="12/05/1994", sex="F", phone="622 00 11 22"
    )
    again = pseudonymiser.encode(
        given="Aissatou", family="BAH", birth_date="1994-05-12", sex="Femme", phone="+224622001122"
    )
    assert first is not None
    assert again is not None
    assert TOKEN.match(first.pseudonym)
    assert all(TOKEN.match(token) for token in first.tokens)
    assert len(first.tokens) == 3  # names+year, family+given+year, phone
    assert first.tokens == tuple(sorted(first.tokens))
    assert (first.pseudonym, first.tokens, first.bloom) == (
        again.pseudonym,
        again.tokens,
        again.bloom,
    )
    assert len(first.bloom) == 128
    assert bloom_from_text(first.bloom_text) == first.bloom


def test_the_four_spellings_of_mamadou_diallo_share_the_pseudonym(
    pseudonymiser: Pseudonymiser,
) -> None:
    spellings = ["Mamadou Diallo", "Mamadu Dialo", "DIALLO Mamadou", "Elhadj Mamadou Diallo"]
    encodings = [
        pseudonymiser.encode(full_name=name, birth_date="1990", sex="M") for name in spellings
    ]
    assert len({encoding.pseudonym for encoding in encodings if encoding}) == 1


def test_another_key_version_gives_unrelated_outputs(pseudonymiser: Pseudonymiser) -> None:
    other = Pseudonymiser(LinkageKey("test-mou-2", bytes(range(32))))
    mine = pseudonymiser.encode(full_name="Sékou Condé", birth_date="1985", sex="M")
    theirs = other.encode(full_name="Sékou Condé", birth_date="1985", sex="M")
    assert mine is not None
    assert theirs is not None
    assert mine.pseudonym != theirs.pseudonym
    assert not set(mine.tokens) & set(theirs.tokens)
    assert mine.bloom != theirs.bloom
    assert theirs.key_id == "test-mou-2"


def test_no_name_means_no_encoding(pseudonymiser: Pseudonymiser) -> None:
    assert pseudonymiser.encode(full_name="  ", birth_date="1990") is None
    assert pseudonymiser.encode(given="El Hadj", birth_date="1990") is None
