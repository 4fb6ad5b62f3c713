"""The connector's gateway client: OAuth2 client credentials, retries, idempotent submission.

Tokens come from ``/oauth/token`` through authlib's httpx client (client_secret_basic), and
are fetched again before they expire or when the gateway answers 401. Connection errors, 5xx
and 429 answers are retried with exponential backoff and jitter (``Retry-After`` honoured)
until ``max_elapsed_seconds``; nothing is lost meanwhile, because the caller advances its
checkpoint only on the answers. Each row's ``Idempotency-Key`` derives from its source primary
key, so sending a row twice never makes two referrals.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import authlib.deprecate  # noqa: F401 - installs authlib's "always" filter before ours below
import httpx

from connectors.mapping import ConnectorError

with warnings.catch_warnings():
    # authlib prefers the httpx2 package and warns once on import when it falls back to httpx.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

logger = logging.getLogger("mno.connector.client")

BATCH_PATH = "/v1/referrals:batch"
MAX_BATCH = 500
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Outcome = Literal["created", "replayed", "already_present", "rejected"]


def idempotency_key(connector_id: str, source: str, pk: object) -> str:
    """HMAC-SHA256(connector id; source, primary key), hex: stable across runs, opaque."""
    message = f"mno-connector/v1\x1f{source}\x1f{pk}".encode()
    return hmac.new(connector_id.encode(), message, hashlib.sha256).hexdigest()


class GatewayUnavailable(ConnectorError):
    """The gateway did not answer within the retry budget; nothing was acknowledged."""


class GatewayRefused(ConnectorError):
    """The gateway refused the connector itself (credentials, scope): no retry helps."""


@dataclass(frozen=True)
class RetryPolicy:
    initial_seconds: float = 0.5
    max_seconds: float = 30.0
    max_elapsed_seconds: float | None = 600.0  # None: retry for ever

    def delay(self, attempt: int) -> float:
        ceiling = min(self.max_seconds, self.initial_seconds * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class Submission:
    key: str
    body: dict[str, Any]


@dataclass(frozen=True)
class SubmitResult:
    """The gateway's answer for one row."""

    key: str
    outcome: Outcome
    status: int
    referral_id: str | None = None
    code: str | None = None
    message_fr: str | None = None
    message_en: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        """The gateway holds a referral for this key (now or from an earlier run)."""
        return self.outcome != "rejected"


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class GatewayClient:
    """One authenticated session with the gateway; use as ``async with``."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = "referrals:write",
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        use_batch: bool = True,
        concurrency: int = 8,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._timeout = timeout
        self.retry = retry or RetryPolicy()
        self.use_batch = use_batch
        self._concurrency = concurrency
        self._sleep = sleep
        self._oauth: AsyncOAuth2Client | None = None
        self._keys: dict[str, dict[str, Any] | None] = {}
        self.retries = 0  # counter for the report

    async def __aenter__(self) -> GatewayClient:
        self._oauth = AsyncOAuth2Client(
            self._client_id,
            self._client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            token_endpoint=f"{self.base_url}/oauth/token",
            grant_type="client_credentials",
            scope=self._scope,
            timeout=self._timeout,
            limits=httpx.Limits(max_connections=self._concurrency),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._oauth is not None:
            await self._oauth.aclose()
            self._oauth = None

    @property
    def _session(self) -> AsyncOAuth2Client:
        if self._oauth is None:
            raise RuntimeError("GatewayClient used outside 'async with'")
        return self._oauth

    # ------------------------------------------------------------------ transport

    async def _fetch_token(self) -> None:
        try:
            await self._session.fetch_token(grant_type="client_credentials")
        except OAuthError as exc:
            raise GatewayRefused(
                f"La passerelle refuse les identifiants du connecteur ({exc.error}) : "
                "vérifiez client_id et le secret.",
                f"The gateway refuses the connector's credentials ({exc.error}): "
                "check client_id and the secret.",
            ) from None
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            if status in RETRY_STATUSES:
                raise _Retry(f"token HTTP {status}", _retry_after(exc.response)) from None
            raise GatewayRefused(
                f"Point de jeton inattendu (HTTP {status})",
                f"Unexpected token endpoint answer (HTTP {status})",
            ) from None

    async def _attempt(
        self, method: str, path: str, json: Any, headers: dict[str, str] | None
    ) -> httpx.Response:
        session = self._session
        token = session.token
        if not token or token.is_expired(leeway=60):
            await self._fetch_token()  # here, so that its failures are retried like any other
        url = f"{self.base_url}{path}"
        response: httpx.Response = await session.request(method, url, json=json, headers=headers)
        if response.status_code == 401:
            await self._fetch_token()  # expired, revoked, or the key ring rotated
            response = await session.request(method, url, json=json, headers=headers)
        if response.status_code in RETRY_STATUSES:
            raise _Retry(f"HTTP {response.status_code}", _retry_after(response))
        if response.status_code in (401, 403):
            problem = _problem(response)
            raise GatewayRefused(
                f"La passerelle refuse le connecteur (HTTP {response.status_code}, "
                f"{problem.get('code', '')}) : vérifiez les portées du client "
                "(referrals:write).",
                f"The gateway refuses the connector (HTTP {response.status_code}, "
                f"{problem.get('code', '')}): check the client's scopes (referrals:write).",
            )
        return response

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        max_elapsed: float | None = None,
    ) -> httpx.Response:
        """One call, retried on connection errors, 5xx and 429 until the budget runs out."""
        budget = self.retry.max_elapsed_seconds if max_elapsed is None else max_elapsed
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return await self._attempt(method, path, json, headers)
            except (httpx.TransportError, _Retry) as exc:
                reason = exc.reason if isinstance(exc, _Retry) else type(exc).__name__
                retry_after = exc.retry_after if isinstance(exc, _Retry) else None
            attempt += 1
            delay = max(self.retry.delay(attempt), retry_after or 0.0)
            elapsed = time.monotonic() - started
            if budget is not None and elapsed + delay > budget:
                raise GatewayUnavailable(
                    f"Passerelle injoignable après {attempt} essais en {elapsed:.0f} s "
                    f"({reason}) : rien n'a été perdu, relancez plus tard.",
                    f"Gateway unreachable after {attempt} attempts in {elapsed:.0f} s "
                    f"({reason}): nothing was lost, run again later.",
                )
            self.retries += 1
            logger.warning(
                "gateway retry",
                extra={
                    "event": "gateway.retry",
                    "reason": reason,
                    "attempt": attempt,
                    "delay_seconds": round(delay, 2),
                    "path": path,
                },
            )
            await self._sleep(delay)

    # ------------------------------------------------------------------ API

    async def agency_key(self, agency: str) -> dict[str, Any] | None:
        """The receiving agency's public JWK from the directory (cached; None if it has none)."""
        if agency in self._keys:
            return self._keys[agency]
        response = await self.request("GET", f"/v1/directory/agencies/{quote(agency)}/key")
        jwk: dict[str, Any] | None = None
        if response.status_code == 200:
            found = response.json().get("public_jwk")
            jwk = found if isinstance(found, dict) else None
        elif response.status_code != 404:
            raise ConnectorError(
                f"Annuaire : réponse inattendue HTTP {response.status_code}",
                f"Directory: unexpected answer HTTP {response.status_code}",
            )
        self._keys[agency] = jwk
        return jwk

    def forget_keys(self) -> None:
        """Read the directory again (at each poll: agencies rotate their keys)."""
        self._keys.clear()

    async def submit(self, items: Sequence[Submission]) -> list[SubmitResult]:
        """Every item answered (acknowledged or rejected), or ``GatewayUnavailable``."""
        results: dict[str, SubmitResult] = {}
        pending = list(items)
        if self.use_batch:
            for start in range(0, len(pending), MAX_BATCH):
                chunk = pending[start : start + MAX_BATCH]
                answered = await self._submit_batch(chunk)
                if answered is None:
                    logger.warning(
                        "batch endpoint absent, one request per referral",
                        extra={"event": "gateway.no_batch"},
                    )
                    self.use_batch = False
                    break
                results.update((r.key, r) for r in answered)
        rest = [item for item in pending if item.key not in results]
        if rest:
            semaphore = asyncio.Semaphore(self._concurrency)

            async def one(item: Submission) -> SubmitResult:
                async with semaphore:
                    return await self._submit_one(item)

            for result in await asyncio.gather(*(one(item) for item in rest)):
                results[result.key] = result
        return [results[item.key] for item in items]

    async def _submit_batch(self, items: Sequence[Submission]) -> list[SubmitResult] | None:
        answered: dict[str, SubmitResult] = {}
        todo = list(items)
        attempt = 0
        started = time.monotonic()
        while todo:
            body = {"items": [{"idempotency_key": i.key, "referral": i.body} for i in todo]}
            response = await self.request("POST", BATCH_PATH, json=body)
            if response.status_code in (404, 405):
                return None
            if response.status_code != 200:
                problem = _problem(response)
                raise ConnectorError(
                    f"Lot refusé par la passerelle (HTTP {response.status_code}) : "
                    f"{problem.get('detail', '')}",
                    f"Batch refused by the gateway (HTTP {response.status_code}): "
                    f"{problem.get('code', '')}",
                )
            retry: list[Submission] = []
            for item, result in zip(todo, response.json()["results"], strict=True):
                status = int(result["status"])
                if status in RETRY_STATUSES:
                    retry.append(item)
                    continue
                answered[item.key] = _result(item.key, status, result)
            todo = retry
            if todo:
                attempt += 1
                delay = self.retry.delay(attempt)
                budget = self.retry.max_elapsed_seconds
                if budget is not None and time.monotonic() - started + delay > budget:
                    raise GatewayUnavailable(
                        "Passerelle surchargée : des référencements restent sans réponse.",
                        "Gateway overloaded: some referrals remain unanswered.",
                    )
                self.retries += 1
                await self._sleep(delay)
        return [answered[i.key] for i in items]

    async def _submit_one(self, item: Submission) -> SubmitResult:
        response = await self.request(
            "POST", "/v1/referrals", json=item.body, headers={"Idempotency-Key": item.key}
        )
        body = _problem(response)
        if response.status_code == 201 and response.headers.get("Idempotent-Replayed") == "true":
            return SubmitResult(item.key, "replayed", 200, referral_id=body.get("id"))
        detail = body.get("detail") if response.status_code >= 400 else None
        return _result(
            item.key,
            response.status_code,
            {
                "referral_id": body.get("id"),
                "code": body.get("code"),
                "message_fr": detail,
                "message_en": detail,
                "errors": body.get("errors", []),
            },
        )

    async def heartbeat(self, payload: dict[str, Any]) -> bool:
        """Report a poll; a failure is logged, never fatal (the next poll reports again)."""
        try:
            response = await self.request(
                "POST", "/v1/connectors/heartbeat", json=payload, max_elapsed=30.0
            )
        except ConnectorError as exc:
            logger.warning(
                "heartbeat not delivered",
                extra={"event": "heartbeat.failed", "reason": exc.message_en},
            )
            return False
        if response.status_code >= 300:
            logger.warning(
                "heartbeat refused",
                extra={"event": "heartbeat.refused", "status": response.status_code},
            )
            return False
        return True


def _result(key: str, status: int, data: dict[str, Any]) -> SubmitResult:
    outcome: Outcome
    if status == 201:
        outcome = "created"
    elif status == 200:
        outcome = "replayed"
    elif status == 409 and data.get("code") == "idempotency_key_reused":
        # The key is already used by this agency: the referral exists from an earlier run
        # (the JWE is encrypted afresh each time, so the body never matches byte for byte).
        outcome = "already_present"
    else:
        outcome = "rejected"
    errors = data.get("errors") or []
    return SubmitResult(
        key=key,
        outcome=outcome,
        status=status,
        referral_id=data.get("referral_id"),
        code=data.get("code"),
        message_fr=data.get("message_fr"),
        message_en=data.get("message_en"),
        errors=list(errors) if isinstance(errors, list) else [],
    )
