"""Legacy databases (SQLite, PostgreSQL, MariaDB), a live gateway, and a connector setup."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import text
from sqlalchemy.engine import make_url

from connectors.pseudonym.keys import LinkageKey, write_key_file
from connectors.runner import ConnectorConfig
from gateway.app import create_app
from gateway.db.engine import make_engine, make_sessionmaker
from gateway.settings import Settings
from tests.conftest import Database
from tests.connectors.factories import LegacyDb, unique_table
from tests.gateway.auth.factories import ClientCredentials, create_client_credentials, ensure_agency

EXAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "examples"
MARIADB_URL = os.environ.get(
    "MNO_TEST_MARIADB_URL", "mysql+pymysql://mno_legacy:mno_legacy@127.0.0.1:3306/mno_legacy"
)
LEGACY_BACKENDS = ["sqlite", "postgres", "mariadb"]


# ------------------------------------------------------------------------ legacy databases


@pytest.fixture(scope="session")
async def legacy_postgres_url() -> str:
    """A PostgreSQL database beside the gateway's test database, for legacy tables."""
    url = make_url(Settings().test_database_url)
    legacy = url.set(database=f"{url.database}_legacy")
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        found = await conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": legacy.database}
        )
        if not found:
            await conn.execute(text(f'CREATE DATABASE "{legacy.database}"'))
    await admin.dispose()
    return legacy.render_as_string(hide_password=False)


async def _legacy(backend: str, tmp_path: Path, postgres_url: str) -> LegacyDb:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'legacy.db'}"
    elif backend == "postgres":
        url = postgres_url
    else:
        url = MARIADB_URL
    db = LegacyDb(backend, url, unique_table())
    await db.create()
    return db


@pytest.fixture(params=LEGACY_BACKENDS)
async def legacy(
    request: pytest.FixtureRequest, tmp_path: Path, legacy_postgres_url: str
) -> AsyncIterator[LegacyDb]:
    """An empty legacy case table on each backend the connector is tested against."""
    db = await _legacy(request.param, tmp_path, legacy_postgres_url)
    try:
        yield db
    finally:
        await db.drop()
        await db.dispose()


@pytest.fixture
async def mariadb_legacy(tmp_path: Path, legacy_postgres_url: str) -> AsyncIterator[LegacyDb]:
    """An empty legacy case table in MariaDB (scripts/ensure-mariadb.sh)."""
    db = await _legacy("mariadb", tmp_path, legacy_postgres_url)
    try:
        yield db
    finally:
        await db.drop()
        await db.dispose()


@pytest.fixture
def linkage_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "cle-liaison.json"
    write_key_file(path, LinkageKey.generate("mou-test-1"))
    return path


# ------------------------------------------------------------------------ live gateway


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """The real app under uvicorn on a loopback port, in a thread."""

    def __init__(self, database: Database, port: int | None = None, wrap: Any = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(database.settings(issuer=self.url))
        self.app = app
        asgi = wrap(app) if wrap is not None else app
        config = uvicorn.Config(
            asgi, host="127.0.0.1", port=self.port, log_config=None, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    async def start(self) -> LiveServer:
        self._thread.start()
        for _ in range(400):
            if self._server.started:
                return self
            await asyncio.sleep(0.025)
        raise AssertionError("uvicorn did not start")

    async def stop(self) -> None:
        self._server.should_exit = True
        await asyncio.to_thread(self._thread.join, 15)


@dataclass
class Parties:
    """The referring agency's connector client and the receivers' private keys."""

    referrer: ClientCredentials
    receiver_keys: dict[str, ECKey | RSAKey]


RECEIVERS = {"CDS-KANKAN": "EC", "MEC-CONAKRY": "RSA"}


async def setup_parties(database: Database) -> Parties:
    sessionmaker = make_sessionmaker(database.engine)
    keys: dict[str, ECKey | RSAKey] = {}
    async with sessionmaker() as session:
        for code, kty in RECEIVERS.items():
            key: ECKey | RSAKey = (
                ECKey.generate_key("P-256", auto_kid=True)
                if kty == "EC"
                else RSAKey.generate_key(2048, auto_kid=True)
            )
            keys[code] = key
            await ensure_agency(
                session, code, kind="provider", public_jwk=dict(key.as_dict(private=False))
            )
        await ensure_agency(session, "SANS-CLE", kind="ngo")  # no public key published
        await session.commit()
    referrer = await create_client_credentials(sessionmaker, "OIM-GN", "referrals:write", kind="un")
    return Parties(referrer, keys)


@pytest.fixture
async def parties(database: Database) -> Parties:
    return await setup_parties(database)


@pytest.fixture
async def live_gateway(database: Database) -> AsyncIterator[LiveServer]:
    server = await LiveServer(database).start()
    try:
        yield server
    finally:
        await server.stop()


# ------------------------------------------------------------------------ configurations


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def sql_config(
    tmp_path: Path,
    *,
    legacy: LegacyDb,
    key_file: Path,
    gateway_url: str = "http://127.0.0.1:9",
    parties: Parties | None = None,
    batch_size: int = 25,
    **overrides: Any,
) -> ConnectorConfig:
    """The example configuration, pointed at this legacy table, gateway and temp folder."""
    data = example("dossiers_retour.yaml")
    data["linkage_key_file"] = str(key_file)
    data["batch_size"] = batch_size
    data["source"].pop("url_env")
    data["source"].update({"url": legacy.url, "table": legacy.table_name, "lookback_seconds": 0})
    data["gateway"] = {
        "url": gateway_url,
        "client_id": parties.referrer.client_id if parties else "none",
        "client_secret": parties.referrer.client_secret if parties else "none",
        "max_retry_seconds": 20,
    }
    data.update(overrides)
    return ConnectorConfig.from_dict(data, tmp_path / "dossiers_retour.yaml")
