"""Client secret hashing (scrypt) and at-rest encryption of signing keys (AES-256-GCM)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# scrypt cost: ~50 ms and 16 MiB per check, which makes offline guessing of a leaked hash slow.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
SECRET_BYTES = 32
_SCHEME = "scrypt"
_ENVELOPE = "v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_client_secret() -> str:
    """A fresh random client secret (32 bytes of entropy, URL-safe text)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_DKLEN, maxmem=64 * 2**20
    )


def hash_client_secret(secret: str) -> str:
    """``scrypt$n$r$p$salt$hash`` with a per-secret random salt."""
    salt = os.urandom(16)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_client_secret(secret: str, stored: str | None) -> bool:
    """Constant-time comparison against a stored scrypt hash; a missing hash never matches."""
    if stored is None:
        burn_secret_check(secret)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        candidate = _scrypt(secret, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, _unb64(digest))


def burn_secret_check(secret: str) -> None:
    """Spend the same time as a real check, so an unknown client id answers no faster."""
    _scrypt(secret, b"\0" * 16, SCRYPT_N, SCRYPT_R, SCRYPT_P)


class KeyEncryptor:
    """Encrypts private keys at rest with a key derived from ``Settings.secret_key``.

    The key id is bound as associated data, so a ciphertext moved to another row fails.
    """

    def __init__(self, master_secret: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"mno-gateway",
            info=b"signing-keys-at-rest/v1",
        ).derive(master_secret.encode("utf-8"))
        self._aead = AESGCM(derived)

    def encrypt(self, plaintext: bytes, kid: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext, kid.encode("utf-8"))
        return f"{_ENVELOPE}.{_b64(nonce)}.{_b64(sealed)}"

    def decrypt(self, envelope: str, kid: str) -> bytes:
        version, nonce, sealed = envelope.split(".")
        if version != _ENVELOPE:
            raise ValueError("unknown envelope version")
        return self._aead.decrypt(_unb64(nonce), _unb64(sealed), kid.encode("utf-8"))
