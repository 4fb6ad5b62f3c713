"""Starlette glue around authlib: parse the form, preload from the database, run authlib in a
worker thread (scrypt and signatures stay off the event loop), write back, answer JSON."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.auth import service
from gateway.auth.crypto import burn_secret_check
from gateway.auth.ratelimit import retry_after_header
from gateway.auth.server import (
    ClientRecord,
    Exchange,
    FormRequest,
    OAuthResponse,
    error_body,
    invalid_client_response,
    reset_exchange,
    set_exchange,
)
from gateway.auth.state import AuthState
from gateway.auth.tokens import peek_claims

logger = logging.getLogger("mno.auth")

MAX_FORM_BYTES = 16 * 1024
MAX_CLIENT_ID = 64
FORM_TYPE = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class FormError(Exception):
    pass


async def read_form(request: Request) -> dict[str, str]:
    """RFC 6749 §3.2: form-encoded body, each parameter at most once."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        raise FormError("content type")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError("too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError("encoding") from exc
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise FormError("repeated parameter")
        form[key] = value
    return form


def _basic_credentials(request: Request) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id), unquote(secret) or None


def presented_secret(request: Request, form: dict[str, str]) -> str | None:
    return _basic_credentials(request)[1] or form.get("client_secret") or None


def candidate_client_ids(request: Request, form: dict[str, str]) -> list[str]:
    """Client ids the request claims, before any of them is verified."""
    found = [_basic_credentials(request)[0], form.get("client_id")]
    assertion = form.get("client_assertion")
    if assertion:
        sub = peek_claims(assertion).get("sub")
        found.append(sub if isinstance(sub, str) else None)
    return [c for c in dict.fromkeys(found) if c and len(c) <= MAX_CLIENT_ID]


def oauth_json(response: OAuthResponse) -> JSONResponse:
    headers = {k: v for k, v in response.headers if k.lower() != "content-type"}
    headers.update(NO_STORE)
    return JSONResponse(response.body, status_code=response.status, headers=headers)


def oauth_error(status: int, error: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        error_body(error), status_code=status, headers={**NO_STORE, **(headers or {})}
    )


async def _load_clients(state: AuthState, client_ids: list[str]) -> dict[str, ClientRecord]:
    async with state.sessionmaker() as session:
        return await service.clients_for_request(session, client_ids)


async def _run(exchange: Exchange, work: Callable[[], OAuthResponse]) -> OAuthResponse:
    token = set_exchange(exchange)
    try:
        # to_thread copies the context, so authlib's callbacks see this request's Exchange.
        return await asyncio.to_thread(work)
    finally:
        reset_exchange(token)


async def _burn_assertion(state: AuthState, exchange: Exchange) -> bool:
    """Write the verified assertion's jti to the denylist; False when it was used before."""
    if exchange.assertion_jti is None or exchange.assertion_exp is None:
        return True
    async with state.sessionmaker() as session:
        fresh = await service.burn_client_assertion(
            session, exchange.assertion_jti, exchange.assertion_exp
        )
        await session.commit()
    return fresh


def _rate_limited(state: AuthState, request: Request, client_ids: list[str]) -> JSONResponse | None:
    address = request.client.host if request.client else "unknown"
    keys = [f"addr:{address}", *(f"client:{c}" for c in client_ids)]
    wait = state.limiter.hit(keys)
    if wait is None:
        return None
    logger.warning("token rate limit", extra={"client_ids": client_ids[:2]})
    return oauth_error(429, "too_many_requests", {"Retry-After": retry_after_header(wait)})


async def _prepare(
    state: AuthState, request: Request
) -> tuple[dict[str, str], Exchange] | JSONResponse:
    """Parse, rate-limit and preload the clients the request names: common to the endpoints."""
    try:
        form = await read_form(request)
    except FormError:
        return oauth_error(400, "invalid_request")
    client_ids = candidate_client_ids(request, form)
    limited = _rate_limited(state, request, client_ids)
    if limited is not None:
        return limited
    exchange = Exchange(ring=await state.keys.fresh())
    exchange.clients = await _load_clients(state, client_ids)
    return form, exchange


async def _finish(
    state: AuthState,
    request: Request,
    form: dict[str, str],
    exchange: Exchange,
    response: OAuthResponse,
) -> OAuthResponse:
    secret = presented_secret(request, form)
    if response.status == 401 and not exchange.clients and secret:
        # Unknown client: spend a hash's time so the answer does not reveal the id is unknown.
        await asyncio.to_thread(burn_secret_check, secret)
    if not await _burn_assertion(state, exchange):
        return invalid_client_response()
    return response


async def token_endpoint(state: AuthState, request: Request) -> JSONResponse:
    prepared = await _prepare(state, request)
    if isinstance(prepared, JSONResponse):
        return prepared
    form, exchange = prepared
    oauth_request = FormRequest("POST", str(request.url), request.headers, form)
    response = await _run(exchange, lambda: state.server.create_token_response(oauth_request))
    return oauth_json(await _finish(state, request, form, exchange, response))


async def introspection_endpoint(state: AuthState, request: Request) -> JSONResponse:
    prepared = await _prepare(state, request)
    if isinstance(prepared, JSONResponse):
        return prepared
    form, exchange = prepared
    peeked = peek_claims(form.get("token", ""))
    jti, token_client, exp = peeked.get("jti"), peeked.get("client_id"), peeked.get("exp")
    if isinstance(jti, str) and isinstance(token_client, str) and isinstance(exp, int):
        # The peeked values only choose what to look up; authlib verifies the token itself.
        exchange.token_refused = await state.status.is_refused(jti, token_client, exp)
    oauth_request = FormRequest("POST", str(request.url), request.headers, form)
    response = await _run(
        exchange, lambda: state.server.create_endpoint_response("introspection", oauth_request)
    )
    return oauth_json(await _finish(state, request, form, exchange, response))


async def revocation_endpoint(state: AuthState, request: Request) -> JSONResponse:
    prepared = await _prepare(state, request)
    if isinstance(prepared, JSONResponse):
        return prepared
    form, exchange = prepared
    oauth_request = FormRequest("POST", str(request.url), request.headers, form)
    response = await _run(
        exchange, lambda: state.server.create_endpoint_response("revocation", oauth_request)
    )
    response = await _finish(state, request, form, exchange, response)
    if exchange.revoked and response.status == 200:
        async with state.sessionmaker() as session:
            await service.revoke_access_tokens(session, exchange.revoked)
            await session.commit()
        for claims in exchange.revoked:
            state.status.mark_revoked(claims.jti, claims.exp)
    return oauth_json(response)
