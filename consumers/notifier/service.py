"""Notifier rules: which deliveries and notices an inbox event makes, and the retry schedule."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.notify.service import NoticeRequest, notice_for_event
from gateway.subscriptions.models import WebhookDelivery, WebhookEndpoint
from gateway.subscriptions.service import new_delivery, wants

# Every agency inbox, including those created after the notifier started.
INBOX_PATTERN = r"^mno\.inbox\..*\.v1$"
_INBOX = re.compile(r"^mno\.inbox\.([a-z][a-z0-9-]{1,31})\.v1$")


def agency_of_topic(topic: str) -> str | None:
    """``mno.inbox.oim-gn.v1`` → ``OIM-GN`` (codes are upper case, topics their lower case)."""
    match = _INBOX.match(topic)
    return match.group(1).upper() if match else None


def backoff_seconds(
    attempt: int, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with jitter: between half and all of ``min(cap, base·2^(n-1))``, so
    endpoints that failed together do not all come back at the same instant."""
    ceiling = min(cap, base * 2.0 ** max(0, min(attempt - 1, 32)))
    draw: float = (rng or random).random()  # noqa: S311 - spreading load, not security
    return ceiling * (0.5 + 0.5 * draw)


@dataclass
class EventPlan:
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    notices: list[NoticeRequest] = field(default_factory=list)


def plan_event(
    agency: str,
    envelope: Mapping[str, Any],
    endpoints: Sequence[WebhookEndpoint],
    now: datetime,
) -> EventPlan:
    """A delivery per active endpoint of the agency that wants this type; a notice if due."""
    plan = EventPlan()
    event_type = str(envelope.get("type"))
    for endpoint in endpoints:
        if endpoint.agency == agency and endpoint.status == "active":
            if wants(endpoint.event_types, event_type):
                plan.deliveries.append(new_delivery(endpoint.id, envelope, now))
    notice = notice_for_event(agency, envelope)
    if notice is not None:
        plan.notices.append(notice)
    return plan
