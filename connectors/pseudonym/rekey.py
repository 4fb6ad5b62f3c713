"""Second keying layer, applied by the gateway with its own secret before anything is stored.

* Exact tokens: HMAC-SHA256 of the agency token under the gateway secret (base64url, 43
  characters). Equal in, equal out; without the gateway secret a stored token cannot be
  compared with a token computed from a guessed identity, even by someone holding the MoU key.
* Bloom filters: a secret permutation of the bit positions *within each region*. Dice
  coefficients, hence match scores, are unchanged; the positions a guessed identity would set
  under the MoU key no longer line up with the stored bits.

The gateway secret never leaves the gateway, the MoU key never reaches it. Layers compose:
when the gateway secret rotates, ``mno linkage rekey`` applies a new layer (new version) on top
of every stored value, and incoming values then go through every layer in order
(``chain``). Stored values never have to be recomputed from agency data (docs/linkage.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from connectors.pseudonym.bloom import DEFAULT_BITS, REGIONS, region_layout
from connectors.pseudonym.match import LinkageRecord


def _stream(key: bytes, label: str) -> bytes:
    """An endless-enough keyed byte stream (HMAC-SHA256 in counter mode)."""
    blocks = (
        hmac.digest(key, f"{label}\x1f{counter}".encode(), "sha256") for counter in range(4096)
    )
    return b"".join(blocks)


def keyed_permutation(key: bytes, label: str, size: int) -> list[int]:
    """Fisher-Yates shuffle of ``range(size)`` driven by a keyed stream (no modulo bias)."""
    stream = _stream(key, label)
    position = 0
    values = list(range(size))
    for i in range(size - 1, 0, -1):
        bound = i + 1
        limit = (1 << 32) - ((1 << 32) % bound)
        while True:
            number = int.from_bytes(stream[position : position + 4], "little")
            position += 4
            if number < limit:
                break
        j = number % bound
        values[i], values[j] = values[j], values[i]
    return values


@dataclass(frozen=True)
class GatewayRekeyer:
    """Re-keys tokens and Bloom filters with one version of the gateway secret."""

    version: str
    secret: bytes = field(repr=False)
    bits: int = DEFAULT_BITS

    def __post_init__(self) -> None:
        if len(self.secret) < 32:
            raise ValueError("the gateway linkage secret must be at least 32 bytes")

    def _key(self, purpose: str) -> bytes:
        message = f"mno-gateway-linkage/v1\x1f{purpose}\x1f{self.version}".encode()
        return hmac.digest(self.secret, message, "sha256")

    def token(self, token: str) -> str:
        digest = hmac.digest(self._key("tokens"), token.encode("ascii"), "sha256")
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    @property
    def _permutation(self) -> np.ndarray:
        cached: np.ndarray | None = self.__dict__.get("_cached_permutation")
        if cached is None:
            key = self._key("bloom")
            layout = region_layout(self.bits)
            permutation = np.arange(self.bits)
            for region in REGIONS:
                offset, size = layout[region]
                shuffled = keyed_permutation(key, f"{self.bits}/{region}", size)
                permutation[offset : offset + size] = offset + np.array(shuffled)
            cached = permutation
            object.__setattr__(self, "_cached_permutation", cached)
        return cached

    def blooms(self, blooms: Sequence[bytes]) -> list[bytes]:
        """Permuted filters: bit ``i`` of the input lands on bit ``permutation[i]``."""
        if not blooms:
            return []
        size = self.bits // 8
        if any(len(bloom) != size for bloom in blooms):
            raise ValueError(f"every Bloom filter must be {size} bytes")
        matrix = np.frombuffer(b"".join(blooms), dtype=np.uint8).reshape(len(blooms), size)
        bits = np.unpackbits(matrix, axis=1, bitorder="little")
        permuted = np.zeros_like(bits)
        permuted[:, self._permutation] = bits
        packed = np.packbits(permuted, axis=1, bitorder="little")
        return [row.tobytes() for row in packed]

    def bloom(self, bloom: bytes) -> bytes:
        return self.blooms([bloom])[0]

    def record(self, record: LinkageRecord) -> LinkageRecord:
        """The record as the gateway stores it."""
        return LinkageRecord(
            tokens=tuple(self.token(token) for token in record.tokens),
            bloom=self.bloom(record.bloom),
            birth_year=record.birth_year,
            sex=record.sex,
        )

    def records(self, records: Sequence[LinkageRecord]) -> list[LinkageRecord]:
        blooms = self.blooms([record.bloom for record in records])
        return [
            LinkageRecord(
                tuple(self.token(token) for token in record.tokens),
                bloom,
                record.birth_year,
                record.sex,
            )
            for record, bloom in zip(records, blooms, strict=True)
        ]


def secret_fingerprint(secret: bytes) -> str:
    """A short, non-reversible label of a secret, for logs and key-version tables."""
    return hashlib.sha256(b"mno-fingerprint\x1f" + secret).hexdigest()[:16]


def chain(
    layers: Sequence[GatewayRekeyer], records: Sequence[LinkageRecord]
) -> list[LinkageRecord]:
    """Apply every layer in order (oldest first): what stored values went through."""
    result = list(records)
    for layer in layers:
        result = layer.records(result)
    return result
