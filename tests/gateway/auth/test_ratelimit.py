"""The token endpoint's sliding-window limit per client and per address."""

from __future__ import annotations

from httpx import AsyncClient

from gateway.auth.ratelimit import SlidingWindowLimiter


async def test_token_endpoint_answers_429_with_retry_after(limited_api: AsyncClient) -> None:
    data = {"grant_type": "client_credentials", "client_id": "guess-0001", "client_secret": "x"}
    statuses = [(await limited_api.post("/oauth/token", data=data)).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    refused = await limited_api.post("/oauth/token", data=data)
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_requests"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_window_slides() -> None:
    now = [1000.0]
    limiter = SlidingWindowLimiter(limit=2, window=60, clock=lambda: now[0])
    assert limiter.hit(["client:a"]) is None
    now[0] += 10
    assert limiter.hit(["client:a"]) is None
    now[0] += 10
    wait = limiter.hit(["client:a"])
    assert wait == 40  # the first hit leaves the window 60 s after it was made
    now[0] += 40.5
    assert limiter.hit(["client:a"]) is None


def test_each_key_counts_on_its_own_and_any_full_key_refuses() -> None:
    limiter = SlidingWindowLimiter(limit=1, window=60, clock=lambda: 0.0)
    assert limiter.hit(["addr:1", "client:a"]) is None
    assert limiter.hit(["addr:2", "client:b"]) is None
    # Same address, new client: the address is full.
    assert limiter.hit(["addr:1", "client:c"]) is not None
    # Refused hits are not recorded: client c is still free from another address.
    assert limiter.hit(["addr:3", "client:c"]) is None
