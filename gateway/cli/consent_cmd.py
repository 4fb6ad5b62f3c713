"""``mno consent``: consent registry reports (purge receipts still awaited)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli.common import run_with_session
from gateway.consent.service import PurgeReceiptView, pending_receipts
from gateway.settings import Settings

app = typer.Typer(help="Consent registry. / Registre des consentements.", no_args_is_help=True)


@app.command("receipts")
def receipts_cmd(
    agency: Annotated[
        str | None,
        typer.Option(
            "--agency",
            help="Only receipts owed by or to this agency. / Seulement ceux de cette agence.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON lines. / Une ligne JSON par accusé.")
    ] = False,
    limit: Annotated[int, typer.Option(help="Max. / Nombre max.")] = 1000,
) -> None:
    """List purge receipts still awaited after withdrawals. / Accusés de purge en attente."""

    async def work(session: AsyncSession, _settings: Settings) -> list[PurgeReceiptView]:
        return await pending_receipts(session, agency=agency, limit=limit)

    pending = run_with_session(work)
    if as_json:
        for receipt in pending:
            typer.echo(receipt.model_dump_json())
        return
    if not pending:
        typer.echo("Aucun accusé de purge en attente. / No purge receipt pending.")
        return
    typer.echo(f"{len(pending)} accusé(s) de purge en attente / purge receipt(s) pending:")
    typer.echo(
        f"  {'agence / agency':<20} {'consentement / consent':<38} {'demandé le / asked on'}"
    )
    for receipt in pending:
        asked = receipt.requested_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"  {receipt.agency:<20} {str(receipt.consent_id):<38} {asked}")
