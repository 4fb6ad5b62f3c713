"""Re-key agency-side linkage tokens with the gateway's own secret before anything is stored.

An agency token is HMAC(shared MoU key, identifiers). The gateway stores only
HMAC(gateway key, agency token): a copy of the gateway database does not reveal the tokens the
agencies exchange, and the MoU key never reaches the gateway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from gateway.settings import Settings

KEY_VERSION = "v1"


def linkage_secret(settings: Settings, version: str = KEY_VERSION) -> bytes:
    master = settings.secret_key.get_secret_value().encode()
    return hmac.new(master, f"mno-linkage-{version}".encode(), hashlib.sha256).digest()


def rekey_token(secret: bytes, token: str) -> str:
    digest = hmac.new(secret, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
