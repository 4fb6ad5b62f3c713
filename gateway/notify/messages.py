"""Rendering of notices: French first, then English, from the Jinja2 templates next door.

Only the notice context (codes, ids, deadlines) reaches a template, so no personal data can
appear in an e-mail or SMS whatever a template says.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from schemas.codes import Urgency, WithdrawalReason, label

TEMPLATES = Path(__file__).parent / "templates"

SUBJECTS: dict[str, tuple[str, str]] = {
    "referral_received": ("Nouveau référencement reçu", "New referral received"),
    "referral_overdue": ("Référencement en retard", "Overdue referral"),
    "consent_withdrawn": ("Consentement retiré", "Consent withdrawn"),
    "duplicate_suspected": ("Doublon d'assistance suspecté", "Duplicate assistance suspected"),
    "webhook_disabled": ("Webhook désactivé", "Webhook disabled"),
}
DEADLINES = {
    "acknowledge": ("accusé de réception", "acknowledgement", "accusé de réception"),
    "respond": ("réponse (acceptation ou refus)", "response (accept or decline)", "réponse"),
}
DISABLE_REASONS = {
    "gone": ("le point de terminaison a répondu 410 Gone", "the endpoint answered 410 Gone"),
    "failures": ("trop d'échecs consécutifs", "too many consecutive failures"),
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Plain-text templates: nothing to escape; HTML ones, if added, are escaped.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def _code_label(enum: type[StrEnum], value: object, lang: str) -> str:
    try:
        return label(enum(str(value)), lang)
    except (ValueError, KeyError):
        return str(value or "—")


def _date(value: object, lang: str) -> str:
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if lang == "fr":
        return moment.strftime("%d/%m/%Y à %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def link_for(kind: str, context: Mapping[str, Any], base_url: str) -> str:
    base = base_url.rstrip("/")
    if kind == "consent_withdrawn":
        return f"{base}/v1/consents/{context.get('consent_id')}"
    if kind == "webhook_disabled":
        return f"{base}/v1/subscriptions/{context.get('subscription_id')}"
    return f"{base}/v1/referrals/{context.get('referral_id')}"


def template_values(
    kind: str, context: Mapping[str, Any], agency: str, base_url: str
) -> dict[str, Any]:
    values: dict[str, Any] = {key: context.get(key) for key in context}
    deadline = DEADLINES.get(str(context.get("deadline")), ("—", "—", "—"))
    reason = DISABLE_REASONS.get(str(context.get("reason")), ("—", "—"))
    values.update(
        agency=agency,
        link=link_for(kind, context, base_url),
        urgency_fr=_code_label(Urgency, context.get("urgency"), "fr"),
        urgency_en=_code_label(Urgency, context.get("urgency"), "en"),
        urgency_short_fr=_code_label(Urgency, context.get("urgency"), "fr").split(" (")[0],
        acknowledge_by_fr=_date(context.get("acknowledge_by"), "fr"),
        acknowledge_by_en=_date(context.get("acknowledge_by"), "en"),
        due_at_fr=_date(context.get("due_at"), "fr"),
        due_at_en=_date(context.get("due_at"), "en"),
        deadline_fr=deadline[0],
        deadline_en=deadline[1],
        deadline_short_fr=deadline[2],
        reason_fr=(
            _code_label(WithdrawalReason, context.get("withdrawal_reason"), "fr")
            if kind == "consent_withdrawn"
            else reason[0]
        ),
        reason_en=(
            _code_label(WithdrawalReason, context.get("withdrawal_reason"), "en")
            if kind == "consent_withdrawn"
            else reason[1]
        ),
        host=urlsplit(str(context.get("url") or "")).hostname or "—",
    )
    for key in ("referring_agency", "referral_id", "consent_id", "subscription_id", "matches"):
        values.setdefault(key, "—")
    return values


def render_email(
    kind: str, context: Mapping[str, Any], agency: str, base_url: str
) -> tuple[str, str]:
    """(subject, plain-text body), French then English."""
    fr, en = SUBJECTS[kind]
    body = (
        environment()
        .get_template(f"email/{kind}.txt.j2")
        .render(template_values(kind, context, agency, base_url))
    )
    return f"[MNO] {fr} / {en}", body.strip() + "\n"


def render_sms(kind: str, context: Mapping[str, Any], agency: str, base_url: str) -> str:
    """A short French text."""
    text = (
        environment()
        .get_template(f"sms/{kind}.txt.j2")
        .render(template_values(kind, context, agency, base_url))
    )
    return " ".join(text.split())
