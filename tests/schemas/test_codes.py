"""Code lists: complete bilingual labels, Guinea's areas, SOP deadlines, age bands."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from schemas.codes import (
    AREA_CODES,
    AREA_PARENT,
    CODE_LISTS,
    NOT_SERVED_OUTCOMES,
    PREFECTURE_CODES,
    REGION_CODES,
    SERVED_OUTCOMES,
    SOP_DEADLINES,
    AgeBand,
    AgencyKind,
    ConsentMethod,
    ConsentPurpose,
    DataCategory,
    Language,
    Outcome,
    ReferralStatus,
    Urgency,
    age_band_for_age,
    age_band_for_birth_year,
    label,
    labels,
    region_of,
    sop_deadlines,
)


def test_every_code_list_has_french_and_english_labels() -> None:
    for entry in CODE_LISTS.values():
        assert entry.title_fr
        assert entry.title_en
        for code, (fr, en) in entry.labels.items():
            assert fr.strip(), (entry.name, code)
            assert en.strip(), (entry.name, code)
        if entry.codes is not None:
            assert set(entry.labels) == {c.value for c in entry.codes}


def test_canonical_codes_are_exactly_the_agreed_ones() -> None:
    assert [k.value for k in AgencyKind] == ["government", "un", "ngo", "provider"]
    assert [p.value for p in ConsentPurpose] == [
        "referral",
        "case_follow_up",
        "meal_statistics",
        "research",
    ]
    assert [c.value for c in DataCategory] == [
        "identity_contact",
        "health",
        "protection_sensitive",
        "socio_economic",
        "statistical",
    ]
    assert [s.value for s in ReferralStatus] == [
        "submitted",
        "acknowledged",
        "accepted",
        "declined",
        "completed",
        "closed",
        "cancelled",
    ]
    assert [m.value for m in ConsentMethod] == ["written", "verbal", "thumbprint"]


def test_sop_deadlines_follow_the_common_brief() -> None:
    assert {u.value: tuple(d) for u, d in SOP_DEADLINES.items()} == {
        "immediate": (2, 24),
        "high": (24, 72),
        "normal": (72, 168),
        "low": (168, 336),
    }
    submitted = datetime(2025, 1, 1, 8, tzinfo=UTC)
    assert sop_deadlines(Urgency.IMMEDIATE, submitted) == (
        submitted + timedelta(hours=2),
        submitted + timedelta(hours=24),
    )


def test_guinea_has_eight_regions_and_thirty_three_prefectures_each_with_a_region() -> None:
    assert REGION_CODES == {"GN-B", "GN-C", "GN-D", "GN-F", "GN-K", "GN-L", "GN-M", "GN-N"}
    assert len(PREFECTURE_CODES) == 33
    assert AREA_CODES == REGION_CODES | PREFECTURE_CODES
    assert set(AREA_PARENT) == PREFECTURE_CODES
    assert set(AREA_PARENT.values()) == REGION_CODES - {"GN-C"}
    assert region_of("GN-NZ") == "GN-N"
    assert region_of("GN-C") == "GN-C"
    with pytest.raises(ValueError, match="unknown area"):
        region_of("GN-XX")


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "0-4"),
        (4, "0-4"),
        (5, "5-11"),
        (14, "12-14"),
        (17, "15-17"),
        (18, "18-24"),
        (34, "25-34"),
        (49, "35-49"),
        (59, "50-59"),
        (60, "60+"),
        (101, "60+"),
    ],
)
def test_age_bands_have_the_agreed_bounds(age: int, band: str) -> None:
    assert age_band_for_age(age) == AgeBand(band)


def test_age_band_from_birth_year_uses_the_age_reached_this_year() -> None:
    assert age_band_for_birth_year(2007, on=date(2025, 1, 1)) == AgeBand.Y18_24
    assert age_band_for_birth_year(2008, on=date(2025, 12, 31)) == AgeBand.Y15_17
    with pytest.raises(ValueError, match="out of range"):
        age_band_for_age(-1)


def test_outcomes_split_into_served_and_not_served() -> None:
    assert Outcome.NOT_SERVED_UNREACHABLE in NOT_SERVED_OUTCOMES
    assert NOT_SERVED_OUTCOMES.isdisjoint(SERVED_OUTCOMES)
    assert NOT_SERVED_OUTCOMES | SERVED_OUTCOMES == set(Outcome)
    assert {
        "not_served_unreachable",
        "not_served_capacity",
        "not_served_ineligible",
        "not_served_refused_by_person",
        "not_served_relocated",
    } <= {o.value for o in NOT_SERVED_OUTCOMES}


def test_languages_include_the_national_languages_with_labels() -> None:
    assert {"fra", "fuf", "emk", "sus", "kss", "gkp", "tod"} <= {lang.value for lang in Language}
    assert len(Language) >= 12
    assert label(Language.FUF, "fr").startswith("Pular")
    assert labels(Language)["sus"] == ("Soussou", "Susu")
