"""FHIR over HTTP: JSON only, ``application/fhir+json``, errors as ``OperationOutcome``.

The routes of the facade use ``FhirRoute``: every error a handler or a dependency raises (an
``MnoError`` of the referral service, a missing scope, an invalid query parameter) is answered
as an R4B ``OperationOutcome`` instead of the gateway's problem+json, French in
``details.text`` and English in ``diagnostics``, the gateway's error code in ``details.coding``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.errors import MnoError, validation_errors

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.3.0"
PROBLEM_SYSTEM = "https://mno.gov.gn/problems"

# Media types a client may ask for or send: JSON only (no XML, no RDF).
_JSON_TYPES = frozenset({FHIR_JSON, "application/json", "application/json+fhir", "json"})
_ANY = frozenset({"*/*", "application/*"})

# FHIR issue-type (http://hl7.org/fhir/issue-type) of each HTTP status the gateway answers.
_ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    428: "required",
    429: "throttled",
    503: "transient",
}

logger = logging.getLogger("mno.fhir")


class NotAcceptable(MnoError):
    status = 406
    code = "not_acceptable"


class UnsupportedMediaType(MnoError):
    status = 415
    code = "unsupported_media_type"


def fhir_response(
    resource: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(dict(resource), status_code=status, media_type=FHIR_JSON, headers=headers)


def _issue_location(field: str) -> dict[str, list[str]]:
    """``expression`` for an element of the resource, ``location`` ``http.<name>`` otherwise."""
    head, _, rest = field.partition(".")
    if head in ("query", "header", "path"):
        return {"location": [f"http.{rest or head}"]}
    if field[:1].isupper():
        return {"expression": [field]}
    return {}


def operation_outcome(
    *,
    status: int,
    code: str,
    message_fr: str,
    message_en: str,
    errors: Iterable[Mapping[str, Any]] = (),
    severity: str = "error",
) -> dict[str, Any]:
    """An R4B ``OperationOutcome``: one issue per element at fault, or one for the request."""
    details = {
        "coding": [{"system": PROBLEM_SYSTEM, "code": code}],
        "text": message_fr,
    }
    base = {"severity": severity, "code": _ISSUE_CODE.get(status, "exception"), "details": details}
    issues = []
    for error in errors:
        field = str(error.get("field") or "")
        message = str(error.get("message") or "")
        diagnostics = f"{message_en} ({field}: {message})" if field else message_en
        issues.append({**base, "diagnostics": diagnostics[:1000], **_issue_location(field)})
    if not issues:
        issues.append({**base, "diagnostics": message_en})
    return {"resourceType": "OperationOutcome", "language": "fr", "issue": issues}


def _outcome_response(
    status: int,
    code: str,
    message_fr: str,
    message_en: str,
    errors: Iterable[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = operation_outcome(
        status=status, code=code, message_fr=message_fr, message_en=message_en, errors=errors
    )
    return fhir_response(body, status, {**(headers or {}), "Content-Language": "fr"})


def _media_types(header: str) -> list[str]:
    return [part.split(";")[0].strip().lower() for part in header.split(",") if part.strip()]


def check_negotiation(request: Request) -> None:
    """JSON only: ``_format`` and ``Accept`` must allow it; a body must be JSON."""
    requested = request.query_params.get("_format")
    if requested is not None and requested.strip().lower() not in _JSON_TYPES:
        raise NotAcceptable(
            f"Format non pris en charge : {requested} (seul {FHIR_JSON} est servi).",
            f"Unsupported format: {requested} (only {FHIR_JSON} is served).",
            errors=[{"field": "query._format", "type": "unsupported", "message": requested}],
        )
    accept = request.headers.get("accept")
    if accept and not any(t in _JSON_TYPES or t in _ANY for t in _media_types(accept)):
        raise NotAcceptable(
            f"Type de réponse non pris en charge : {accept} (seul {FHIR_JSON} est servi).",
            f"Unsupported response type: {accept} (only {FHIR_JSON} is served).",
            errors=[{"field": "header.Accept", "type": "unsupported", "message": accept}],
        )
    if request.method in ("POST", "PUT"):
        sent = _media_types(request.headers.get("content-type", ""))
        if not sent or sent[0] not in _JSON_TYPES:
            raise UnsupportedMediaType(
                f"Type de contenu attendu : {FHIR_JSON}.",
                f"Expected content type: {FHIR_JSON}.",
                errors=[{"field": "header.Content-Type", "type": "unsupported", "message": ""}],
            )


class FhirRoute(APIRoute):
    """An ``APIRoute`` whose errors are ``OperationOutcome`` resources (JSON only)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def fhir_handler(request: Request) -> Response:
            try:
                check_negotiation(request)
                return await handler(request)
            except MnoError as exc:
                return _outcome_response(
                    exc.status, exc.code, exc.message_fr, exc.message_en, exc.errors, exc.headers
                )
            except RequestValidationError as exc:
                errors = validation_errors(exc.errors(), "fr")
                fields = ", ".join(e["field"] for e in errors[:5])
                return _outcome_response(
                    400,
                    "validation_failed",
                    f"Paramètres invalides : {fields}",
                    f"Invalid parameters: {fields}",
                    errors,
                )
            except StarletteHTTPException as exc:
                return _outcome_response(
                    exc.status_code,
                    f"http_{exc.status_code}",
                    "Requête refusée",
                    str(exc.detail),
                    headers=dict(exc.headers or {}),
                )
            except Exception as exc:
                # Same policy as gateway.errors: log the type only, never the message.
                logger.error("unhandled error", extra={"error_type": type(exc).__name__})
                return _outcome_response(
                    500,
                    "internal_error",
                    "Erreur interne ; réessayez plus tard.",
                    "Internal error; please retry later.",
                )

        return fhir_handler
