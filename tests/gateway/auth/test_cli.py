"""``mno keys`` against a migrated SQLite file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.main import app


def test_keys_rotate_adds_a_key_and_retires_the_old_one(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "keys.db"
    shutil.copyfile(sqlite_template, path)
    env = {"MNO_DATABASE_URL": f"sqlite+aiosqlite:///{path}"}
    runner = CliRunner()
    first = runner.invoke(app, ["keys", "rotate"], env=env)
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["keys", "rotate"], env=env)
    assert second.exit_code == 0
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"], env=env).stdout)
    assert len(listed) == 2
    old, new = listed
    assert old["kid"] in first.stdout
    assert new["kid"] in second.stdout
    assert old["retired_at"] is not None
    assert old["not_after"] > old["retired_at"]
    assert new["retired_at"] is None
    refused = runner.invoke(app, ["keys", "rotate", "--alg", "HS256"], env=env)
    assert refused.exit_code == 1
