"""Keyed Bloom-filter (CLK) encoding of names, birth year, sex, birth day, place and ID number.

Every feature (a name bigram, the birth year, ...) sets ``k`` bits whose positions come from
HMAC-SHA512 under a key derived from the shared linkage key and its version ("random hashing":
independent positions, not the double-hashing scheme whose regularities known attacks exploit).

The filter is cut into fixed *regions*, one per group of attributes, so that the matcher can
score each group on its own and tell "missing" from "different" (a record-level filter mixes
them up: a namesake without a birth year then looks as close as the right person):

==========  =====================================================  ==========
region      features                                                 bits/1024
==========  =====================================================  ==========
names       bigrams of every folded name token                       448
demo        birth year and its neighbours (± year_window)             192
sex         sex                                                        64
day         day and month of birth, only when the full date is known   64
place       bigrams of the folded place of birth                      128
id          bigrams of the identity document number                   128
==========  =====================================================  ==========
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass

from connectors.pseudonym.keys import LinkageKey
from connectors.pseudonym.normalise import Identity

DEFAULT_BITS = 1024
REGIONS = ("names", "demo", "sex", "day", "place", "id")


# 64-bit words per region in every 1024 bits. A region must be large enough that two unrelated
# values rarely share bits by chance: far-apart birth years must look different.
_REGION_WORDS = {"names": 7, "demo": 3, "sex": 1, "day": 1, "place": 2, "id": 2}


def region_layout(bits: int) -> dict[str, tuple[int, int]]:
    """(offset, size) in bits of every region of a ``bits``-bit filter."""
    if bits <= 0 or bits % 1024:
        raise ValueError("the filter size must be a multiple of 1024 bits")
    scale = bits // 1024
    layout: dict[str, tuple[int, int]] = {}
    offset = 0
    for region in REGIONS:
        size = _REGION_WORDS[region] * 64 * scale
        layout[region] = (offset, size)
        offset += size
    return layout


@dataclass(frozen=True, slots=True)
class BloomWeights:
    """Number of bit positions set per feature of each kind."""

    name_bigram: int = 10
    birth_year_neighbour: int = 6
    year_window: int = 2
    sex: int = 16
    birth_day: int = 12
    birth_place: int = 6
    id_bigram: int = 8


DEFAULT_WEIGHTS = BloomWeights()


def bigrams(token: str) -> list[str]:
    padded = f"_{token}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


def identity_features(
    identity: Identity, weights: BloomWeights = DEFAULT_WEIGHTS
) -> list[tuple[str, str, int]]:
    """(region, feature, k) of one identity; a set of features, so order does not matter."""
    features: dict[tuple[str, str], int] = {}
    for token in identity.name.tokens:
        for gram in bigrams(token):
            features[("names", gram)] = weights.name_bigram
    birth = identity.birth
    if birth.year is not None:
        # The years around the birth year: with a window of 2, a year off by one (an age turned
        # into a year, "vers 1990") keeps 4 of the 5 features, off by two 3 of 5, off by five
        # none; the matcher reads that as agreement, neutral, disagreement.
        window = weights.year_window
        for year in range(birth.year - window, birth.year + window + 1):
            features[("demo", f"yn\x1f{year}")] = weights.birth_year_neighbour
        if birth.exact and birth.month is not None and birth.day is not None:
            features[("day", f"{birth.month:02d}-{birth.day:02d}")] = weights.birth_day
    if identity.sex:
        features[("sex", identity.sex)] = weights.sex
    if identity.birth_place:
        # Bigrams, not the whole name: "Sigiri" and "Siguiri" are one town.
        for gram in bigrams(identity.birth_place.replace(" ", "")):
            features[("place", gram)] = weights.birth_place
    if identity.id_number:
        for gram in bigrams(identity.id_number):
            features[("id", gram)] = weights.id_bigram
    return [(region, feature, k) for (region, feature), k in features.items()]


class BloomEncoder:
    """Encodes identities as ``bits``-bit filters under one key version."""

    __slots__ = ("_key", "_bits", "_layout", "_weights", "_cache")

    def __init__(
        self, key: LinkageKey, bits: int = DEFAULT_BITS, weights: BloomWeights = DEFAULT_WEIGHTS
    ) -> None:
        region_layout(bits)  # validates the size
        self._key = key.derive(f"bloom/{bits}")
        self._bits = bits
        self._layout = region_layout(bits)
        self._weights = weights
        # Features repeat endlessly (a few thousand bigrams, a century of years): their bit masks
        # are computed once.
        self._cache: dict[tuple[str, str, int], int] = {}

    @property
    def bits(self) -> int:
        return self._bits

    def positions(self, region: str, feature: str, k: int) -> list[int]:
        offset, size = self._layout[region]
        positions: list[int] = []
        counter = 0
        while len(positions) < k:
            message = f"{region}\x1f{feature}\x1f{counter}".encode()
            digest = hmac.digest(self._key, message, "sha512")
            for start in range(0, len(digest), 2):
                value = int.from_bytes(digest[start : start + 2], "little")
                positions.append(offset + value % size)
                if len(positions) == k:
                    break
            counter += 1
        return positions

    def _feature_mask(self, region: str, feature: str, k: int) -> int:
        cached = self._cache.get((region, feature, k))
        if cached is None:
            cached = 0
            for position in self.positions(region, feature, k):
                cached |= 1 << position
            self._cache[(region, feature, k)] = cached
        return cached

    def encode_int(self, identity: Identity) -> int:
        value = 0
        for region, feature, k in identity_features(identity, self._weights):
            value |= self._feature_mask(region, feature, k)
        return value

    def encode(self, identity: Identity) -> bytes:
        """The filter as bytes, bit ``i`` at byte ``i // 8``, little-endian."""
        return self.encode_int(identity).to_bytes(self._bits // 8, "little")


def bloom_to_text(bloom: bytes) -> str:
    return base64.b64encode(bloom).decode("ascii")


def bloom_from_text(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
