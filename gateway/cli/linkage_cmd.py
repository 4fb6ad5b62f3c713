"""``mno linkage``: the gateway's re-keying layers over stored linkage values."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli.agencies_cmd import fail
from gateway.cli.common import run_with_session
from gateway.errors import MnoError
from gateway.linkage import repository
from gateway.linkage.rekey import linkage_secret, linkage_secret_from
from gateway.linkage.rotation import rotate
from gateway.settings import Settings

app = typer.Typer(
    help="Gateway-side linkage keys. / Clés de liaison côté passerelle.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="JSON output. / Sortie JSON.")]


@app.command("rekey")
def rekey(as_json: JsonOption = False) -> None:
    """Add a re-keying layer to every stored token and Bloom filter (one transaction); after
    MNO_SECRET_KEY changed, set MNO_PREVIOUS_SECRET_KEY to the old value. /
    Ajoute une couche de re-chiffrement à chaque jeton et filtre stocké (une transaction) ;
    après un changement de MNO_SECRET_KEY, donnez l'ancien dans MNO_PREVIOUS_SECRET_KEY."""

    async def work(session: AsyncSession, settings: Settings) -> dict[str, Any]:
        previous = settings.previous_secret_key
        report = await rotate(
            session,
            root=linkage_secret(settings),
            previous_root=linkage_secret_from(previous) if previous is not None else None,
        )
        return asdict(report)

    try:
        report = run_with_session(work)
    except MnoError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(report))
        return
    typer.echo(
        f"Couche {report['to_version']} appliquée à {report['records']} enregistrements et "
        f"{report['tokens']} jetons / Layer {report['to_version']} applied to "
        f"{report['records']} records and {report['tokens']} tokens"
        + (" ; clés re-scellées / keys re-wrapped" if report["rewrapped"] else "")
    )


@app.command("status")
def status(as_json: JsonOption = False) -> None:
    """Key layers (fingerprints only) and stored values per layer version. /
    Couches de clés (empreintes seulement) et valeurs stockées par version."""

    async def work(session: AsyncSession, _settings: Settings) -> dict[str, Any]:
        versions = await repository.key_versions(session)
        counts = await repository.count_by_version(session)
        return {
            "current_version": len(versions),
            "layers": [
                {
                    "version": v.version,
                    "fingerprint": v.fingerprint,
                    "created_at": v.created_at.isoformat(),
                }
                for v in versions
            ],
            "records_by_version": {str(k): n for k, n in counts["records"].items()},
            "tokens_by_version": {str(k): n for k, n in counts["tokens"].items()},
            "subjects": await repository.subject_count(session),
        }

    result = run_with_session(work)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"Version courante / current version: {result['current_version']}")
    for layer in result["layers"]:
        typer.echo(f"  v{layer['version']}\t{layer['fingerprint']}\t{layer['created_at']}")
    typer.echo(f"Sujets / subjects: {result['subjects']}")
    typer.echo(f"Enregistrements / records: {result['records_by_version']}")
