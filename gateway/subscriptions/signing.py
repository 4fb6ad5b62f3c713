"""Standard Webhooks signatures (v1, HMAC-SHA256) and the at-rest encryption of secrets.

The signed content is ``"{webhook-id}.{webhook-timestamp}.{body}"``; the secret is shown to the
agency once as ``whsec_<base64>`` and kept encrypted with a key derived from the master secret,
because signing needs it in clear (a hash would not do).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32  # Standard Webhooks: between 24 and 64 bytes
_ENVELOPE = "v1"


def new_secret() -> str:
    """A fresh ``whsec_…`` secret (32 random bytes, standard base64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_…`` secret."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``"{id}.{timestamp}.{body}"``."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (the id stays the same on retries)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SecretBox:
    """AES-256-GCM with a key derived from ``Settings.secret_key``; the endpoint id is bound as
    associated data, so a secret copied to another endpoint's row does not decrypt."""

    def __init__(self, master_secret: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"mno-gateway",
            info=b"webhook-secrets-at-rest/v1",
        ).derive(master_secret.encode("utf-8"))
        self._aead = AESGCM(derived)

    def seal(self, secret: str, endpoint_id: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode("utf-8"), endpoint_id.encode("utf-8"))
        return f"{_ENVELOPE}.{_b64(nonce)}.{_b64(sealed)}"

    def open(self, envelope: str, endpoint_id: str) -> str:
        version, nonce, sealed = envelope.split(".")
        if version != _ENVELOPE:
            raise ValueError("unknown envelope version")
        plain = self._aead.decrypt(_unb64(nonce), _unb64(sealed), endpoint_id.encode("utf-8"))
        return plain.decode("utf-8")
