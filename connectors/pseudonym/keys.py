"""The MoU members' shared linkage key: file format, loading, creation and derived sub-keys.

A key file is a small JSON document::

    {"format": "mno-linkage-key/1", "key_id": "mou-2025-1", "key": "<base64 of >= 32 bytes>"}

The key id travels with every output row, so that a receiver can tell which key version encoded
it; it also salts every derived sub-key, so tokens of two key versions never coincide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from connectors.pseudonym.errors import PseudonymError

KEY_FORMAT = "mno-linkage-key/1"
MIN_KEY_BYTES = 32
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class LinkageKey:
    """One version of the shared linkage key."""

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not KEY_ID_PATTERN.match(self.key_id):
            raise PseudonymError(
                f"Identifiant de clé invalide : {self.key_id!r}",
                f"Invalid key id: {self.key_id!r}",
            )
        if len(self.secret) < MIN_KEY_BYTES:
            raise PseudonymError(
                f"Clé trop courte : {len(self.secret)} octets, il en faut au moins {MIN_KEY_BYTES}",
                f"Key too short: {len(self.secret)} bytes, at least {MIN_KEY_BYTES} required",
            )

    def derive(self, purpose: str) -> bytes:
        """A sub-key for one purpose, salted by the key version."""
        message = f"mno-linkage/v1\x1f{purpose}\x1f{self.key_id}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).digest()

    @classmethod
    def generate(cls, key_id: str) -> LinkageKey:
        return cls(key_id=key_id, secret=secrets.token_bytes(MIN_KEY_BYTES))


def _bad_file(path: Path, why_fr: str, why_en: str) -> PseudonymError:
    return PseudonymError(
        f"Fichier de clé invalide ({path}) : {why_fr}",
        f"Invalid key file ({path}): {why_en}",
    )


def load_key_file(path: Path) -> LinkageKey:
    """Read and check a key file; every problem becomes a clear bilingual error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PseudonymError(
            f"Fichier de clé introuvable : {path}", f"Key file not found: {path}"
        ) from None
    except OSError as exc:
        raise _bad_file(
            path, f"lecture impossible ({exc.strerror})", f"unreadable ({exc.strerror})"
        ) from None
    if len(raw) > 4096:
        raise _bad_file(path, "trop volumineux pour une clé", "too large to be a key")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad_file(path, "ce n'est pas un document JSON", "not a JSON document") from None
    if not isinstance(document, dict) or document.get("format") != KEY_FORMAT:
        raise _bad_file(
            path, f"le champ format doit valoir {KEY_FORMAT!r}", f"format must be {KEY_FORMAT!r}"
        )
    key_id = document.get("key_id")
    encoded = document.get("key")
    if not isinstance(key_id, str) or not isinstance(encoded, str):
        raise _bad_file(path, "key_id et key sont obligatoires", "key_id and key are required")
    try:
        secret = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_file(path, "la clé n'est pas en base64", "the key is not base64") from None
    try:
        return LinkageKey(key_id=key_id, secret=secret)
    except PseudonymError as exc:
        raise _bad_file(path, exc.message_fr, exc.message_en) from None


def write_key_file(path: Path, key: LinkageKey) -> None:
    """Write a new key file readable by its owner only; never overwrite an existing key."""
    document = {
        "format": KEY_FORMAT,
        "key_id": key.key_id,
        "key": base64.b64encode(key.secret).decode("ascii"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": "Clé de liaison partagée du protocole d'accord : ne jamais l'envoyer à la "
        "passerelle. / MoU shared linkage key: never send it to the gateway.",
    }
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PseudonymError(
            f"Le fichier existe déjà, il ne sera pas écrasé : {path}",
            f"The file already exists and will not be overwritten: {path}",
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
