"""The two outbound channels: SMTP (aiosmtplib) and an HTTP SMS gateway."""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache

import aiosmtplib
import httpx
from jinja2 import Environment, StrictUndefined, Template

from gateway.db.base import utcnow
from gateway.settings import Settings

SEND_TIMEOUT_SECONDS = 15.0


class NoticeFailed(Exception):
    """A send that did not go through; ``permanent`` ones are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:200]
        self.permanent = permanent


def email_message(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    domain = settings.smtp_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(body, charset="utf-8")
    message["Content-Language"] = "fr, en"  # after set_content, which resets Content-* headers
    return message


async def send_email(settings: Settings, *, to: str, subject: str, body: str) -> None:
    if not settings.smtp_host:
        raise NoticeFailed("smtp_not_configured", permanent=True)
    message = email_message(settings, to=to, subject=subject, body=body)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            use_tls=settings.smtp_tls,
            start_tls=settings.smtp_starttls,
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise NoticeFailed("smtp_recipient_refused", permanent=True) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise NoticeFailed(f"smtp:{type(exc).__name__}") from exc


@lru_cache(maxsize=4)
def _body_template(source: str) -> Template:
    # JSON text: the template uses |tojson, so no HTML escaping applies.
    return Environment(autoescape=True, undefined=StrictUndefined).from_string(source)


def sms_body(settings: Settings, *, to: str, text: str) -> str:
    """The request body of the SMS gateway, from ``MNO_SMS_BODY_TEMPLATE`` (JSON)."""
    rendered = _body_template(settings.sms_body_template).render(
        to=to, text=text, sender=settings.sms_sender
    )
    try:
        json.loads(rendered)
    except ValueError as exc:
        raise NoticeFailed("sms_template_not_json", permanent=True) from exc
    return rendered


async def send_sms(http: httpx.AsyncClient, settings: Settings, *, to: str, text: str) -> None:
    if not settings.sms_url:
        raise NoticeFailed("sms_not_configured", permanent=True)
    headers = {"content-type": "application/json"}
    if settings.sms_token is not None:
        value = f"{settings.sms_auth_scheme} {settings.sms_token.get_secret_value()}".strip()
        headers[settings.sms_auth_header] = value
    try:
        response = await http.post(
            settings.sms_url,
            content=sms_body(settings, to=to, text=text).encode("utf-8"),
            headers=headers,
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise NoticeFailed(f"sms:{type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        # 4xx other than throttling will not get better by retrying.
        permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
        raise NoticeFailed(f"sms:http_{response.status_code}", permanent=permanent)
