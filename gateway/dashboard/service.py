"""Staff accounts and what the dashboard shows (built from the public, suppressed indicators)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.dashboard import repository
from gateway.dashboard.models import STAFF_ROLES, StaffUser
from gateway.dashboard.security import (
    hash_password,
    new_password,
    verify_or_waste_time,
)
from gateway.db.base import utcnow
from gateway.errors import Conflict, NotFound, ValidationFailed
from gateway.meal import repository as meal_repository
from gateway.meal import service as meal_service
from gateway.meal.catalogue import DIMENSION_LABELS, Dimension
from gateway.meal.logframe import Logframe
from gateway.meal.periods import Period, months_back
from gateway.privatefile import write_private
from schemas.codes import AREA_LABELS, REGION_CODES

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
TREND_INDICATORS = (
    "referrals_made",
    "acknowledged_within_sop",
    "accepted_within_sop",
    "overdue_referrals",
)
BREAKDOWNS = (
    ("region", "referrals_made"),
    ("sex", "referrals_made"),
    ("service", "referrals_made"),
    ("agency", "referrals_received"),
)
# The overdue list reaches back this far (open referrals of any earlier month are still due).
OVERDUE_SINCE = datetime(2020, 1, 1, tzinfo=UTC)


def _email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        raise ValidationFailed(
            f"Adresse e-mail invalide : {value[:80]!r}", f"Invalid e-mail address: {value[:80]!r}"
        )
    return email


def _role(role: str) -> str:
    if role not in STAFF_ROLES:
        raise ValidationFailed(
            f"Rôle inconnu : {role!r} (viewer ou admin).",
            f"Unknown role: {role!r} (viewer or admin).",
        )
    return role


@dataclass(frozen=True)
class NewStaff:
    user: StaffUser
    password: str  # shown once, never stored


async def add_staff(session: AsyncSession, email: str, role: str) -> NewStaff:
    address, role = _email(email), _role(role)
    if await repository.get_by_email(session, address) is not None:
        raise Conflict(
            f"Un compte existe déjà pour {address}.", f"An account already exists for {address}."
        )
    password = new_password()
    user = StaffUser(
        email=address,
        password_hash=hash_password(password),
        role=role,
        active=True,
        created_at=utcnow(),
    )
    repository.add(session, user)
    await session.flush()
    return NewStaff(user, password)


async def _existing(session: AsyncSession, email: str) -> StaffUser:
    user = await repository.get_by_email(session, _email(email))
    if user is None:
        raise NotFound(f"Aucun compte pour {email}.", f"No account for {email}.")
    return user


async def reset_password(session: AsyncSession, email: str) -> NewStaff:
    user = await _existing(session, email)
    password = new_password()
    user.password_hash = hash_password(password)  # ends every open session (fingerprint)
    return NewStaff(user, password)


async def set_active(session: AsyncSession, email: str, active: bool) -> StaffUser:
    user = await _existing(session, email)
    user.active = active
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> StaffUser | None:
    """The active user with this e-mail and password, else None (same time either way)."""
    address = email.strip().lower()
    user = await repository.get_by_email(session, address) if EMAIL.match(address) else None
    stored = user.password_hash if user is not None and user.active else None
    if not verify_or_waste_time(password, stored):
        return None
    assert user is not None  # noqa: S101 - stored is set only for a user
    user.last_login_at = utcnow()
    return user


async def active_user(session: AsyncSession, user_id: int) -> StaffUser | None:
    user = await repository.get_by_id(session, user_id)
    return user if user is not None and user.active else None


# --------------------------------------------------------------------------- the page


def dimension_label(dimension: str) -> str:
    return DIMENSION_LABELS[Dimension(dimension)][0].lower()


def region_options() -> list[tuple[str, str]]:
    return [(code, AREA_LABELS[code][0]) for code in sorted(REGION_CODES)]


async def dashboard_view(
    session: AsyncSession,
    frame: Logframe,
    period: Period,
    region: str | None,
    *,
    role: str,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Tiles, trends, breakdowns and the overdue list. Everything but the overdue ids comes
    from the suppressed publication; the ids (admins only) name referrals, not people."""
    as_of = as_of or utcnow()
    published = await meal_service.indicators(
        session,
        frame,
        period,
        disaggregate=sorted({dim for dim, _code in BREAKDOWNS}),
        region=region,
        as_of=as_of,
    )
    months = months_back(period, 12)
    series = meal_service.publish_series(
        await meal_service.monthly_series(
            session, frame, months, TREND_INDICATORS, region=region, as_of=as_of
        ),
        frame,
    )
    items = {i["code"]: i for i in published["indicators"]}
    breakdowns = []
    for dim, code in BREAKDOWNS:
        cells = items[code]["disaggregations"].get(dim, [])
        breakdowns.append(
            {
                "dimension": dim,
                "indicator": code,
                "title_fr": f"{items[code]['name_fr']} — par {dimension_label(dim)}",
                "cells": cells,
            }
        )
    overdue: list[meal_repository.OverdueReferral] = []
    if role == "admin":
        scope = meal_repository.Scope(OVERDUE_SINCE, period.end, region, as_of)
        overdue = await meal_repository.overdue_referrals(session, scope)
    return {
        "published": published,
        "series": series,
        "months": [m.code for m in months],
        "month_labels": [m.label("fr") for m in months],
        "breakdowns": breakdowns,
        "overdue": overdue,
        "overdue_visible": role == "admin",
    }


DEMO_STAFF_FILE = "demo-staff.json"
DEMO_STAFF_EMAIL = "demo@mno.gov.gn"


async def seed_demo_staff(session: AsyncSession, data_dir: Path) -> tuple[str, str]:
    """``mno run`` only (MNO_ENV=dev): one admin account for the dashboard, kept in the data
    folder (mode 600) so that a second run prints the same credentials."""
    path = data_dir / DEMO_STAFF_FILE
    if path.exists():
        saved = json.loads(path.read_text())
        return str(saved["email"]), str(saved["password"])
    existing = await repository.get_by_email(session, DEMO_STAFF_EMAIL)
    new = (
        await reset_password(session, DEMO_STAFF_EMAIL)
        if existing is not None
        else await add_staff(session, DEMO_STAFF_EMAIL, "admin")
    )
    write_private(path, json.dumps({"email": new.user.email, "password": new.password}))
    return new.user.email, new.password
