"""One error hierarchy, rendered as RFC 9457 ``application/problem+json`` in French or English."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.validation_messages import message

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://mno.gov.gn/problems/"

logger = logging.getLogger("mno.errors")


class MnoError(Exception):
    """Base of every error a client may see: a stable code, an HTTP status, FR and EN text."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message_fr: str,
        message_en: str,
        *,
        status: int | None = None,
        code: str | None = None,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.message_fr = message_fr
        self.message_en = message_en
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.errors = list(errors or [])
        self.headers = headers or {}

    def message(self, lang: str) -> str:
        return self.message_fr if lang == "fr" else self.message_en


class BadRequest(MnoError):
    status = 400
    code = "bad_request"


class ValidationFailed(MnoError):
    status = 422
    code = "validation_failed"


class Unauthorized(MnoError):
    status = 401
    code = "unauthorized"

    def __init__(self, message_fr: str, message_en: str, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="mno"'})
        super().__init__(message_fr, message_en, **kw)


class Forbidden(MnoError):
    status = 403
    code = "forbidden"


class NotFound(MnoError):
    status = 404
    code = "not_found"


class Conflict(MnoError):
    status = 409
    code = "conflict"


class PreconditionFailed(MnoError):
    status = 412
    code = "precondition_failed"


class PreconditionRequired(MnoError):
    status = 428
    code = "precondition_required"


class TooManyRequests(MnoError):
    status = 429
    code = "too_many_requests"


class ServiceUnavailable(MnoError):
    status = 503
    code = "service_unavailable"


def preferred_language(accept_language: str | None) -> str:
    """French first: English only when the client prefers it over French."""
    if not accept_language:
        return "fr"
    best_lang, best_q = "fr", -1.0
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()[:2]
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # earlier entries win ties, as browsers list preference order
        score = q - index * 1e-6
        if tag in ("fr", "en") and score > best_q:
            best_lang, best_q = tag, score
    return best_lang


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    message_fr: str,
    message_en: str,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    lang = preferred_language(request.headers.get("accept-language"))
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": message_fr if lang == "fr" else message_en,
        "status": status,
        "code": code,
        "detail": message_fr if lang == "fr" else message_en,
        "instance": request.url.path,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = list(errors)
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={**(headers or {}), "Content-Language": lang},
    )


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        head, rest = parts[0], parts[1:]
        return head + ("." + ".".join(rest) if rest else "")
    return ".".join(parts)


def validation_errors(raw: Sequence[Any], lang: str) -> list[dict[str, Any]]:
    """Each error's field, pydantic type and message in ``lang`` (French unless English is
    preferred; texts in ``gateway.validation_messages``)."""
    out = []
    for err in raw:
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            loc = loc[:1]  # pydantic puts the character offset there: it is not a field
        out.append(
            {
                "field": _field_path(loc),
                "type": err.get("type", "invalid"),
                "message": message(err, lang),
            }
        )
    return out


_STATUS_TEXT = {
    400: ("Requête invalide", "Bad request"),
    401: ("Authentification requise", "Authentication required"),
    403: ("Accès refusé", "Forbidden"),
    404: ("Ressource introuvable", "Not found"),
    405: ("Méthode non autorisée", "Method not allowed"),
    406: ("Format non acceptable", "Not acceptable"),
    409: ("Conflit", "Conflict"),
    413: ("Requête trop volumineuse", "Payload too large"),
    415: ("Type de contenu non pris en charge", "Unsupported media type"),
    429: ("Trop de requêtes", "Too many requests"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MnoError)
    async def _mno(request: Request, exc: MnoError) -> JSONResponse:
        return problem_response(
            request,
            status=exc.status,
            code=exc.code,
            message_fr=exc.message_fr,
            message_en=exc.message_en,
            errors=exc.errors,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = preferred_language(request.headers.get("accept-language"))
        errors = validation_errors(exc.errors(), lang)
        fields = ", ".join(e["field"] for e in errors[:5])
        return problem_response(
            request,
            status=422,
            code="validation_failed",
            message_fr=f"Données invalides : {fields}",
            message_en=f"Invalid data: {fields}",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        fr, en = _STATUS_TEXT.get(exc.status_code, ("Erreur", "Error"))
        return problem_response(
            request,
            status=exc.status_code,
            code=f"http_{exc.status_code}",
            message_fr=fr,
            message_en=en,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Log the type only: exception messages may quote SQL parameters.
        logger.error("unhandled error", extra={"error_type": type(exc).__name__})
        return problem_response(
            request,
            status=500,
            code="internal_error",
            message_fr="Erreur interne ; réessayez plus tard.",
            message_en="Internal error; please retry later.",
        )
