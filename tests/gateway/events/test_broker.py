"""The embedded Apache Kafka broker, exercised with real clients."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from gateway.events import broker as broker_module
from gateway.events.broker import (
    EmbeddedKafka,
    KafkaNotInstalled,
    KafkaStartFailed,
    broker_for,
    cluster_answers,
)
from gateway.events.cloudevents import from_kafka, to_kafka
from gateway.settings import Settings

if TYPE_CHECKING:
    from tests.kafka_fixtures import KafkaHandle


pytestmark = pytest.mark.kafka


async def create_topic(bootstrap: str, name: str, partitions: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


async def read_all(bootstrap: str, topic: str, count: int, **kwargs: object) -> list[object]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **kwargs,  # type: ignore[arg-type]
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        while not partitions:
            await asyncio.sleep(0.1)
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        records: list[object] = []
        async with asyncio.timeout(20):
            while len(records) < count:
                batches = await consumer.getmany(timeout_ms=500)
                for batch in batches.values():
                    records.extend(batch)
        return records
    finally:
        await consumer.stop()


def idempotent_producer(bootstrap: str, **kwargs: object) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        **kwargs,  # type: ignore[arg-type]
    )


async def test_produce_consume_round_trip_with_cloudevents(kafka: KafkaHandle) -> None:
    topic = kafka.unique_topic()
    await create_topic(kafka.bootstrap, topic, partitions=3)
    producer = idempotent_producer(kafka.bootstrap)
    await producer.start()
    sent = []
    try:
        for i in range(20):
            envelope = {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "/mno/test",
                "type": "gn.mno.referral.submitted.v1",
                "subject": f"ref-{i % 4}",
                "time": "2026-03-01T10:00:00+00:00",
                "datacontenttype": "application/json",
                "data": {"n": i, "prefecture": "Kankan"},
            }
            value, headers = to_kafka(envelope)
            await producer.send_and_wait(
                topic, value=value, key=envelope["subject"].encode(), headers=headers
            )
            sent.append(envelope)
    finally:
        await producer.stop()
    records = await read_all(kafka.bootstrap, topic, 20)
    received = [from_kafka(r.value, list(r.headers)) for r in records]  # type: ignore[attr-defined]
    assert sorted(received, key=lambda e: e["data"]["n"]) == sent
    # same key, same partition, in order
    by_key: dict[bytes, set[int]] = {}
    for r in records:
        by_key.setdefault(r.key, set()).add(r.partition)  # type: ignore[attr-defined]
    assert all(len(parts) == 1 for parts in by_key.values())


async def test_transactional_produce_is_visible_only_when_committed(kafka: KafkaHandle) -> None:
    topic = kafka.unique_topic()
    await create_topic(kafka.bootstrap, topic)
    producer = idempotent_producer(kafka.bootstrap, transactional_id=f"tx-{uuid.uuid4().hex}")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send(topic, value=b"committed")
        await producer.begin_transaction()
        await producer.send(topic, value=b"aborted")
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send(topic, value=b"after")
    finally:
        await producer.stop()
    records = await read_all(kafka.bootstrap, topic, 2, isolation_level="read_committed")
    assert [r.value for r in records] == [b"committed", b"after"]  # type: ignore[attr-defined]


async def test_topics_are_not_created_on_first_use(kafka: KafkaHandle) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, request_timeout_ms=1500)
    await producer.start()
    try:
        with pytest.raises(KafkaError):
            await producer.send_and_wait(kafka.unique_topic("absent"), value=b"x")
    finally:
        await producer.stop()


async def test_broker_down_then_back_on_same_port_with_its_data(kafka: KafkaHandle) -> None:
    topic = kafka.unique_topic()
    await create_topic(kafka.bootstrap, topic)
    producer = idempotent_producer(kafka.bootstrap, request_timeout_ms=2000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=b"before")
        bootstrap = kafka.bootstrap
        async with kafka.down():
            assert not await cluster_answers(bootstrap, timeout=1.0)
            with pytest.raises((KafkaError, TimeoutError)):
                async with asyncio.timeout(6):
                    await producer.send_and_wait(topic, value=b"lost")
        assert kafka.bootstrap == bootstrap
        await producer.send_and_wait(topic, value=b"after")
    finally:
        await producer.stop()
    records = await read_all(kafka.bootstrap, topic, 2)
    values = [r.value for r in records]  # type: ignore[attr-defined]
    assert values[0] == b"before"
    assert values[-1] == b"after"


async def test_broker_recovers_after_a_crash(kafka: KafkaHandle) -> None:
    topic = kafka.unique_topic()
    await create_topic(kafka.bootstrap, topic)
    producer = idempotent_producer(kafka.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=b"acked")
    finally:
        await producer.stop()
    async with kafka.down(crash=True):
        assert kafka.broker is not None
        assert not kafka.broker.running
    records = await read_all(kafka.bootstrap, topic, 1)
    assert [r.value for r in records] == [b"acked"]  # type: ignore[attr-defined]


async def test_broker_files_and_storage_are_reused(kafka: KafkaHandle) -> None:
    broker = kafka.broker
    assert broker is not None
    props = broker.properties_file.read_text()
    assert "auto.create.topics.enable=false" in props
    assert "process.roles=broker,controller" in props
    assert f"listeners=PLAINTEXT://{broker.bootstrap}," in props
    assert "log4j2" in " ".join(p.name for p in broker.data_dir.iterdir())
    meta = (broker.log_dir / "meta.properties").read_text()
    await broker.restart()
    assert (broker.log_dir / "meta.properties").read_text() == meta  # not formatted again
    assert await cluster_answers(broker.bootstrap)


async def test_missing_jars_tell_to_run_make_kafka(tmp_path: Path) -> None:
    broker = EmbeddedKafka(tmp_path / "data", libs_dir=tmp_path / "nowhere")
    with pytest.raises(KafkaNotInstalled, match="make kafka") as caught:
        await broker.start()
    assert "make kafka" in caught.value.message_fr
    assert not broker.running


async def test_missing_java_is_reported(tmp_path: Path) -> None:
    broker = EmbeddedKafka(tmp_path / "data", java="no-such-java-binary")
    with pytest.raises(KafkaNotInstalled, match="Java"):
        await broker.start()


async def test_failed_format_reports_the_tool_output(tmp_path: Path) -> None:
    broker = EmbeddedKafka(tmp_path / "data", properties={"node.id": "not-a-number"})
    with pytest.raises(KafkaStartFailed, match="not-a-number"):
        await broker.start()
    assert not broker.running


async def test_failed_start_reports_the_broker_log(tmp_path: Path) -> None:
    # Accepted by the storage tool, refused by the server when it builds its authorizer.
    broker = EmbeddedKafka(
        tmp_path / "data", properties={"authorizer.class.name": "gn.mno.NoSuchAuthorizer"}
    )
    with pytest.raises(KafkaStartFailed, match="NoSuchAuthorizer") as caught:
        await broker.start()
    assert "exited while starting" in caught.value.message_en
    assert not broker.running


async def test_broker_for_prefers_the_configured_cluster(tmp_path: Path) -> None:
    settings = Settings(kafka_bootstrap="kafka-1:9092,kafka-2:9092", data_dir=tmp_path)
    async with broker_for(settings) as bootstrap:
        assert bootstrap == "kafka-1:9092,kafka-2:9092"
    assert not (tmp_path / "kafka").exists()  # nothing embedded was started


async def test_cluster_ids_starting_with_a_dash_are_formatted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # base64url ids start with "-" one time in 64: the storage tool must not take it for an option
    monkeypatch.setattr(broker_module, "new_cluster_id", lambda: "-" + "A" * 21)
    broker = EmbeddedKafka(tmp_path / "data")
    await broker.prepare()
    assert "cluster.id=-AAAAAAAAAAAAAAAAAAAAA" in (broker.log_dir / "meta.properties").read_text()
    assert not broker.running
