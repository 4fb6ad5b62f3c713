"""Demo credential files are created 0600 whatever the umask (issue 14 item 7)."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.privatefile import write_private


def test_created_private_even_under_a_permissive_umask(tmp_path: Path) -> None:
    path = tmp_path / "demo-credentials.json"
    old = os.umask(0)
    try:
        write_private(path, '{"secret": "x"}')
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="utf-8") == '{"secret": "x"}'


def test_an_existing_wider_file_is_narrowed_and_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "demo-staff.json"
    path.write_text("old content that is longer")
    path.chmod(0o644)
    write_private(path, "new")
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="utf-8") == "new"
