"""Kafka topic names and their idempotent creation (``mno kafka init``, also done at start).

Canonical topics carry every event (key = referral id or subject pseudonym); each agency reads
only its own inbox topic, which has a single partition so that its events are totally ordered and
the inbox cursor is simply the next offset.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

REFERRAL_EVENTS = "mno.referral.events.v1"
CONSENT_EVENTS = "mno.consent.events.v1"
DEADLETTER = "mno.deadletter.v1"
CANONICAL_TOPICS = (REFERRAL_EVENTS, CONSENT_EVENTS)

# The inbox cursor is an offset of partition 0 (gateway/inbox/reader.py): never more than one.
INBOX_PARTITIONS = 1
DAY_MS = 24 * 3600 * 1000
# The outbox keeps every event in the database; the canonical topics are the replay window.
CANONICAL_RETENTION_MS = 30 * DAY_MS
# An agency may stop polling for a while (a field office offline): keep its inbox longer.
INBOX_RETENTION_MS = 90 * DAY_MS
DEADLETTER_RETENTION_MS = 90 * DAY_MS

AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9-]{1,31}$")


class InvalidAgencyCode(ValueError):
    def __init__(self, code: str) -> None:
        self.agency_code = code
        super().__init__(
            f"Code d'agence invalide : {code!r} (attendu ^[A-Z][A-Z0-9-]{{1,31}}$) / "
            f"Invalid agency code: {code!r} (expected ^[A-Z][A-Z0-9-]{{1,31}}$)"
        )


class TopicCreationFailed(RuntimeError):
    pass


def inbox_topic(agency_code: str) -> str:
    """``mno.inbox.<code in lower case>.v1``: the topic the router fills for one agency."""
    if not AGENCY_CODE.match(agency_code.upper()):
        raise InvalidAgencyCode(agency_code)
    return f"mno.inbox.{agency_code.lower()}.v1"


def _min_insync(replication: int) -> int:
    # acks=all then survives one broker down on a 3-node cluster; 1 on a single node.
    return max(1, min(replication - 1, 2))


def planned_topics(
    agencies: Iterable[str], partitions: int = 3, replication: int = 1
) -> list[NewTopic]:
    """Every topic the exchange needs for these agencies, with its settings."""

    def topic(name: str, count: int, retention_ms: int) -> NewTopic:
        configs = {
            "cleanup.policy": "delete",
            "retention.ms": str(retention_ms),
            "min.insync.replicas": str(_min_insync(replication)),
        }
        return NewTopic(name, count, replication, topic_configs=configs)

    topics = [topic(name, partitions, CANONICAL_RETENTION_MS) for name in CANONICAL_TOPICS]
    topics.append(topic(DEADLETTER, partitions, DEADLETTER_RETENTION_MS))
    for name in sorted({inbox_topic(code) for code in agencies}):
        topics.append(topic(name, INBOX_PARTITIONS, INBOX_RETENTION_MS))
    return topics


async def ensure_topics(
    bootstrap: str,
    agencies: Iterable[str] = (),
    partitions: int = 3,
    replication: int = 1,
    *,
    timeout: float = 30.0,
) -> list[str]:
    """Create the missing topics; existing ones are left as they are. Returns those created."""
    wanted = planned_topics(agencies, partitions, replication)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        await asyncio.wait_for(admin.start(), timeout)
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(missing, timeout_ms=int(timeout * 1000))
        created = _created(response)
        await _wait_until_usable(admin, [t.name for t in missing], deadline)
        return created
    finally:
        await admin.close()


def _created(response: Any) -> list[str]:
    created: list[str] = []
    failures: list[str] = []
    # topic_errors: (name, error_code[, error_message]) depending on the protocol version.
    for entry in response.topic_errors:
        name, code = entry[0], entry[1]
        if code == 0:
            created.append(name)
        elif code != TopicAlreadyExistsError.errno:  # another process created it meanwhile
            message = entry[2] if len(entry) > 2 and entry[2] else for_code(code).__name__
            failures.append(f"{name}: {message}")
    if failures:
        raise TopicCreationFailed(
            "Création de topics impossible / Topic creation failed: " + "; ".join(failures)
        )
    return created


async def _wait_until_usable(admin: AIOKafkaAdminClient, names: list[str], deadline: float) -> None:
    """Wait until every partition has a leader, so callers may produce or assign at once.

    The controller answers CreateTopics before the brokers' metadata caches know the topic.
    """
    loop = asyncio.get_running_loop()
    pending = set(names)
    while pending:
        described = await admin.describe_topics(sorted(pending))
        for topic in described:
            partitions = topic.get("partitions") or []
            if (
                topic["error_code"] == 0
                and partitions
                and all(p["leader"] >= 0 for p in partitions)
            ):
                pending.discard(topic["topic"])
        if not pending:
            return
        if loop.time() > deadline:
            raise TopicCreationFailed(
                "Topics créés mais sans leader / Topics created but without a leader: "
                + ", ".join(sorted(pending))
            )
        await asyncio.sleep(0.05)
