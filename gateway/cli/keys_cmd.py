"""``mno keys``: access token signing keys."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.auth import repository
from gateway.auth.keys import DEFAULT_ALG, SUPPORTED_ALGS, rotate_keys
from gateway.auth.state import key_encryptor
from gateway.cli.agencies_cmd import fail
from gateway.cli.common import run_with_session
from gateway.errors import MnoError
from gateway.settings import Settings

app = typer.Typer(help="Token signing keys. / Clés de signature des jetons.", no_args_is_help=True)


@app.command("rotate")
def rotate(
    alg: Annotated[
        str, typer.Option(help=f"{', '.join(SUPPORTED_ALGS)}. / Algorithme de signature.")
    ] = DEFAULT_ALG,
) -> None:
    """Add a new signing key; the old one stays published until its tokens expire. /
    Ajoute une clé ; l'ancienne reste publiée jusqu'à l'expiration de ses jetons."""

    async def work(session: AsyncSession, settings: Settings) -> str:
        row = await rotate_keys(
            session,
            key_encryptor(settings),
            token_ttl_seconds=settings.access_token_ttl_seconds,
            alg=alg,
        )
        return row.kid

    try:
        kid = run_with_session(work)
    except MnoError as exc:
        raise fail(exc) from None
    typer.echo(f"Nouvelle clé de signature / New signing key: {kid} ({alg})")


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output. / Sortie JSON.")] = False,
) -> None:
    """List signing keys (public parts only). / Liste les clés (parties publiques)."""

    async def work(session: AsyncSession, _settings: Settings) -> list[dict[str, Any]]:
        return [
            {
                "kid": k.kid,
                "alg": k.alg,
                "created_at": k.created_at.isoformat(),
                "retired_at": k.retired_at.isoformat() if k.retired_at else None,
                "not_after": k.not_after.isoformat() if k.not_after else None,
            }
            for k in await repository.all_signing_keys(session)
        ]

    keys = run_with_session(work)
    if as_json:
        typer.echo(json.dumps(keys))
        return
    for k in keys:
        state = (
            "active" if k["retired_at"] is None else f"retired, published until {k['not_after']}"
        )
        typer.echo(f"{k['kid']}\t{k['alg']}\t{state}")
