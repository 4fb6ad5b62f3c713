"""One signed POST of a structured CloudEvent to an endpoint, and how its outcome is read."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from gateway import __version__
from gateway.subscriptions.signing import webhook_headers

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
USER_AGENT = f"MNO-Gateway-Webhooks/{__version__}"


@dataclass(frozen=True)
class AttemptResult:
    """``ok`` on any 2xx; ``gone`` on 410 (the receiver asks us to stop for good)."""

    ok: bool
    status_code: int | None
    error: str | None
    seconds: float

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def event_body(envelope: Mapping[str, Any]) -> str:
    """The structured-mode JSON of an envelope, exactly the bytes that are signed and sent."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str)


async def post_webhook(
    http: httpx.AsyncClient,
    *,
    url: str,
    secret: str,
    msg_id: str,
    body: str,
    timeout: float,
) -> AttemptResult:
    """POST ``body`` signed for this attempt; never raises for network or HTTP failures."""
    payload = body.encode("utf-8")
    headers = {
        "content-type": CONTENT_TYPE,
        "user-agent": USER_AGENT,
        **webhook_headers(secret, msg_id, int(time.time()), payload),
    }
    started = time.monotonic()
    try:
        # The whole attempt is bounded, not only each socket operation.
        async with asyncio.timeout(timeout):
            # The response body is not read: receivers answer with a status, and a large or
            # slow body must not hold a worker.
            async with http.stream(
                "POST", url, content=payload, headers=headers, timeout=timeout
            ) as response:
                status = response.status_code
    except (TimeoutError, httpx.TimeoutException):
        return AttemptResult(False, None, "timeout", time.monotonic() - started)
    except httpx.HTTPError as exc:
        return AttemptResult(False, None, type(exc).__name__[:60], time.monotonic() - started)
    elapsed = time.monotonic() - started
    if 200 <= status < 300:
        return AttemptResult(True, status, None, elapsed)
    return AttemptResult(False, status, f"http_{status}", elapsed)


def new_http_client(max_connections: int = 200) -> httpx.AsyncClient:
    """The outbound client of the notifier: no redirects (a 3xx is a failed attempt)."""
    return httpx.AsyncClient(
        follow_redirects=False,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=100),
    )
