"""The one settings object of the gateway (environment prefix ``MNO_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-change-me"  # noqa: S105 - the known default that prod refuses


class Settings(BaseSettings):
    """Validated once at start; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="MNO_", extra="ignore")

    env: Literal["dev", "prod"] = "dev"
    data_dir: Path = Path("./var")
    database_url: str | None = None
    kafka_bootstrap: str | None = None
    issuer: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET),
        description="Master secret: encrypts signing keys at rest and keys pseudonyms.",
    )
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    token_rate_limit_per_minute: int = Field(default=30, ge=1)
    log_level: str = "INFO"
    policy_file: Path | None = None
    kafka_partitions: int = Field(default=3, ge=1)
    kafka_replication: int = Field(default=1, ge=1)
    test_database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

    @model_validator(mode="after")
    def _refuse_default_secrets_in_prod(self) -> Settings:
        if self.env == "prod" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError(
                "MNO_SECRET_KEY doit être défini en production / "
                "MNO_SECRET_KEY must be set in production"
            )
        if self.env == "prod" and self.database_url is None:
            raise ValueError(
                "MNO_DATABASE_URL doit être défini en production / "
                "MNO_DATABASE_URL must be set in production"
            )
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'mno.db'}"

    @property
    def audience(self) -> str:
        return self.issuer.rstrip("/")
