"""Signing keys (private part encrypted at rest) and the denylist of token ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

# Re-exported so that importing this module registers every table the auth server needs.
from gateway.agencies.models import Agency, OAuthClient
from gateway.db.base import Base, UTCDateTime

__all__ = ["Agency", "OAuthClient", "RevokedToken", "SigningKey"]


class SigningKey(Base):
    """A token signing key. Published in the JWKS until ``not_after`` once retired."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RevokedToken(Base):
    """A refused token id: revoked access tokens and already used client assertions."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
