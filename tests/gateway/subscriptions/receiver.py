"""A real HTTP/1.1 server on loopback that plays a webhook receiver (or an SMS gateway).

Small on purpose (asyncio streams, keep-alive, Content-Length bodies): tests choose how it
answers each request, stop it to play "down", and start it again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

PING_TYPE = "gn.mno.webhook.ping.v1"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int = 0

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_ping(self) -> bool:
        try:
            return bool(self.json.get("type") == PING_TYPE)
        except ValueError:
            return False

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


Behaviour = Callable[[Request, int], Awaitable[int]]  # (request, attempt n° for its id) → status


async def always_ok(_request: Request, _attempt: int) -> int:
    return 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Receiver:
    behaviour: Behaviour = always_ok
    port: int = field(default_factory=free_port)
    accept_pings: bool = True  # verification pings answered 200, whatever the behaviour
    requests: list[Request] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _attempts: Counter[str] = field(default_factory=Counter)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )

    async def stop(self) -> None:
        """Close the listener and every open connection: the receiver is down."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            for handler in list(self._handlers):
                handler.cancel()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Receiver:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ views
    @property
    def events(self) -> list[Request]:
        """Webhook requests other than verification pings."""
        return [r for r in self.requests if not r.is_ping]

    def succeeded_ids(self) -> list[str]:
        """Event ids in the order they were first answered 2xx (as an idempotent receiver
        that skips an id it already processed would process them)."""
        seen: dict[str, None] = {}
        for r in self.events:
            if 200 <= r.status < 300:
                seen.setdefault(r.webhook_id, None)
        return list(seen)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"receiver: condition not met within {timeout}s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.2))

    # ------------------------------------------------------------------ protocol
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Request(method, path, headers, body, time.monotonic())
                self.requests.append(request)
                key = request.webhook_id or str(len(self.requests))
                self._attempts[key] += 1
                request.status = (
                    200
                    if request.is_ping and self.accept_pings
                    else await self.behaviour(request, self._attempts[key])
                )
                self._changed.set()
                writer.write(f"HTTP/1.1 {request.status} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # stopped while a slow behaviour was waiting: that connection just ends
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
