"""``mno meal`` (logframe check, DHIS2 export, report), ``mno staff`` (dashboard accounts) and
``mno meal-aggregator``. Imports stay inside the commands so that ``mno --help`` is quick."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from gateway.meal.dhis2 import Dhis2Mapping
    from gateway.meal.logframe import Logframe

app = typer.Typer(
    help="MEAL: logframe, exports, report. / Suivi-évaluation : cadre logique, exports, rapport.",
    no_args_is_help=True,
)
staff_app = typer.Typer(
    help="Dashboard staff accounts. / Comptes du personnel pour le tableau de bord.",
    no_args_is_help=True,
)

LogframeOption = Annotated[
    Path | None,
    typer.Option(
        "--logframe",
        help="Logframe YAML (default deploy/meal/logframe.yaml). / Cadre logique YAML.",
        dir_okay=False,
    ),
]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="DHIS2 mapping YAML (default deploy/meal/dhis2-mapping.yaml). / Correspondance DHIS2.",
        dir_okay=False,
    ),
]
PeriodOption = Annotated[
    str,
    typer.Option(
        "--period", help="YYYY-MM, YYYYQn or YYYY. / AAAA-MM, AAAAQn ou AAAA.", show_default=False
    ),
]
RebuildOption = Annotated[
    bool,
    typer.Option(
        "--rebuild",
        help="Forget the MEAL facts and replay the topics from the beginning (new consumer "
        "group). / Oublie les faits MEAL et rejoue les topics depuis le début.",
    ),
]


def _fail(message_fr: str, message_en: str, code: int = 1) -> typer.Exit:
    typer.echo(f"{message_fr}\n{message_en}", err=True)
    return typer.Exit(code)


def _config(logframe: Path | None, mapping: Path | None) -> tuple[Logframe, Dhis2Mapping]:
    from gateway.meal.dhis2 import DEFAULT_MAPPING, load_mapping
    from gateway.meal.logframe import DEFAULT_LOGFRAME, LogframeError, load_logframe

    try:
        frame = load_logframe(logframe or DEFAULT_LOGFRAME)
        dhis2 = load_mapping(mapping or DEFAULT_MAPPING, frame)
    except LogframeError as exc:
        lines_fr = [f"{exc.what_fr} : {exc.filename}"] + [f"  - {p}" for p in exc.problems]
        raise _fail("\n".join(lines_fr), f"{exc.what_en}: {exc.filename}") from None
    return frame, dhis2


@app.command("check")
def check(logframe: LogframeOption = None, mapping: MappingOption = None) -> None:
    """Validate the logframe and DHIS2 mapping. / Valide cadre logique et correspondance."""
    from gateway.meal.logframe import summarise

    frame, dhis2 = _config(logframe, mapping)
    summary = summarise(frame)
    typer.echo(f"{frame.title_fr} (version {frame.version})")
    for objective in frame.objectives:
        typer.echo(f"  {objective.ref} {objective.statement_fr}")
        for result in objective.results:
            typer.echo(f"    {result.ref} {result.statement_fr}")
            for indicator in result.indicators:
                dims = ", ".join(d.value for d in indicator.disaggregations) or "—"
                typer.echo(f"      {indicator.ref} {indicator.name_fr} [{dims}]")
    typer.echo(
        f"Cadre logique valide : {summary.objectives} objectifs, {summary.results} résultats, "
        f"{summary.indicators} indicateurs ; {len(dhis2.data_elements)} éléments DHIS2. / "
        f"Valid logframe: {summary.objectives} objectives, {summary.results} results, "
        f"{summary.indicators} indicators; {len(dhis2.data_elements)} DHIS2 data elements."
    )


@app.command("schema")
def schema(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File. / Fichier.", dir_okay=False)
    ] = None,
) -> None:
    """Print (or write) the logframe's JSON Schema. / Schéma JSON du cadre logique."""
    from gateway.meal.logframe import logframe_json_schema

    text = logframe_json_schema()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("export-dhis2")
def export_dhis2(
    period: PeriodOption,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="File (default stdout). / Fichier.", dir_okay=False),
    ] = None,
    logframe: LogframeOption = None,
    mapping: MappingOption = None,
) -> None:
    """DHIS2 dataValueSets JSON for a period. / Export DHIS2 (dataValueSets) d'une période."""
    from gateway.cli.common import run_with_session
    from gateway.errors import MnoError
    from gateway.meal import service
    from gateway.meal.periods import parse_period

    frame, dhis2 = _config(logframe, mapping)
    try:
        chosen = parse_period(period)
        result = run_with_session(
            lambda session, _s: service.dhis2_export(session, frame, dhis2, chosen)
        )
    except MnoError as exc:
        raise _fail(exc.message_fr, exc.message_en) from None
    text = json.dumps(result.body, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    typer.echo(
        f"{len(result.body['dataValues'])} valeurs exportées, {result.omitted} masquées ou vides "
        f"omises. / {len(result.body['dataValues'])} values exported, {result.omitted} suppressed "
        f"or empty left out.",
        err=True,
    )
    if result.unmapped:
        typer.echo(
            "Catégories sans combinaison DHIS2 / categories without a DHIS2 combo: "
            + ", ".join(sorted(set(result.unmapped))),
            err=True,
        )


@app.command("report")
def report(
    period: PeriodOption,
    out_dir: Annotated[
        Path,
        typer.Option("--out-dir", help="Output folder. / Dossier de sortie.", file_okay=False),
    ] = Path("."),
    logframe: LogframeOption = None,
) -> None:
    """French HTML and PDF report for the steering committee. / Rapport HTML et PDF."""
    from gateway.cli.common import run_with_session
    from gateway.errors import MnoError
    from gateway.meal import report as meal_report
    from gateway.meal.periods import parse_period

    frame, _dhis2 = _config(logframe, None)
    try:
        chosen = parse_period(period)
        data = run_with_session(lambda session, _s: meal_report.build(session, frame, chosen))
    except MnoError as exc:
        raise _fail(exc.message_fr, exc.message_en) from None
    html_path, pdf_path = meal_report.write(data, out_dir)
    typer.echo(f"Rapport écrit / report written: {html_path} {pdf_path}")


def run_aggregator(*, rebuild: bool = False) -> None:
    """``mno meal-aggregator``: one component, supervised, until SIGINT/SIGTERM."""
    from consumers.meal.handler import MealAggregator
    from gateway.cli.workers_cmd import _serve

    _serve(
        "meal-aggregator",
        lambda bootstrap, sm: MealAggregator(bootstrap, sm, rebuild=rebuild).run,
    )


# --------------------------------------------------------------------------- staff


def _show_password(email: str, role: str, password: str) -> None:
    typer.echo(f"Compte / account: {email} ({role})")
    typer.echo(f"Mot de passe (affiché une seule fois) / password (shown once): {password}")


@staff_app.command("add")
def staff_add(
    email: Annotated[str, typer.Argument(help="E-mail address. / Adresse e-mail.")],
    role: Annotated[str, typer.Option(help="viewer | admin. / Rôle.")] = "viewer",
) -> None:
    """Create a staff account and print its generated password once. / Crée un compte."""
    from gateway.cli.common import run_with_session
    from gateway.dashboard import service
    from gateway.errors import MnoError

    try:
        new = run_with_session(lambda session, _s: service.add_staff(session, email, role))
    except MnoError as exc:
        raise _fail(exc.message_fr, exc.message_en) from None
    _show_password(new.user.email, new.user.role, new.password)


@staff_app.command("reset-password")
def staff_reset(email: Annotated[str, typer.Argument(help="E-mail. / Adresse e-mail.")]) -> None:
    """New generated password; open sessions end. / Nouveau mot de passe ; sessions fermées."""
    from gateway.cli.common import run_with_session
    from gateway.dashboard import service
    from gateway.errors import MnoError

    try:
        new = run_with_session(lambda session, _s: service.reset_password(session, email))
    except MnoError as exc:
        raise _fail(exc.message_fr, exc.message_en) from None
    _show_password(new.user.email, new.user.role, new.password)


@staff_app.command("disable")
def staff_disable(email: Annotated[str, typer.Argument(help="E-mail. / Adresse e-mail.")]) -> None:
    """Disable an account (its sessions stop at once). / Désactive un compte."""
    from gateway.cli.common import run_with_session
    from gateway.dashboard import service
    from gateway.errors import MnoError

    try:
        user = run_with_session(lambda session, _s: service.set_active(session, email, False))
    except MnoError as exc:
        raise _fail(exc.message_fr, exc.message_en) from None
    typer.echo(f"Compte désactivé / account disabled: {user.email}")


@staff_app.command("list")
def staff_list() -> None:
    """List staff accounts (never passwords). / Liste les comptes."""
    from gateway.cli.common import run_with_session
    from gateway.dashboard import repository

    users = run_with_session(lambda session, _s: repository.list_staff(session))
    for user in users:
        state = "actif" if user.active else "désactivé"
        typer.echo(f"{user.email}\t{user.role}\t{state}")
