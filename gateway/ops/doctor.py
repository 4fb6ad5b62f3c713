"""``mno doctor``: configuration, database, broker, keys, clock skew and disk, each explained
in French first, English second."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text

from gateway.auth.crypto import KeyEncryptor
from gateway.auth.keys import load_keyring
from gateway.db.engine import is_sqlite, make_engine, make_sessionmaker
from gateway.db.migrate import current_revision, head_revision, known_revisions
from gateway.errors import MnoError
from gateway.settings import DEV_SECRET, Settings

MAX_CLOCK_SKEW_SECONDS = 5.0
MIN_FREE_BYTES = 1 << 30  # 1 GiB
BROKER_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message_fr: str
    message_en: str


def check_configuration(settings: Settings) -> Check:
    if settings.secret_key.get_secret_value() == DEV_SECRET:
        return Check(
            "configuration",
            settings.env != "prod",
            "MNO_SECRET_KEY vaut la valeur de développement : à définir avant toute donnée réelle.",
            "MNO_SECRET_KEY is the development default: set it before any real data.",
        )
    return Check("configuration", True, "Configuration valide.", "Configuration is valid.")


def check_disk(settings: Settings) -> Check:
    path = settings.data_dir if settings.data_dir.exists() else settings.data_dir.resolve().parent
    usage = shutil.disk_usage(path)
    free_gib = usage.free / (1 << 30)
    if usage.free < MIN_FREE_BYTES or usage.free < usage.total * 0.05:
        return Check(
            "disk",
            False,
            f"Disque presque plein sous {path} : {free_gib:.1f} Gio libres (minimum 1 Gio et 5 %)."
            " Libérez de la place : la base et les journaux ne peuvent plus grandir.",
            f"Disk almost full under {path}: {free_gib:.1f} GiB free (minimum 1 GiB and 5%).",
        )
    return Check(
        "disk", True, f"Disque : {free_gib:.1f} Gio libres.", f"Disk: {free_gib:.1f} GiB free."
    )


async def check_database_keys_clock(settings: Settings) -> list[Check]:
    url = settings.resolved_database_url
    engine = make_engine(url, pool_size=2)
    checks: list[Check] = []
    try:
        try:
            current = await current_revision(engine)
        except Exception as exc:  # any driver error: unreachable, refused, bad credentials
            return [
                Check(
                    "database",
                    False,
                    f"Base de données injoignable ({type(exc).__name__}) : vérifiez "
                    "MNO_DATABASE_URL"
                    " et que le serveur PostgreSQL tourne.",
                    f"Database unreachable ({type(exc).__name__}): check MNO_DATABASE_URL and that"
                    " the PostgreSQL server is running.",
                )
            ]
        unknown = set(current) - known_revisions()
        if unknown:
            checks.append(
                Check(
                    "database",
                    False,
                    "Schéma plus récent que ce code : installez la version qui l'a créé.",
                    "Schema newer than this code: install the release that created it.",
                )
            )
        elif current != head_revision():
            checks.append(
                Check(
                    "database",
                    False,
                    "Base de données non migrée : lancez « mno db upgrade ».",
                    "Database not migrated: run 'mno db upgrade'.",
                )
            )
            return checks
        else:
            checks.append(
                Check("database", True, "Base de données à jour.", "Database up to date.")
            )
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            try:
                await load_keyring(session, KeyEncryptor(settings.secret_key.get_secret_value()))
                checks.append(
                    Check("keys", True, "Clé de signature lisible.", "Signing key readable.")
                )
            except MnoError as err:
                checks.append(Check("keys", False, err.message_fr, err.message_en))
            if is_sqlite(url):
                checks.append(
                    Check(
                        "clock",
                        True,
                        "Horloge : base locale (SQLite), pas d'écart possible avec la base.",
                        "Clock: local database (SQLite), no skew possible with the database.",
                    )
                )
            else:
                db_now = (await session.execute(text("SELECT now()"))).scalar_one()
                skew = abs((datetime.now(UTC) - db_now).total_seconds())
                ok = skew <= MAX_CLOCK_SKEW_SECONDS
                checks.append(
                    Check(
                        "clock",
                        ok,
                        f"Écart d'horloge avec PostgreSQL : {skew:.1f} s"
                        + (
                            "." if ok else " : synchronisez l'heure (NTP), les jetons en dépendent."
                        ),
                        f"Clock skew with PostgreSQL: {skew:.1f} s"
                        + ("." if ok else ": synchronise time (NTP); tokens depend on it."),
                    )
                )
    finally:
        await engine.dispose()
    return checks


async def check_broker(bootstrap: str | None) -> Check:
    if not bootstrap:
        return Check(
            "broker",
            False,
            "Broker Kafka non configuré : définissez MNO_KAFKA_BOOTSTRAP (ou passez --kafka).",
            "Kafka broker not configured: set MNO_KAFKA_BOOTSTRAP (or pass --kafka).",
        )
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await asyncio.wait_for(admin.start(), BROKER_TIMEOUT_SECONDS)
        topics = await asyncio.wait_for(admin.list_topics(), BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # connection refused, timeout, metadata error
        return Check(
            "broker",
            False,
            f"Broker Kafka injoignable à {bootstrap} ({type(exc).__name__}) : démarrez-le ou "
            "corrigez MNO_KAFKA_BOOTSTRAP ; les événements restent dans l'outbox en attendant.",
            f"Kafka broker unreachable at {bootstrap} ({type(exc).__name__}): start it or fix "
            "MNO_KAFKA_BOOTSTRAP; events wait in the outbox meanwhile.",
        )
    finally:
        await admin.close()
    return Check(
        "broker",
        True,
        f"Broker Kafka joignable à {bootstrap} ({len(topics)} sujets).",
        f"Kafka broker reachable at {bootstrap} ({len(topics)} topics).",
    )


async def run_checks(settings: Settings, bootstrap: str | None = None) -> list[Check]:
    checks = [check_configuration(settings)]
    checks += await check_database_keys_clock(settings)
    checks.append(await check_broker(bootstrap or settings.kafka_bootstrap))
    checks.append(check_disk(settings))
    return checks
