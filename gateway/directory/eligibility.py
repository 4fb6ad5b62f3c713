"""Who a service is for: one set of rules for the search filter and the referral check.

Both ``GET /v1/directory/services?eligible_for=…`` and the check made on ``POST /v1/referrals``
call ``unmet_criteria``, so the directory never lists as eligible someone the gateway refuses.

When the data leave a doubt the person gets the benefit of it and the receiving agency decides
(it can still decline with ``not_eligible``): a birth year only bounds the age within a year, an
age band overlaps a range, ``sex=unknown`` matches any restriction, a region overlaps its
prefectures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from gateway.errors import ValidationFailed
from schemas.codes import (
    AREA_CODES,
    AREA_LABELS,
    AgeBand,
    CaseCategory,
    Language,
    Sex,
    label,
    region_of,
)
from schemas.service import Service
from schemas.subject import SubjectRef

MAX_AGE = 130


class Criterion(StrEnum):
    """An eligibility criterion a person can fail."""

    AGE = "age"
    SEX = "sex"
    CASE_CATEGORY = "case_category"
    AREA = "area"
    LANGUAGE = "language"


CRITERION_LABELS: dict[Criterion, tuple[str, str]] = {
    Criterion.AGE: ("âge", "age"),
    Criterion.SEX: ("sexe", "sex"),
    Criterion.CASE_CATEGORY: ("catégorie de cas", "case category"),
    Criterion.AREA: ("zone", "area"),
    Criterion.LANGUAGE: ("langue", "language"),
}

# Where each criterion lives in a referral body (for the problem+json ``errors`` list).
CRITERION_FIELDS: dict[Criterion, str] = {
    Criterion.AGE: "body.subject.age_band",
    Criterion.SEX: "body.subject.sex",
    Criterion.CASE_CATEGORY: "body.case_category",
    Criterion.AREA: "body.subject.area_code",
    Criterion.LANGUAGE: "body.subject.languages",
}


@dataclass(frozen=True)
class Profile:
    """What is known of a person, coded; ``None`` or empty means unknown (no restriction)."""

    case_category: CaseCategory | None = None
    age_range: tuple[int, int] | None = None  # inclusive bounds in completed years
    sex: Sex | None = None
    area: str | None = None
    languages: tuple[Language, ...] = ()


@dataclass(frozen=True)
class Unmet:
    """One failed criterion, with the two sides in French and English."""

    criterion: Criterion
    service_fr: str
    service_en: str
    person_fr: str
    person_en: str

    def text(self, lang: str) -> str:
        fr, en = CRITERION_LABELS[self.criterion]
        if lang == "fr":
            return f"{fr} (service : {self.service_fr} ; personne : {self.person_fr})"
        return f"{en} (service: {self.service_en}; person: {self.person_en})"


def band_range(band: AgeBand) -> tuple[int, int]:
    """Inclusive age bounds of a band ("60+" is open-ended up to 130)."""
    low, _, high = band.value.replace("+", "-").partition("-")
    return int(low), int(high) if high else MAX_AGE


def birth_year_range(birth_year: int, on: date | None = None) -> tuple[int, int]:
    """Ages possible for a birth year: the age reached this year, or one less before the day."""
    year = (on or datetime.now(UTC).date()).year
    reached = max(0, year - birth_year)
    return max(0, reached - 1), reached


def profile_of(subject: SubjectRef, case_category: CaseCategory | str | None) -> Profile:
    """The eligibility profile of a referral's subject."""
    if subject.birth_year is not None:
        ages = birth_year_range(subject.birth_year)
    else:
        ages = band_range(subject.age_band)
    return Profile(
        case_category=CaseCategory(case_category) if case_category is not None else None,
        age_range=ages,
        sex=subject.sex,
        area=subject.area_code,
        languages=tuple(subject.languages),
    )


def covers(areas_served: Sequence[str], area: str) -> bool:
    """Whether a coverage list reaches ``area``; empty means the whole country.

    A region served covers its prefectures; a prefecture served overlaps its region.
    """
    if not areas_served or area in areas_served:
        return True
    region = region_of(area)
    return any(served == region or region_of(served) == area for served in areas_served)


def _ages(low: int | None, high: int | None) -> tuple[str, str]:
    if low is not None and high is not None:
        return f"{low} à {high} ans", f"{low} to {high} years"
    if low is not None:
        return f"{low} ans et plus", f"{low} years and over"
    return f"jusqu'à {high} ans", f"up to {high} years"


def _codes(values: Iterable[StrEnum], lang: str) -> str:
    return ", ".join(label(v, lang) for v in values)


def _areas(values: Iterable[str], lang: str) -> str:
    return ", ".join(AREA_LABELS[v][0 if lang == "fr" else 1] for v in values)


def unmet_criteria(service: Service, profile: Profile) -> list[Unmet]:
    """The criteria of ``service`` that ``profile`` certainly fails (empty: eligible)."""
    rules = service.eligibility
    unmet: list[Unmet] = []
    if profile.age_range is not None and (rules.min_age is not None or rules.max_age is not None):
        low, high = profile.age_range
        too_young = rules.min_age is not None and high < rules.min_age
        too_old = rules.max_age is not None and low > rules.max_age
        if too_young or too_old:
            service_fr, service_en = _ages(rules.min_age, rules.max_age)
            person_fr, person_en = (
                (f"{low} ans", f"{low} years")
                if low == high
                else (f"{low} à {high} ans", f"{low} to {high} years")
            )
            unmet.append(Unmet(Criterion.AGE, service_fr, service_en, person_fr, person_en))
    if (
        rules.sexes
        and profile.sex is not None
        and profile.sex is not Sex.UNKNOWN
        and profile.sex not in rules.sexes
    ):
        unmet.append(
            Unmet(
                Criterion.SEX,
                _codes(rules.sexes, "fr"),
                _codes(rules.sexes, "en"),
                label(profile.sex, "fr"),
                label(profile.sex, "en"),
            )
        )
    if (
        rules.case_categories
        and profile.case_category is not None
        and profile.case_category not in rules.case_categories
    ):
        unmet.append(
            Unmet(
                Criterion.CASE_CATEGORY,
                _codes(rules.case_categories, "fr"),
                _codes(rules.case_categories, "en"),
                label(profile.case_category, "fr"),
                label(profile.case_category, "en"),
            )
        )
    if profile.area is not None and not covers(service.areas_served, profile.area):
        unmet.append(
            Unmet(
                Criterion.AREA,
                _areas(service.areas_served, "fr"),
                _areas(service.areas_served, "en"),
                _areas([profile.area], "fr"),
                _areas([profile.area], "en"),
            )
        )
    if (
        service.languages
        and profile.languages
        and not set(service.languages) & set(profile.languages)
    ):
        unmet.append(
            Unmet(
                Criterion.LANGUAGE,
                _codes(service.languages, "fr"),
                _codes(service.languages, "en"),
                _codes(profile.languages, "fr"),
                _codes(profile.languages, "en"),
            )
        )
    return unmet


# --------------------------------------------------------------------------- eligible_for


def _bad_eligible_for(token: str) -> ValidationFailed:
    return ValidationFailed(
        f"Paramètre eligible_for invalide : « {token} ». Attendu : des éléments séparés par "
        "des virgules, chacun une catégorie de cas (ex. victim_of_trafficking), un sexe "
        "(sex:female), un âge (age:16) ou une tranche d'âge (age_band:15-17).",
        f"Invalid eligible_for parameter: '{token}'. Expected comma-separated items, each a "
        "case category (e.g. victim_of_trafficking), a sex (sex:female), an age (age:16) or "
        "an age band (age_band:15-17).",
        code="invalid_eligible_for",
        errors=[{"field": "query.eligible_for", "type": "invalid", "message": token}],
    )


def parse_eligible_for(text: str) -> Profile:
    """``victim_of_trafficking,sex:female,age:16`` → a profile (each key at most once).

    A bare code is a case category, a sex or an age band; ``key:value`` names the key:
    ``case_category``, ``sex``, ``age`` (completed years) or ``age_band``.
    """
    case_category: CaseCategory | None = None
    sex: Sex | None = None
    ages: tuple[int, int] | None = None
    seen: set[str] = set()
    for raw in text.split(","):
        token = raw.strip()
        if not token:
            continue
        key, sep, value = token.partition(":")
        if not sep:
            key, value = _key_of_bare_code(token), token
        slot = "age" if key in ("age", "age_band") else key
        if slot in seen:
            raise _bad_eligible_for(token)
        seen.add(slot)
        try:
            if key == "case_category":
                case_category = CaseCategory(value)
            elif key == "sex":
                sex = Sex(value)
            elif key == "age_band":
                ages = band_range(AgeBand(value))
            elif key == "age":
                age = int(value)
                if not 0 <= age <= MAX_AGE:
                    raise ValueError(value)
                ages = (age, age)
            else:
                raise ValueError(key)
        except ValueError:
            raise _bad_eligible_for(token) from None
    return Profile(case_category=case_category, sex=sex, age_range=ages)


def _key_of_bare_code(token: str) -> str:
    for key, codes in (("case_category", CaseCategory), ("sex", Sex), ("age_band", AgeBand)):
        if token in {code.value for code in codes}:
            return key
    raise _bad_eligible_for(token)


def known_area(area: str) -> str:
    """``area`` if it is an ISO 3166-2:GN code of the contract, else a 422."""
    if area not in AREA_CODES:
        raise ValidationFailed(
            f"Zone inconnue : {area} (code ISO 3166-2:GN attendu, ex. GN-C).",
            f"Unknown area: {area} (ISO 3166-2:GN code expected, e.g. GN-C).",
            code="invalid_area",
            errors=[{"field": "query.area", "type": "unknown", "message": area}],
        )
    return area
