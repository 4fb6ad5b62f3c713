"""In-memory sliding-window limiter for the token endpoint (against secret guessing)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence


class SlidingWindowLimiter:
    """At most ``limit`` accepted hits per key in any ``window`` seconds (one process).

    Refused hits are not recorded, so a client that backs off is let in again on time.
    """

    MAX_KEYS = 100_000  # bounds memory under a flood of random client ids

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def hit(self, keys: Sequence[str]) -> float | None:
        """Record one hit under every key; or return the seconds to wait when one is full."""
        now = self._clock()
        wait = 0.0
        for key in keys:
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                wait = max(wait, hits[0] + self.window - now)
        if wait > 0:
            return wait
        if len(self._hits) >= self.MAX_KEYS:
            self._prune(now)
        for key in keys:
            self._hits.setdefault(key, deque()).append(now)
        return None

    def _prune(self, now: float) -> None:
        for key in list(self._hits):
            if not self._recent(key, now):
                del self._hits[key]
        if len(self._hits) >= self.MAX_KEYS:
            # Still full of live keys: forget everything rather than grow without bound.
            self._hits.clear()


def retry_after_header(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
