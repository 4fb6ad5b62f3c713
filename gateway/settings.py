"""The one settings object of the gateway (environment prefix ``MNO_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-change-me"  # noqa: S105 - the known default that prod refuses
# The MoU draft shipped with the code; production points MNO_POLICY_FILE at the adopted version.
DEFAULT_POLICY_FILE = (
    Path(__file__).resolve().parent.parent / "deploy" / "policies" / "mou-guinee.yaml"
)


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
    policy_file: Path = Field(
        default=DEFAULT_POLICY_FILE,
        description="MoU data-sharing policy (YAML), loaded and validated at start.",
    )
    kafka_partitions: int = Field(default=3, ge=1)
    kafka_replication: int = Field(default=1, ge=1)
    test_database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    # Notifications (gateway/notify, gateway/subscriptions, consumers/notifier).
    public_base_url: str | None = None  # links in e-mail and SMS; default: the issuer
    smtp_host: str | None = None  # unset = no e-mail is sent (notices are marked skipped)
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "mno-notifications@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    sms_url: str | None = None  # unset = no SMS is sent
    sms_token: SecretStr | None = None
    sms_auth_header: str = "Authorization"
    sms_auth_scheme: str = "Bearer"
    sms_sender: str = "MNO"
    sms_body_template: str = (
        '{"from": {{ sender|tojson }}, "to": {{ to|tojson }}, "text": {{ text|tojson }}}'
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=16, ge=1)
    webhook_backoff_base_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_disable_after_failures: int = Field(default=25, ge=1)
    webhook_concurrency_per_endpoint: int = Field(default=4, ge=1, le=64)
    notify_max_attempts: int = Field(default=8, ge=1)
    notifier_poll_seconds: float = Field(default=1.0, gt=0)
    notifier_overdue_interval_seconds: float = Field(default=300.0, gt=0)
    notifier_topic_refresh_seconds: float = Field(default=10.0, gt=0)
    # Linkage (gateway/linkage): a watched service again within the window is a suspected repeat.
    duplicate_window_days: int = Field(default=365, ge=1, le=3660)
    duplicate_categories: str = "economic_reintegration cash_in_kind vocational_training shelter"
    previous_secret_key: SecretStr | None = None  # only while `mno linkage rekey` re-wraps keys
    match_rate_limit_per_minute: int = Field(default=600, ge=1)  # /v1/subjects/match, per client

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
