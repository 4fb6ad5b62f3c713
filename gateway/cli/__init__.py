"""The ``mno`` command line (Typer)."""
