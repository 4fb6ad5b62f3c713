"""From raw identifiers to what leaves the agency: pseudonym, tokens, Bloom filter."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.pseudonym.bloom import (
    DEFAULT_BITS,
    DEFAULT_WEIGHTS,
    BloomEncoder,
    BloomWeights,
    bloom_to_text,
)
from connectors.pseudonym.keys import LinkageKey
from connectors.pseudonym.normalise import Identity, normalise_identity
from connectors.pseudonym.tokens import TokenEncoder


@dataclass(frozen=True, slots=True)
class LinkageEncoding:
    """The pseudonymised form of one person, safe to send to the gateway."""

    key_id: str
    pseudonym: str
    tokens: tuple[str, ...]
    bloom: bytes
    birth_year: int | None
    sex: str | None

    @property
    def bloom_text(self) -> str:
        return bloom_to_text(self.bloom)


class Pseudonymiser:
    """Normalises and encodes people under one version of the shared linkage key."""

    __slots__ = ("_key", "_tokens", "_bloom")

    def __init__(
        self, key: LinkageKey, bits: int = DEFAULT_BITS, weights: BloomWeights = DEFAULT_WEIGHTS
    ) -> None:
        self._key = key
        self._tokens = TokenEncoder(key)
        self._bloom = BloomEncoder(key, bits=bits, weights=weights)

    @property
    def key_id(self) -> str:
        return self._key.key_id

    def encode_identity(self, identity: Identity) -> LinkageEncoding | None:
        """``None`` when there is no name to encode."""
        if identity.name.is_empty:
            return None
        return LinkageEncoding(
            key_id=self._key.key_id,
            pseudonym=self._tokens.pseudonym(identity),
            tokens=tuple(self._tokens.extra_tokens(identity)),
            bloom=self._bloom.encode(identity),
            birth_year=identity.birth.year,
            sex=identity.sex,
        )

    def encode(
        self,
        *,
        given: str | None = None,
        family: str | None = None,
        full_name: str | None = None,
        birth_date: object = None,
        sex: object = None,
        phone: str | int | None = None,
        id_number: object = None,
        birth_place: object = None,
    ) -> LinkageEncoding | None:
        identity = normalise_identity(
            given=given,
            family=family,
            full_name=full_name,
            birth_date=birth_date,
            sex=sex,
            phone=phone,
            id_number=id_number,
            birth_place=birth_place,
        )
        return self.encode_identity(identity)
