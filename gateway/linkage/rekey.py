"""Re-key agency-side linkage tokens with the gateway's own secret before anything is stored.

An agency token is HMAC(shared MoU key, identifiers). The gateway stores only
HMAC(gateway key, agency token): a copy of the gateway database does not reveal the tokens the
agencies exchange, and the MoU key never reaches the gateway.

``linkage_secret`` is also the root of the linkage ledger's layer secrets
(``gateway.linkage.layers``): they are stored wrapped under a key derived from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from pydantic import SecretStr

from gateway.settings import Settings

KEY_VERSION = "v1"


def linkage_secret_from(master: SecretStr, version: str = KEY_VERSION) -> bytes:
    """The linkage secret derived from one master secret (current or previous)."""
    return hmac.new(
        master.get_secret_value().encode(), f"mno-linkage-{version}".encode(), hashlib.sha256
    ).digest()


def linkage_secret(settings: Settings, version: str = KEY_VERSION) -> bytes:
    return linkage_secret_from(settings.secret_key, version)


def rekey_token(secret: bytes, token: str) -> str:
    digest = hmac.new(secret, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
