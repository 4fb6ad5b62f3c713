"""``mno clients``: OAuth2 clients of the agencies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies import service
from gateway.cli.agencies_cmd import fail
from gateway.cli.common import run_with_session
from gateway.errors import MnoError, ValidationFailed
from gateway.settings import Settings

app = typer.Typer(help="OAuth2 clients. / Clients OAuth2.", no_args_is_help=True)


def _read_jwks(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except ValueError as exc:
        raise ValidationFailed("jwks : JSON illisible", "jwks: unreadable JSON") from exc
    return service.validate_client_jwks(data)


@app.command("create")
def create(
    agency: Annotated[str, typer.Option(help="Agency code. / Code de l'agence.")],
    scopes: Annotated[
        str, typer.Option(help='Space-separated, e.g. "referrals:write referrals:read". / Portées.')
    ],
    jwks_file: Annotated[
        Path | None,
        typer.Option(
            "--jwks-file",
            help="Public JWKS: the client uses private_key_jwt, no secret. / "
            "JWKS public : le client utilise private_key_jwt, sans secret.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Client name. / Nom du client.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output. / Sortie JSON.")] = False,
) -> None:
    """Create a client; its secret is printed once. / Crée un client ; secret affiché une fois."""
    try:
        jwks = _read_jwks(jwks_file) if jwks_file else None

        async def work(session: AsyncSession, _settings: Settings) -> tuple[str, str | None]:
            created = await service.create_client(
                session, agency_code=agency, scopes=scopes, name=name, jwks=jwks
            )
            return created.client.client_id, created.client_secret

        client_id, secret = run_with_session(work)
    except MnoError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"client_id": client_id, "client_secret": secret}))
        return
    typer.echo(f"client_id: {client_id}")
    if secret is not None:
        typer.echo(f"client_secret: {secret}")
        typer.echo(
            "Conservez ce secret : il ne sera plus affiché. / "
            "Keep this secret: it will not be shown again.",
            err=True,
        )
    else:
        typer.echo("auth: private_key_jwt")


@app.command("revoke")
def revoke(
    client_id: Annotated[str, typer.Argument(help="Client id. / Identifiant du client.")],
) -> None:
    """Revoke a client and refuse its tokens. / Révoque un client et refuse ses jetons."""

    async def work(session: AsyncSession, _settings: Settings) -> str:
        client = await service.revoke_client(session, client_id)
        return client.client_id

    try:
        revoked = run_with_session(work)
    except MnoError as exc:
        raise fail(exc) from None
    typer.echo(f"Client révoqué / Client revoked: {revoked}")


@app.command("list")
def list_cmd(
    agency: Annotated[
        str | None, typer.Option(help="Only this agency. / Seulement cette agence.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output. / Sortie JSON.")] = False,
) -> None:
    """List clients (never their secrets). / Liste les clients (jamais leurs secrets)."""

    async def work(session: AsyncSession, _settings: Settings) -> list[dict[str, Any]]:
        return [
            {
                "client_id": c.client_id,
                "agency": c.agency_code,
                "name": c.name,
                "scopes": c.scopes,
                "auth_method": "private_key_jwt" if c.jwks is not None else "client_secret_basic",
                "revoked": c.revoked_at is not None,
            }
            for c in await service.list_clients(session, agency)
        ]

    clients = run_with_session(work)
    if as_json:
        typer.echo(json.dumps(clients, ensure_ascii=False))
        return
    for c in clients:
        flag = " (revoked)" if c["revoked"] else ""
        typer.echo(f"{c['client_id']}\t{c['agency']}\t{c['scopes']}{flag}")
