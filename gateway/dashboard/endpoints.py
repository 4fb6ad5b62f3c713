"""``/dashboard``: the French MEAL dashboard for staff (session login, server-rendered pages).

Pages carry a strict Content-Security-Policy: scripts and styles come from this server only
(Chart.js is vendored under static/vendor), so the dashboard works without the internet.
"""

from __future__ import annotations

import json
import secrets
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.dashboard import service
from gateway.dashboard.models import StaffUser
from gateway.dashboard.security import (
    COOKIE_PATH,
    CSRF_COOKIE,
    CSRF_MAX_AGE,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    LoginThrottle,
    Session,
    Signer,
    fingerprint,
    same_token,
)
from gateway.db.base import utcnow
from gateway.deps import RuntimeDep, SessionDep
from gateway.errors import NotFound
from gateway.meal import service as meal_service
from gateway.meal.endpoints import export_response
from gateway.meal.lifecycle import meal_config
from gateway.meal.periods import InvalidPeriod, Period, month_of, months_back, parse_period
from gateway.runtime import Runtime
from schemas.codes import REGION_CODES

HERE = Path(__file__).parent
STATIC = HERE / "static"
# name → (file, media type): nothing else under static/ is ever served.
STATIC_FILES: dict[str, tuple[Path, str]] = {
    "chart.umd.min.js": (STATIC / "vendor" / "chart.umd.min.js", "text/javascript"),
    "dashboard.js": (STATIC / "dashboard.js", "text/javascript"),
    "dashboard.css": (STATIC / "dashboard.css", "text/css"),
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
MAX_FORM_BYTES = 4096
URGENCY_SHORT = {"immediate": "immédiate", "high": "élevée", "normal": "normale", "low": "faible"}
KEY = "dashboard"

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@dataclass
class DashboardState:
    signer: Signer
    throttle: LoginThrottle
    templates: Environment


def _fr_number(value: Any, kind: str = "count") -> str:
    """French number display: narrow no-break space for thousands, decimal comma."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value.replace("<", "< ")
    if isinstance(value, int) or (kind == "count" and float(value).is_integer()):
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{float(value):,.1f}".replace(",", "\u202f").replace(".", ",")


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fr"] = _fr_number
    return env


async def start_dashboard(runtime: Runtime, stack: AsyncExitStack) -> None:
    runtime.components[KEY] = DashboardState(
        Signer(runtime.settings.secret_key.get_secret_value()), LoginThrottle(), _templates()
    )


def _state(runtime: Runtime) -> DashboardState:
    state: DashboardState = runtime.components[KEY]
    return state


def _page(runtime: Runtime, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _state(runtime).templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _secure(request: Request, runtime: Runtime) -> bool:
    return request.url.scheme == "https" or runtime.settings.env == "prod"


@dataclass(frozen=True)
class Staff:
    user: StaffUser
    session: Session


async def current_staff(request: Request, runtime: RuntimeDep, db: SessionDep) -> Staff | None:
    session = _state(runtime).signer.read_session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    user = await service.active_user(db, session.user_id)
    if user is None or fingerprint(user.password_hash) != session.fingerprint:
        return None
    return Staff(user, session)


StaffDep = Annotated[Staff | None, Depends(current_staff)]


def _to_login() -> RedirectResponse:
    return RedirectResponse("/dashboard/login", status_code=303, headers=SECURITY_HEADERS)


def _same_origin(request: Request) -> bool:
    """Browsers send Origin on POST; when present it must be this server."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


# --------------------------------------------------------------------------- sign in / out


def _login_page(
    request: Request, runtime: Runtime, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = _page(runtime, "login.html", status, csrf=token, error=error)
    response.set_cookie(
        CSRF_COOKIE,
        _state(runtime).signer.csrf_cookie(token),
        max_age=CSRF_MAX_AGE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request, runtime),
    )
    return response


@router.get("/login")
async def login_form(request: Request, runtime: RuntimeDep, staff: StaffDep) -> Response:
    """Sign-in page. / Page de connexion."""
    if staff is not None:
        return RedirectResponse("/dashboard", status_code=303, headers=SECURITY_HEADERS)
    return _login_page(request, runtime)


@router.post("/login")
async def login(request: Request, runtime: RuntimeDep, db: SessionDep) -> Response:
    """Check the form's CSRF token and the password; open a session. / Ouvre une session."""
    state = _state(runtime)
    form = await _form(request)
    expected = state.signer.read_csrf(request.cookies.get(CSRF_COOKIE))
    if not _same_origin(request) or not same_token(form.get("csrf"), expected):
        return _login_page(
            request,
            runtime,
            error="La session du formulaire a expiré ; veuillez réessayer.",
            status=400,
        )
    email = form.get("email", "").strip().lower()[:254]
    now = time.monotonic()
    if state.throttle.blocked(email, now):
        return _login_page(
            request,
            runtime,
            error="Trop de tentatives pour ce compte ; réessayez dans 15 minutes.",
            status=429,
        )
    user = await service.authenticate(db, email, form.get("password", "")[:256])
    if user is None:
        state.throttle.failed(email, now)
        return _login_page(
            request, runtime, error="Adresse e-mail ou mot de passe incorrect.", status=401
        )
    await db.commit()
    state.throttle.succeeded(email)
    session = Session(user.id, secrets.token_urlsafe(24), fingerprint(user.password_hash))
    response = RedirectResponse("/dashboard", status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        state.signer.session_cookie(session),
        max_age=SESSION_MAX_AGE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=_secure(request, runtime),
    )
    response.delete_cookie(CSRF_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/logout")
async def logout(request: Request, runtime: RuntimeDep, staff: StaffDep) -> Response:
    """Close the session. / Ferme la session."""
    form = await _form(request)
    response = _to_login()
    if (
        staff is not None
        and _same_origin(request)
        and same_token(form.get("csrf"), staff.session.csrf)
    ):
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


# --------------------------------------------------------------------------- pages


def _period_options(current: Period) -> list[tuple[str, str]]:
    today = month_of(utcnow())
    months = list(reversed(months_back(today, 12)))
    quarters: list[Period] = []
    for m in months:
        q = Period("quarter", m.year, (m.index - 1) // 3 + 1)
        if q not in quarters:
            quarters.append(q)
    years = [Period("year", today.year, 1), Period("year", today.year - 1, 1)]
    options = [(p.code, p.label("fr")) for p in [*months, *quarters, *years]]
    if current.code not in {code for code, _ in options}:
        options.insert(0, (current.code, current.label("fr")))
    return options


def _filters(period: str | None, region: str | None) -> tuple[Period, str | None]:
    try:
        chosen = parse_period(period) if period else month_of(utcnow())
    except InvalidPeriod:
        chosen = month_of(utcnow())
    # A hand-edited URL falls back to the defaults rather than an error page.
    return chosen, region if region in REGION_CODES else None


@router.get("")
async def dashboard(
    request: Request,
    runtime: RuntimeDep,
    db: SessionDep,
    staff: StaffDep,
    period: Annotated[str | None, Query(max_length=10)] = None,
    region: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """Tableau de bord MEAL."""
    if staff is None:
        return _to_login()
    frame, _mapping = meal_config(runtime)
    chosen, region_code = _filters(period, region)
    view = await service.dashboard_view(db, frame, chosen, region_code, role=staff.user.role)
    published = view["published"]
    chart_data = {
        "months": view["months"],
        "monthLabels": view["month_labels"],
        "series": {
            code: [p["value"] if isinstance(p["value"], int | float) else None for p in points]
            for code, points in view["series"].items()
        },
        "breakdowns": [
            {
                "dimension": b["dimension"],
                "labels": [c["label_fr"] for c in b["cells"]],
                "values": [
                    c["value"] if isinstance(c["value"], int | float) else None for c in b["cells"]
                ],
            }
            for b in view["breakdowns"]
        ],
    }
    query = urlencode({k: v for k, v in (("period", chosen.code), ("region", region_code)) if v})
    return _page(
        runtime,
        "dashboard.html",
        user=staff.user,
        csrf=staff.session.csrf,
        period=chosen,
        region=region_code,
        region_label=dict(service.region_options()).get(region_code or "", "Toutes les régions"),
        period_options=_period_options(chosen),
        region_options=service.region_options(),
        published=published,
        objectives=list(frame.objectives),
        items={i["code"]: i for i in published["indicators"]},
        view=view,
        query=query,
        urgency_labels=URGENCY_SHORT,
        chart_json=json.dumps(chart_data, ensure_ascii=False).replace("</", "<\\/"),
    )


@router.get("/export/{code}.{extension}")
async def dashboard_export(
    runtime: RuntimeDep,
    db: SessionDep,
    staff: StaffDep,
    code: str,
    extension: str,
    period: Annotated[str | None, Query(max_length=10)] = None,
    region: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """CSV / XLSX of one indicator, DHIS2 JSON of all (``dhis2.json``)."""
    if staff is None:
        return _to_login()
    frame, mapping = meal_config(runtime)
    chosen, region_code = _filters(period, region)
    if code == "dhis2" and extension == "json":
        result = await meal_service.dhis2_export(db, frame, mapping, chosen)
        return JSONResponse(
            result.body,
            headers={
                "Content-Disposition": f'attachment; filename="mno-dhis2-{chosen.dhis2}.json"',
                "Cache-Control": "no-store",
            },
        )
    if extension not in ("csv", "xlsx") or frame.indicator(code) is None:
        raise NotFound("Export introuvable.", "Export not found.")
    body = await meal_service.indicators(
        db, frame, chosen, disaggregate=["all"], region=region_code, codes=[code]
    )
    return export_response(body, code, extension)


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """Vendored and own assets, served locally (no CDN)."""
    entry = STATIC_FILES.get(name)
    if entry is None:
        raise NotFound("Fichier introuvable.", "File not found.")
    path, media_type = entry
    return Response(
        path.read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
