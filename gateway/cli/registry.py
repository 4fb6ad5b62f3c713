"""Command groups contributed by the other parts, attached to the root app."""

from __future__ import annotations

import typer


def register_groups(app: typer.Typer) -> None:
    """Each part adds its Typer group here (one import, one line)."""
