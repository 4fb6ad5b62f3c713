"""The single-server profile: deploy/systemd/ units pass ``systemd-analyze verify``.

The units point at /opt/mno/venv/bin/mno; verify checks that the executable exists, so the test
points them at this checkout's ``mno`` (same arguments) in a copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
INSTALLED = "/opt/mno/venv/bin/mno"


def test_systemd_units_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze missing: run `make services` (scripts/ensure-test-tools.sh)"
    mno = Path(sys.executable).parent / "mno"
    assert mno.exists()
    units = sorted(p for p in DEPLOY.iterdir() if p.suffix in {".service", ".target"})
    assert {p.name for p in units} >= {
        "mno.target",
        "mno-migrate.service",
        "mno-gateway.service",
        "mno-relay.service",
        "mno-router.service",
        "mno-notifier.service",
        "mno-meal-aggregator.service",
        "mno-linkage-worker.service",
    }
    for unit in units:
        text = unit.read_text()
        if unit.suffix == ".service":
            assert INSTALLED in text
            assert "EnvironmentFile=/etc/mno/mno.env" in text
        (tmp_path / unit.name).write_text(text.replace(INSTALLED, str(mno)))
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [tool, "verify", "--man=no", *(str(tmp_path / u.name) for u in units)],
        capture_output=True,
        text=True,
        check=False,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "mno" in line or "Unknown" in line or "Invalid" in line
    ]
    assert result.returncode == 0, result.stdout + result.stderr
    assert problems == [], result.stdout + result.stderr


def test_a_broken_unit_is_refused(tmp_path: Path) -> None:
    """The check can fail: a unit with a missing executable and a typo is reported."""
    bad = tmp_path / "mno-bad.service"
    bad.write_text("[Unit]\nDescription=x\n\n[Service]\nExecStrat=/nonexistent/mno\n")
    tool = shutil.which("systemd-analyze")
    assert tool
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [tool, "verify", "--man=no", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 or "ExecStrat" in result.stderr
