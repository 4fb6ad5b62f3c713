"""Exact linkage tokens: HMAC-SHA256 with the shared linkage key over field combinations.

Each token is the base64url (no padding, 43 characters) of an HMAC over one combination of
normalised fields. The token *kind* is part of the HMAC input, so two kinds never collide, but
the list sent out is sorted so that a token's position does not tell its kind.
"""

from __future__ import annotations

import base64
import hmac

from connectors.pseudonym.keys import LinkageKey
from connectors.pseudonym.normalise import Identity

_SEPARATOR = "\x1f"  # cannot appear in a normalised field


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenEncoder:
    """Derives the exact tokens of one identity under one key version."""

    __slots__ = ("_key",)

    def __init__(self, key: LinkageKey) -> None:
        self._key = key.derive("tokens")

    def token(self, kind: str, *fields: str) -> str:
        message = _SEPARATOR.join((kind, *fields)).encode("utf-8")
        return b64url(hmac.digest(self._key, message, "sha256"))

    def pseudonym(self, identity: Identity) -> str:
        """The primary token: sorted folded names, birth year and sex (blank when unknown)."""
        year = str(identity.birth.year) if identity.birth.year is not None else ""
        return self.token("nys", " ".join(identity.name.tokens), year, identity.sex or "")

    def extra_tokens(self, identity: Identity) -> list[str]:
        """Other combinations, each only when all its fields are known; sorted, kind hidden."""
        name = identity.name
        year = identity.birth.year
        tokens: list[str] = []
        if name.tokens and year is not None:
            # Robust to a wrong or missing sex.
            tokens.append(self.token("ny", " ".join(name.tokens), str(year)))
        if name.family and name.given and year is not None:
            # Family name + first given name: robust to a dropped or added middle name
            # ("Mamadou Aliou Diallo" / "Mamadou Diallo").
            family = " ".join(sorted(name.family))
            tokens.append(self.token("fgy", family, name.given[0], str(year)))
        if identity.phone:
            tokens.append(self.token("phone", identity.phone))
        if identity.id_number:
            tokens.append(self.token("id", identity.id_number))
        return sorted(tokens)
