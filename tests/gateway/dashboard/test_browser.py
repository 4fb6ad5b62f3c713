"""The dashboard in headless Chromium: sign in, apply a filter, charts drawn, screenshot."""

from __future__ import annotations

from playwright.async_api import Browser, Page

from tests.conftest import Database
from tests.gateway.dashboard.conftest import StaffLogin
from tests.gateway.meal.conftest import feed
from tests.gateway.meal.factories import october_stream

PAINTED = """(id) => {
  const canvas = document.getElementById(id);
  if (!canvas || !canvas.width || !canvas.height) { return 0; }
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { painted += 1; } }
  return painted;
}"""


async def _painted(page: Page, canvas_id: str) -> int:
    return int(await page.evaluate(PAINTED, canvas_id))


async def test_dashboard_in_chromium_filters_by_region_and_draws_charts(
    browser: Browser, live_server: str, database: Database, viewer: StaffLogin
) -> None:
    await feed(database, october_stream())
    context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server) else outside.append(request.url)
        ),
    )
    try:
        await page.goto(f"{live_server}/dashboard?period=2026-10")
        assert page.url.endswith("/dashboard/login")
        await page.fill("#email", viewer.email)
        await page.fill("#password", viewer.password)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#filtres")
        await page.select_option("#period", "2026-10")
        await page.select_option("#region", "GN-C")
        await page.click("#appliquer")
        await page.wait_for_url("**/dashboard?period=2026-10&region=GN-C")
        await page.wait_for_selector("html[data-charts=ready]")
        title = await page.inner_text("#titre")
        assert title == "Tableau de bord — octobre 2026 · Conakry (zone spéciale)"
        tile = await page.inner_text('[data-indicator="referrals_made"] .valeur')
        assert tile.strip() == "< 5"  # R2 R3 R8 R10 live in Conakry
        assert await _painted(page, "chart-trend") > 500
        assert await _painted(page, "chart-sex") > 100
        screenshot = await page.screenshot(full_page=True)
        assert screenshot.startswith(b"\x89PNG")
        assert len(screenshot) > 20_000
        assert errors == []
        assert outside == []  # everything, Chart.js included, came from this server
    finally:
        await context.close()
