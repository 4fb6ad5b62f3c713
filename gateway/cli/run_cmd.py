"""``mno run`` and ``mno gateway``: start the system."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from gateway.app import create_app
from gateway.db.migrate import upgrade
from gateway.ops.logging import configure_logging
from gateway.settings import Settings


def run_gateway(*, host: str, port: int) -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)


def run_all(*, host: str, port: int, data_dir: Path) -> None:
    """The embedded default: SQLite under ``data_dir``, migrated, then the gateway."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir)
    if "issuer" not in settings.model_fields_set:
        settings = settings.model_copy(update={"issuer": f"http://{host}:{port}"})
    configure_logging(settings.log_level)
    upgrade(settings.resolved_database_url)
    print(f"MNO Gateway : http://{host}:{port}/docs  (santé/health: /healthz)")  # noqa: T201
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
