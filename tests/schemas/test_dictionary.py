"""The data dictionary is generated, current, and covers every field and code in FR and EN."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.main import app
from schemas.codes import CODE_LISTS
from schemas.dictionary import MODELS, render_dictionary

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"
runner = CliRunner()


def test_committed_dictionary_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_dictionary(), "run: mno schemas docs"


def test_dictionary_lists_every_field_and_every_code_with_both_labels() -> None:
    text = render_dictionary()
    for model in MODELS:
        assert f"### `{model.__name__}`" in text
        for name in model.model_fields:
            assert f"| `{name}` |" in text, (model.__name__, name)
    for entry in CODE_LISTS.values():
        for code, (fr, en) in entry.labels.items():
            assert f"| `{code}` | {fr} | {en} |" in text, (entry.name, code)
    assert "version **mineure**" in text
    assert "new **major** version" in text


def test_docs_command_writes_the_dictionary(tmp_path: Path) -> None:
    target = tmp_path / "dd.md"
    result = runner.invoke(app, ["schemas", "docs", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == render_dictionary()
