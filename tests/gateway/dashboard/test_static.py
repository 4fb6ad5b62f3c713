"""The vendored chart library is the recorded release, with its licence."""

from __future__ import annotations

import hashlib

from gateway.dashboard.endpoints import STATIC

CHART_JS_SHA256 = "87364cc2b2a76a6684929e7d6b80b18a897794db38400caff1fcf1791c6925d2"  # 4.6.1


def test_vendored_chart_js_is_the_recorded_release_with_its_licence() -> None:
    vendor = STATIC / "vendor"
    digest = hashlib.sha256((vendor / "chart.umd.min.js").read_bytes()).hexdigest()
    assert digest == CHART_JS_SHA256  # docs/meal.md records the same hash
    assert "MIT License" in (vendor / "chart.js.LICENSE.txt").read_text()
