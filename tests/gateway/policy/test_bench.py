"""The database benchmark keeps its own correctness check honest: no stale answer after a change.

Speed is what the benchmark reports, not what this test checks (it runs a tiny registry).
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.gateway.policy.factories import REPO


def test_database_benchmark_gives_no_stale_answer_after_a_withdrawal() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "policy.py"),
            "--mode",
            "database",
            "--consents",
            "300",
            "--decisions",
            "4000",
            "--batch",
            "100",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    database = json.loads(result.stdout)["database"]

    assert database["consents_in_database"] == 300
    assert 0 < database["cold"]["fact_loads"] <= database["subjects"]
    cached = database["cached"]
    assert cached["consent_changes"] >= 1
    assert cached["answers_checked_after_change"] > 0
    assert cached["stale_answers"] == 0
