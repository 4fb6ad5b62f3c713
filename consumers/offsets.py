"""Offset arithmetic every consumer loop shares: where to rewind a failed batch to, and what to
commit after a batch whose work is durable."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata


def first_offsets(records: Sequence[ConsumerRecord[bytes, bytes]]) -> dict[TopicPartition, int]:
    """The lowest offset of the records per partition (where a retry starts again)."""
    firsts: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        firsts[tp] = min(firsts.get(tp, r.offset), r.offset)
    return firsts


def next_offsets(
    records: Sequence[ConsumerRecord[bytes, bytes]],
) -> dict[TopicPartition, OffsetAndMetadata]:
    """The offsets to commit once every record is handled (the next one per partition)."""
    nexts: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        nexts[tp] = max(nexts.get(tp, 0), r.offset + 1)
    return {tp: OffsetAndMetadata(offset, "") for tp, offset in nexts.items()}


def rewind(consumer: AIOKafkaConsumer, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
    """Seek back to the batch's first records, so that the next fetch retries it whole."""
    for tp, offset in first_offsets(records).items():
        consumer.seek(tp, offset)
