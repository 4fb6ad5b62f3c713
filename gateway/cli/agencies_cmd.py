"""``mno agencies``: register and list member agencies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.agencies import service
from gateway.agencies.models import Agency
from gateway.cli.common import run_with_session
from gateway.errors import MnoError
from gateway.settings import Settings

app = typer.Typer(help="Member agencies. / Agences membres.", no_args_is_help=True)


def agency_dict(agency: Agency) -> dict[str, Any]:
    return {
        "code": agency.code,
        "name": agency.name,
        "kind": agency.kind,
        "area": agency.area,
        "active": agency.active,
        "public_jwk": agency.public_jwk,
        "created_at": agency.created_at.isoformat(),
    }


def fail(exc: MnoError) -> typer.Exit:
    typer.echo(f"{exc.message_fr} / {exc.message_en}", err=True)
    return typer.Exit(1)


@app.command("add")
def add(
    code: Annotated[str, typer.Argument(help="Agency code, e.g. OIM-GN. / Code de l'agence.")],
    name: Annotated[str, typer.Option(help="Official name. / Nom officiel.")],
    kind: Annotated[str, typer.Option(help="government|un|ngo|provider. / Type d'agence.")],
    public_key_file: Annotated[
        Path | None,
        typer.Option(
            "--public-key-file",
            help="Public encryption key, JWK or PEM. / Clé publique de chiffrement (JWK ou PEM).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    area: Annotated[
        str | None, typer.Option(help="Area code, e.g. GN-C. / Zone, ex. GN-C.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output. / Sortie JSON.")] = False,
) -> None:
    """Register an agency. / Enregistre une agence."""
    try:
        jwk = (
            service.public_jwk_from_text(public_key_file.read_text("utf-8"))
            if public_key_file
            else None
        )

        async def work(session: AsyncSession, _settings: Settings) -> dict[str, Any]:
            agency = await service.add_agency(
                session, code=code, name=name, kind=kind, area=area, public_jwk=jwk
            )
            return agency_dict(agency)

        created = run_with_session(work)
    except MnoError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(created, ensure_ascii=False))
    else:
        typer.echo(f"Agence enregistrée / Agency registered: {created['code']}")


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output. / Sortie JSON.")] = False,
) -> None:
    """List agencies. / Liste les agences."""

    async def work(session: AsyncSession, _settings: Settings) -> list[dict[str, Any]]:
        return [agency_dict(a) for a in await service.list_agencies(session)]

    agencies = run_with_session(work)
    if as_json:
        typer.echo(json.dumps(agencies, ensure_ascii=False))
        return
    for agency in agencies:
        state = "" if agency["active"] else " (inactive)"
        typer.echo(f"{agency['code']}\t{agency['kind']}\t{agency['name']}{state}")
