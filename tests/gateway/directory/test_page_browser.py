"""The directory page in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``.
"""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from PIL import Image
from playwright.async_api import async_playwright

from gateway.app import create_app
from tests.conftest import Database
from tests.gateway.directory.conftest import load_demo

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def live_server(database: Database) -> AsyncIterator[str]:
    """The app on a real socket (the browser needs one), over the demo directory."""
    await load_demo(database)
    port = _free_port()
    config = uvicorn.Config(
        create_app(database.settings()), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_directory_page_searches_and_shows_availability(live_server: str) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{live_server}/annuaire")
            assert await page.title() == "Annuaire des prestataires — MNO Guinée"
            everything = await page.locator("#resultats .service").count()
            assert everything >= 10

            # Choosing a category submits the search (vanilla JS, server-rendered results).
            async with page.expect_navigation():
                await page.select_option("#categorie", "medical")
            assert "categorie=medical" in page.url
            cards = page.locator("#resultats .service")
            assert await cards.count() == 1
            assert "Accepte des orientations : 12 place(s) sur 40" in await cards.first.inner_text()

            async with page.expect_navigation():
                await page.select_option("#categorie", "vocational_training")
            async with page.expect_navigation():
                await page.select_option("#zone", "GN-KD")
            assert await page.locator(".dispo-limit").first.inner_text() == (
                "Complet : aucune place disponible"
            )

            # The text filter narrows the cards on the page without a request.
            await page.goto(f"{live_server}/annuaire?langue=fra")
            await page.fill("#filtre", "hébergement")
            visible = page.locator("#resultats .service:visible")
            assert await visible.count() == 1
            assert await page.locator("#compte").inner_text() == "1 service trouvé"

            shot = await page.screenshot(full_page=True)
            image = Image.open(io.BytesIO(shot)).convert("RGB")
            assert image.width == 1280
            assert image.height > 600
            colours = image.getcolors(maxcolors=1_000_000)
            assert colours is not None
            assert len(colours) > 100  # text, badges and the diagram, not a blank page
            # The flow diagram image loaded (an <img> with a real size).
            width = await page.evaluate("document.querySelector('.flux img').naturalWidth")
            assert width > 800
        finally:
            await browser.close()
