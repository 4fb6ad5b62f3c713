"""The indicator computations the aggregator's facts support, and their disaggregations.

The logframe (``deploy/meal/logframe.yaml``) chooses among these by code and adds the words,
baselines and targets; the formulas live here, once, and are documented in docs/meal.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    COUNT = "count"
    PERCENT = "percent"
    DURATION = "duration"


class Dimension(StrEnum):
    """What an indicator can be broken down by."""

    SEX = "sex"
    AGE_BAND = "age_band"
    REGION = "region"
    CASE_CATEGORY = "case_category"
    AGENCY = "agency"
    SERVICE = "service"
    URGENCY = "urgency"
    REASON = "reason"
    MATCH_METHOD = "match_method"


DIMENSION_LABELS: dict[Dimension, tuple[str, str]] = {
    Dimension.SEX: ("Sexe", "Sex"),
    Dimension.AGE_BAND: ("Tranche d'âge", "Age band"),
    Dimension.REGION: ("Région", "Region"),
    Dimension.CASE_CATEGORY: ("Catégorie de cas", "Case category"),
    Dimension.AGENCY: ("Agence", "Agency"),
    Dimension.SERVICE: ("Service", "Service"),
    Dimension.URGENCY: ("Urgence", "Urgency"),
    Dimension.REASON: ("Motif", "Reason"),
    Dimension.MATCH_METHOD: ("Méthode d'appariement", "Match method"),
}

PERSON_DIMENSIONS = frozenset(
    {
        Dimension.SEX,
        Dimension.AGE_BAND,
        Dimension.REGION,
        Dimension.CASE_CATEGORY,
        Dimension.AGENCY,
        Dimension.SERVICE,
        Dimension.URGENCY,
    }
)


class Source(StrEnum):
    """Which facts an indicator reads."""

    REFERRALS = "referrals"
    DURATIONS = "durations"
    DUPLICATES = "duplicates"
    WITHDRAWALS = "withdrawals"
    ACTORS = "actors"
    ACTIVE_AGENCIES = "active_agencies"
    ACTIVE_SERVICES = "active_services"


@dataclass(frozen=True)
class Computation:
    code: str
    kind: Kind
    unit: str  # referrals, percent, hours, consents, agencies, services
    source: Source
    dimensions: frozenset[Dimension]
    # Counts of people (or of their referrals) are suppressed under the threshold;
    # counts of agencies or services single nobody out.
    about_persons: bool = True
    # The region filter (region of residence) applies; else the indicator is national.
    regional: bool = True
    # For referral measures: the column of the aggregate query, and its denominator.
    measure: str = ""
    denominator: str = ""
    # Which agency the "agency" dimension means.
    agency_role: str = "receiving"
    statistic: str = ""  # durations: "median" | "p90"


_REFERRAL_DIMS = PERSON_DIMENSIONS


def _count(
    code: str,
    measure: str,
    *,
    extra: frozenset[Dimension] = frozenset(),
    agency_role: str = "receiving",
) -> Computation:
    return Computation(
        code,
        Kind.COUNT,
        "referrals",
        Source.REFERRALS,
        _REFERRAL_DIMS | extra,
        measure=measure,
        agency_role=agency_role,
    )


def _percent(code: str, measure: str, denominator: str) -> Computation:
    return Computation(
        code,
        Kind.PERCENT,
        "percent",
        Source.REFERRALS,
        _REFERRAL_DIMS,
        measure=measure,
        denominator=denominator,
    )


def _duration(code: str, column: str, statistic: str) -> Computation:
    return Computation(
        code,
        Kind.DURATION,
        "hours",
        Source.DURATIONS,
        _REFERRAL_DIMS,
        measure=column,
        statistic=statistic,
    )


COMPUTATIONS: dict[str, Computation] = {
    c.code: c
    for c in (
        _count("referrals_made", "total", agency_role="referring"),
        _count("referrals_received", "total"),
        _percent("acknowledged_within_sop", "ack_num", "ack_den"),
        _percent("accepted_within_sop", "acc_num", "acc_den"),
        _duration("time_to_acknowledgement_median", "ack_seconds", "median"),
        _duration("time_to_acknowledgement_p90", "ack_seconds", "p90"),
        _duration("time_to_acceptance_median", "accept_seconds", "median"),
        _duration("time_to_acceptance_p90", "accept_seconds", "p90"),
        _duration("time_to_completion_median", "complete_seconds", "median"),
        _duration("time_to_completion_p90", "complete_seconds", "p90"),
        _percent("completed_with_outcome", "done_num", "done_den"),
        _count("overdue_referrals", "overdue"),
        _count("not_served", "not_served", extra=frozenset({Dimension.REASON})),
        Computation(
            "duplicate_assistance_suspected",
            Kind.COUNT,
            "referrals",
            Source.DUPLICATES,
            frozenset(
                {
                    Dimension.SEX,
                    Dimension.AGE_BAND,
                    Dimension.REGION,
                    Dimension.CASE_CATEGORY,
                    Dimension.AGENCY,
                    Dimension.MATCH_METHOD,
                }
            ),
        ),
        Computation(
            "consent_withdrawals",
            Kind.COUNT,
            "consents",
            Source.WITHDRAWALS,
            frozenset({Dimension.AGENCY, Dimension.REASON}),
            regional=False,
            agency_role="collecting",
        ),
        Computation(
            "actors_reporting_regularly",
            Kind.PERCENT,
            "percent",
            Source.ACTORS,
            frozenset(),
            about_persons=False,
            regional=False,
        ),
        Computation(
            "active_agencies",
            Kind.COUNT,
            "agencies",
            Source.ACTIVE_AGENCIES,
            frozenset(),
            about_persons=False,
            regional=False,
        ),
        Computation(
            "active_services",
            Kind.COUNT,
            "services",
            Source.ACTIVE_SERVICES,
            frozenset(),
            about_persons=False,
        ),
    )
}
