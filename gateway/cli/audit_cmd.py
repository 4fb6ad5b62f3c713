"""``mno audit``: verify the hash-chained audit log."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.service import VerifyResult, verify
from gateway.cli.common import run_with_session
from gateway.settings import Settings

app = typer.Typer(help="Audit log. / Journal d'audit.", no_args_is_help=True)


@app.command("verify")
def verify_cmd() -> None:
    """Check the audit chain; exit 1 naming the first bad entry. / Vérifie la chaîne d'audit."""

    async def work(session: AsyncSession, _settings: Settings) -> VerifyResult:
        return await verify(session)

    result = run_with_session(work)
    if result.ok:
        typer.echo(f"Journal d'audit intègre ({result.entries} entrées). / Audit log intact.")
        return
    typer.echo(f"{result.problem_fr} / {result.problem_en}", err=True)
    raise typer.Exit(1)
