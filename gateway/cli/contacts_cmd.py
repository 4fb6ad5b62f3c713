"""``mno agencies contact``: the focal points that receive e-mail and SMS notices."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli.common import run_with_session
from gateway.errors import MnoError
from gateway.notify import service
from gateway.notify.models import AgencyContact
from gateway.settings import Settings

app = typer.Typer(
    help="Focal points of an agency (e-mail, SMS). / Points focaux d'une agence.",
    no_args_is_help=True,
)


def contact_dict(contact: AgencyContact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "agency": contact.agency,
        "channel": contact.channel,
        "address": contact.address,
        "events": list(contact.events),
        "created_at": contact.created_at.isoformat(),
    }


def _fail(exc: MnoError) -> typer.Exit:
    typer.echo(f"{exc.message_fr} / {exc.message_en}", err=True)
    return typer.Exit(1)


@app.command("add")
def add(
    agency: Annotated[str, typer.Argument(help="Agency code. / Code de l'agence.")],
    channel: Annotated[str, typer.Option(help="email|sms. / Canal.")],
    address: Annotated[
        str,
        typer.Option(help="Role e-mail or +224… number. / E-mail de fonction ou numéro +224…."),
    ],
    events: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated notices (default all): "
            + ",".join(service.ALL_KINDS)
            + ". / Notifications, séparées par des virgules (défaut : toutes)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output. / Sortie JSON.")] = False,
) -> None:
    """Add a focal point. / Ajoute un point focal."""
    chosen = [e.strip() for e in events.split(",") if e.strip()] if events else None

    async def work(session: AsyncSession, _settings: Settings) -> dict[str, Any]:
        contact = await service.add_contact(
            session, agency=agency, channel=channel, address=address, events=chosen
        )
        return contact_dict(contact)

    try:
        created = run_with_session(work)
    except MnoError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(created, ensure_ascii=False))
    else:
        typer.echo(f"Point focal ajouté / Focal point added: {created['id']}")


@app.command("list")
def list_cmd(
    agency: Annotated[str, typer.Argument(help="Agency code. / Code de l'agence.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output. / Sortie JSON.")] = False,
) -> None:
    """List an agency's focal points. / Liste les points focaux d'une agence."""

    async def work(session: AsyncSession, _settings: Settings) -> list[dict[str, Any]]:
        return [contact_dict(c) for c in await service.list_contacts(session, agency)]

    contacts = run_with_session(work)
    if as_json:
        typer.echo(json.dumps(contacts, ensure_ascii=False))
        return
    for c in contacts:
        typer.echo(f"{c['id']}\t{c['channel']}\t{c['address']}\t{','.join(c['events'])}")


@app.command("remove")
def remove(
    agency: Annotated[str, typer.Argument(help="Agency code. / Code de l'agence.")],
    contact_id: Annotated[str, typer.Argument(help="Focal point id. / Identifiant.")],
) -> None:
    """Remove a focal point. / Retire un point focal."""

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await service.remove_contact(session, agency, contact_id)

    try:
        run_with_session(work)
    except MnoError as exc:
        raise _fail(exc) from None
    typer.echo(f"Point focal retiré / Focal point removed: {contact_id}")
