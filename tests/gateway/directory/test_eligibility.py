"""Eligibility rules shared by the directory search and the referral check."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.directory.eligibility import (
    Criterion,
    Profile,
    band_range,
    birth_year_range,
    covers,
    parse_eligible_for,
    profile_of,
    unmet_criteria,
)
from gateway.errors import ValidationFailed
from schemas import examples
from schemas.codes import AgeBand, CaseCategory, Language, Sex
from schemas.service import Eligibility, Service

SHELTER = Service(
    id="refuge.test",
    agency="ONG-TEST",
    name="Refuge fictif",
    category="shelter",
    eligibility=Eligibility(
        min_age=18, sexes=[Sex.FEMALE], case_categories=[CaseCategory.VICTIM_OF_TRAFFICKING]
    ),
    languages=[Language.FRA, Language.EMK],
    areas_served=["GN-K"],
)


@pytest.mark.parametrize(
    ("served", "area", "expected"),
    [
        ([], "GN-NZ", True),  # empty: the whole country
        (["GN-K"], "GN-KA", True),  # a region covers its prefectures
        (["GN-KA"], "GN-K", True),  # a prefecture overlaps its region
        (["GN-KA"], "GN-SI", False),  # another prefecture of the same region
        (["GN-C"], "GN-KD", False),
        (["GN-D", "GN-C"], "GN-KD", True),
    ],
)
def test_coverage_follows_the_region_hierarchy(
    served: list[str], area: str, expected: bool
) -> None:
    assert covers(served, area) is expected


def test_age_bands_and_birth_years_become_inclusive_age_ranges() -> None:
    assert band_range(AgeBand.Y15_17) == (15, 17)
    assert band_range(AgeBand.Y60_PLUS) == (60, 130)
    # Born in 2008: 17 or 18 during 2026, depending on the birthday.
    assert birth_year_range(2008, on=date(2026, 3, 1)) == (17, 18)


def test_an_eligible_profile_fails_no_criterion() -> None:
    profile = Profile(
        case_category=CaseCategory.VICTIM_OF_TRAFFICKING,
        age_range=(25, 34),
        sex=Sex.FEMALE,
        area="GN-KA",
        languages=(Language.EMK,),
    )
    assert unmet_criteria(SHELTER, profile) == []


def test_every_failed_criterion_is_named_with_both_sides_in_french_and_english() -> None:
    profile = Profile(
        case_category=CaseCategory.RETURNING_MIGRANT,
        age_range=(15, 17),
        sex=Sex.MALE,
        area="GN-NZ",
        languages=(Language.KSS,),
    )
    unmet = unmet_criteria(SHELTER, profile)
    assert [u.criterion for u in unmet] == [
        Criterion.AGE,
        Criterion.SEX,
        Criterion.CASE_CATEGORY,
        Criterion.AREA,
        Criterion.LANGUAGE,
    ]
    age = unmet[0]
    assert age.text("fr") == "âge (service : 18 ans et plus ; personne : 15 à 17 ans)"
    assert age.text("en") == "age (service: 18 years and over; person: 15 to 17 years)"
    assert "Masculin" in unmet[1].text("fr")
    assert "Male" in unmet[1].text("en")
    assert "Préfecture de Nzérékoré" in unmet[3].text("fr")


def test_doubt_benefits_the_person() -> None:
    # A birth year that may still mean 17 does not fail "18 and over"; unknown sex matches.
    profile = Profile(age_range=(17, 18), sex=Sex.UNKNOWN)
    assert unmet_criteria(SHELTER, profile) == []


def test_profile_of_a_subject_uses_the_birth_year_when_given() -> None:
    subject = examples.subject()
    profile = profile_of(subject, CaseCategory.VICTIM_OF_TRAFFICKING)
    assert profile.age_range == birth_year_range(2001)
    assert profile.area == "GN-KD"
    assert profile.case_category is CaseCategory.VICTIM_OF_TRAFFICKING


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("victim_of_trafficking", Profile(case_category=CaseCategory.VICTIM_OF_TRAFFICKING)),
        ("sex:female,age:16", Profile(sex=Sex.FEMALE, age_range=(16, 16))),
        (
            "uasc, female, 12-14",
            Profile(case_category=CaseCategory.UASC, sex=Sex.FEMALE, age_range=(12, 14)),
        ),
        ("age_band:60+", Profile(age_range=(60, 130))),
        ("case_category:returning_migrant", Profile(case_category=CaseCategory.RETURNING_MIGRANT)),
    ],
)
def test_eligible_for_accepts_codes_and_key_value_pairs(text: str, expected: Profile) -> None:
    assert parse_eligible_for(text) == expected


@pytest.mark.parametrize(
    "text", ["pirate", "age:-1", "age:abc", "sex:robot", "age:16,age_band:0-4", "colour:blue"]
)
def test_eligible_for_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_eligible_for(text)
    assert caught.value.code == "invalid_eligible_for"
    assert "eligible_for" in caught.value.message_fr
