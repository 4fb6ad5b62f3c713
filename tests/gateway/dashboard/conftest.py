"""Staff accounts, a live server and the system Chromium (driven by Playwright) for the dashboard.

Chromium is the Debian package at /usr/bin/chromium; ``playwright install`` is never run.
This fixture is this folder's own: nothing is shared with other parts' browser tests.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright

from gateway.app import create_app
from gateway.dashboard import service
from gateway.db.engine import make_sessionmaker
from tests.conftest import Database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class StaffLogin:
    email: str
    password: str
    role: str


async def add_staff(database: Database, email: str, role: str = "viewer") -> StaffLogin:
    async with make_sessionmaker(database.engine)() as session:
        new = await service.add_staff(session, email, role)
        await session.commit()
    return StaffLogin(new.user.email, new.password, role)


@pytest.fixture
async def viewer(database: Database) -> StaffLogin:
    return await add_staff(database, "lecture@mno.gov.gn", "viewer")


@pytest.fixture
async def admin(database: Database) -> StaffLogin:
    return await add_staff(database, "admin@mno.gov.gn", "admin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def live_server(database: Database) -> AsyncIterator[str]:
    """The real app over HTTP on a free loopback port (a browser needs a socket)."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(database.settings()), host="127.0.0.1", port=port, log_config=None
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 15)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()
