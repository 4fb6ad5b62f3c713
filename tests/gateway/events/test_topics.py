"""Topic names and their idempotent creation on the real broker."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from typer.testing import CliRunner

from gateway.agencies.models import Agency
from gateway.cli.kafka_cmd import agency_codes_from_db
from gateway.cli.main import app as mno
from gateway.db.base import utcnow
from gateway.db.engine import make_sessionmaker
from gateway.events.topics import (
    CONSENT_EVENTS,
    DEADLETTER,
    INBOX_PARTITIONS,
    REFERRAL_EVENTS,
    InvalidAgencyCode,
    ensure_topics,
    inbox_topic,
    planned_topics,
)
from gateway.settings import Settings

if TYPE_CHECKING:
    from tests.conftest import Database
    from tests.kafka_fixtures import KafkaHandle


def agency_code() -> str:
    return f"ONG-{uuid.uuid4().hex[:8].upper()}"


async def partition_counts(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}


def test_topic_names() -> None:
    assert REFERRAL_EVENTS == "mno.referral.events.v1"
    assert CONSENT_EVENTS == "mno.consent.events.v1"
    assert DEADLETTER == "mno.deadletter.v1"
    assert inbox_topic("OIM-GN") == "mno.inbox.oim-gn.v1"
    assert inbox_topic("sante") == "mno.inbox.sante.v1"


@pytest.mark.parametrize("code", ["", "A", "1ONG", "ONG_GN", "ONG.GN", "X" * 33, "ONG GN"])
def test_invalid_agency_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidAgencyCode):
        inbox_topic(code)


def test_planned_topics_settings() -> None:
    planned = {t.name: t for t in planned_topics(["OIM-GN", "OIM-GN"], 6, 3)}
    assert set(planned) == {REFERRAL_EVENTS, CONSENT_EVENTS, DEADLETTER, "mno.inbox.oim-gn.v1"}
    assert planned[REFERRAL_EVENTS].num_partitions == 6
    assert planned["mno.inbox.oim-gn.v1"].num_partitions == INBOX_PARTITIONS == 1
    assert all(t.replication_factor == 3 for t in planned.values())
    # acks=all still succeeds with one of three brokers down
    assert planned[REFERRAL_EVENTS].topic_configs["min.insync.replicas"] == "2"


@pytest.mark.kafka
async def test_ensure_topics_creates_then_is_idempotent(kafka: KafkaHandle) -> None:
    code = agency_code()
    created = await ensure_topics(kafka.bootstrap, [code], partitions=3)
    assert inbox_topic(code) in created
    assert await ensure_topics(kafka.bootstrap, [code], partitions=3) == []
    counts = await partition_counts(
        kafka.bootstrap, [REFERRAL_EVENTS, CONSENT_EVENTS, DEADLETTER, inbox_topic(code)]
    )
    assert counts[inbox_topic(code)] == 1
    assert counts[REFERRAL_EVENTS] >= 1
    assert set(counts) >= {CONSENT_EVENTS, DEADLETTER}


@pytest.mark.kafka
async def test_concurrent_creators_do_not_fail(kafka: KafkaHandle) -> None:
    codes = [agency_code() for _ in range(3)]
    results = await asyncio.gather(*(ensure_topics(kafka.bootstrap, codes) for _ in range(4)))
    created = [name for result in results for name in result]
    # every inbox created exactly once, whoever won the race
    assert sorted(n for n in created if n.startswith("mno.inbox.")) == sorted(
        inbox_topic(c) for c in codes
    )


@pytest.mark.kafka
async def test_kafka_init_command_creates_inbox_topics(kafka: KafkaHandle) -> None:
    code = agency_code()
    result = await asyncio.to_thread(
        CliRunner().invoke,
        mno,
        ["kafka", "init", "--agency", code.lower(), "--partitions", "2"],
        env={"MNO_KAFKA_BOOTSTRAP": kafka.bootstrap},
    )
    assert result.exit_code == 0, result.output
    assert f"created: {inbox_topic(code)}" in result.output
    assert "Topics prêts" in result.output
    counts = await partition_counts(kafka.bootstrap, [inbox_topic(code)])
    assert counts == {inbox_topic(code): 1}


async def test_kafka_init_reads_agency_codes_from_the_database(database: Database) -> None:
    async with make_sessionmaker(database.engine)() as session:
        for code in ("SANTE-KANKAN", "OIM-GN"):
            session.add(Agency(code=code, name=f"Agence {code}", kind="ngo", created_at=utcnow()))
        await session.commit()
    assert await agency_codes_from_db(database.settings()) == ["OIM-GN", "SANTE-KANKAN"]


async def test_kafka_init_without_database_uses_only_given_codes(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert await agency_codes_from_db(settings) == []
    assert not (tmp_path / "mno.db").exists()  # not created just to be read
    (tmp_path / "mno.db").touch()  # exists but unmigrated
    assert await agency_codes_from_db(settings) == []
