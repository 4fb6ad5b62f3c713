"""Indicator values from the facts (raw), then published with small-cell suppression.

``compute`` returns exact numbers and never leaves the process; every output (API, dashboard,
CSV/XLSX, DHIS2, report) goes through ``publish``, the one place where counts of people under
the threshold become "<5" and the percentages and durations built on them are hidden.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import ValidationFailed
from gateway.meal import repository
from gateway.meal.catalogue import DIMENSION_LABELS, Computation, Dimension, Kind, Source
from gateway.meal.dhis2 import DataValueSet, Dhis2Mapping, data_value_set, regions_needed
from gateway.meal.logframe import Indicator, Logframe
from gateway.meal.models import UNKNOWN
from gateway.meal.periods import Period
from schemas.codes import (
    AGE_BAND_LABELS,
    AREA_LABELS,
    CASE_CATEGORY_LABELS,
    MATCH_METHOD_LABELS,
    OUTCOME_LABELS,
    REGION_CODES,
    SERVICE_CATEGORY_LABELS,
    SEX_LABELS,
    URGENCY_LABELS,
    WITHDRAWAL_REASON_LABELS,
    Labels,
)

HOUR = 3600.0


class UnknownDimension(ValidationFailed):
    code = "unknown_disaggregation"

    def __init__(self, name: str) -> None:
        known = ", ".join(d.value for d in Dimension)
        super().__init__(
            f"Ventilation inconnue : {name[:40]!r} (connues : {known}, all).",
            f"Unknown disaggregation: {name[:40]!r} (known: {known}, all).",
        )


class UnknownRegion(ValidationFailed):
    code = "unknown_region"

    def __init__(self, code: str) -> None:
        super().__init__(
            f"Région inconnue : {code[:12]!r} (codes ISO 3166-2:GN, ex. GN-C).",
            f"Unknown region: {code[:12]!r} (ISO 3166-2:GN codes, e.g. GN-C).",
        )


class UnknownIndicator(ValidationFailed):
    code = "unknown_indicator"
    status = 404

    def __init__(self, code: str) -> None:
        super().__init__(
            f"Indicateur inconnu : {code[:60]!r}.", f"Unknown indicator: {code[:60]!r}."
        )


# --------------------------------------------------------------------------- raw values


@dataclass(frozen=True)
class Measure:
    """An exact value. ``n`` is what suppression looks at: the count itself, the denominator
    of a percentage, or the number of durations behind a median."""

    kind: Kind
    value: float | None
    n: int
    numerator: int | None = None
    denominator: int | None = None


def count(value: int) -> Measure:
    return Measure(Kind.COUNT, value, value)


def percent(numerator: int, denominator: int) -> Measure:
    value = None if denominator == 0 else 100.0 * numerator / denominator
    return Measure(Kind.PERCENT, value, denominator, numerator, denominator)


def duration(seconds: Sequence[float] | np.ndarray[Any, Any], statistic: str) -> Measure:
    if len(seconds) == 0:
        return Measure(Kind.DURATION, None, 0)
    q = 50 if statistic == "median" else 90
    # Linear interpolation between closest ranks, as PostgreSQL's percentile_cont.
    value = float(np.percentile(np.asarray(seconds, dtype=float), q)) / HOUR
    return Measure(Kind.DURATION, value, len(seconds))


@dataclass
class IndicatorResult:
    indicator: Indicator
    total: Measure
    breakdowns: dict[str, list[tuple[str, Measure]]] = field(default_factory=dict)
    region_applied: bool = True

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def computation(self) -> Computation:
        return self.indicator.computation


@dataclass
class IndicatorReport:
    period: Period
    region: str | None
    as_of: datetime
    results: list[IndicatorResult]

    def get(self, code: str) -> IndicatorResult:
        for result in self.results:
            if result.code == code:
                return result
        raise KeyError(code)


def parse_dimensions(values: Iterable[str]) -> list[str]:
    """``sex,region`` or repeated parameters; ``all`` means each indicator's own list."""
    out: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                continue
            if name != "all" and name not in Dimension.__members__.values():
                raise UnknownDimension(name)
            if name not in out:
                out.append(name)
    return out


def check_region(region: str | None) -> str | None:
    if region in (None, "", "all"):
        return None
    assert region is not None  # noqa: S101 - narrowed above
    if region not in REGION_CODES:
        raise UnknownRegion(region)
    return region


def _internal_group(computation: Computation, dimension: str) -> str:
    if dimension == Dimension.AGENCY:
        return f"{computation.agency_role}_agency"
    return dimension


def _referral_measure(computation: Computation, row: Mapping[str, Any]) -> Measure:
    if computation.kind is Kind.PERCENT:
        return percent(int(row[computation.measure]), int(row[computation.denominator]))
    return count(int(row[computation.measure]))


class Cohort:
    """The referral cohort in memory, grouped with numpy: every breakdown from one read."""

    def __init__(self, data: repository.CohortRows) -> None:
        width = len(data.groups) + len(data.flags) + len(data.durations)
        columns: list[tuple[Any, ...]] = list(zip(*data.rows, strict=True)) or [()] * width
        self.size = len(data.rows)
        first_flag = len(data.groups)
        first_duration = first_flag + len(data.flags)
        self.groups = {name: columns[i] for i, name in enumerate(data.groups)}
        self.flags = {
            name: np.asarray(columns[first_flag + i], dtype=np.int64)
            for i, name in enumerate(data.flags)
        }
        self.durations = {
            name: np.asarray(
                [np.nan if v is None else v for v in columns[first_duration + i]], dtype=float
            )
            for i, name in enumerate(data.durations)
        }
        self._indexes: dict[str | None, tuple[list[str], Any, Any]] = {}
        self._sums: dict[str | None, list[tuple[str, dict[str, int]]]] = {}

    def _index(self, group: str | None) -> tuple[list[str], Any, Any]:
        """(codes, code index of each entry, row of each entry), computed once per group."""
        if group in self._indexes:
            return self._indexes[group]
        if group is None:
            index: tuple[list[str], Any, Any] = (
                [UNKNOWN],
                np.zeros(self.size, dtype=np.int64),
                np.arange(self.size),
            )
        else:
            if group == "service":  # a referral counts in each category it requested
                keys: list[str] = []
                rows: list[int] = []
                for row, services in enumerate(self.groups[group]):
                    for category in (services or "").split(","):
                        if category:
                            keys.append(category)
                            rows.append(row)
                entries = np.asarray(rows, dtype=np.int64)
            else:
                keys = [UNKNOWN if k is None else str(k) for k in self.groups[group]]
                entries = np.arange(self.size)
            positions: dict[str, int] = {}
            inverse = np.fromiter(
                (positions.setdefault(k, len(positions)) for k in keys), np.int64, len(keys)
            )
            index = (list(positions), inverse, entries)
        self._indexes[group] = index
        return index

    def sums(self, group: str | None) -> list[tuple[str, dict[str, int]]]:
        if group in self._sums:
            return self._sums[group]
        codes, inverse, rows = self._index(group)
        size = len(codes)
        totals = {"total": np.bincount(inverse, minlength=size)}
        for name, flags in self.flags.items():
            totals[name] = np.bincount(inverse, weights=flags[rows], minlength=size)
        out = [(code, {k: int(v[i]) for k, v in totals.items()}) for i, code in enumerate(codes)]
        self._sums[group] = out
        return out

    def values(self, group: str | None, column: str) -> list[tuple[str, Any]]:
        codes, inverse, rows = self._index(group)
        seconds = self.durations[column][rows]
        present = ~np.isnan(seconds)
        return [(code, seconds[present & (inverse == i)]) for i, code in enumerate(codes)]


class _Reader:
    """Runs each fact query once per (source, grouping) and shares it between indicators."""

    def __init__(
        self, session: AsyncSession, scope: repository.Scope, frame: Logframe, *, wide: bool
    ) -> None:
        self.session = session
        self.scope = scope
        self.frame = frame
        # With breakdowns, one read of the whole cohort grouped in memory beats a scan each.
        self.wide = wide
        self._cache: dict[tuple[str, str | None], Any] = {}

    async def _cached(self, key: tuple[str, str | None], load: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = await load()
        return self._cache[key]

    async def _cohort(self) -> Cohort:
        async def load() -> Cohort:
            return Cohort(await repository.referral_cohort(self.session, self.scope))

        cohort: Cohort = await self._cached(("cohort", None), load)
        return cohort

    async def measures(
        self, computation: Computation, group: str | None
    ) -> list[tuple[str, Measure]]:
        source = computation.source
        scope = self.scope
        if source is Source.REFERRALS:
            if group == "month" or (group is None and not self.wide):
                # trends, or totals alone: SQL aggregates, no rows brought back
                rows = await self._cached(
                    ("referrals", group),
                    lambda: repository.referral_aggregates(self.session, scope, group),
                )
                sums = [(str(row.get("group") or UNKNOWN), row) for row in rows]
            else:
                sums = (await self._cohort()).sums(group)
            return [(code, _referral_measure(computation, row)) for code, row in sums]
        if source is Source.DURATIONS:
            if group == "month" or (group is None and not self.wide):
                rows = await self._cached(
                    ("durations", group),
                    lambda: repository.referral_durations(self.session, scope, group),
                )
                column = repository.COHORT_DURATIONS.index(computation.measure) + 1
                grouped: dict[str, list[float]] = defaultdict(list)
                for row in rows:
                    if row[column] is not None:
                        grouped[str(row[0] or UNKNOWN)].append(float(row[column]))
                values: list[tuple[str, Sequence[float]]] = list(grouped.items())
            else:
                values = (await self._cohort()).values(group, computation.measure)
            return [(code, duration(vs, computation.statistic)) for code, vs in values]
        if source is Source.DUPLICATES:
            pairs = await self._cached(
                ("duplicates", group),
                lambda: repository.duplicate_counts(self.session, scope, group),
            )
            return [(str(code or UNKNOWN), count(n)) for code, n in pairs]
        if source is Source.WITHDRAWALS:
            pairs = await self._cached(
                ("withdrawals", group),
                lambda: repository.withdrawal_counts(self.session, scope.start, scope.end, group),
            )
            return [(str(code or UNKNOWN), count(n)) for code, n in pairs]
        if source is Source.ACTORS:
            return [(UNKNOWN, await self._actors())]
        if source is Source.ACTIVE_AGENCIES:
            first = scope.start.date()
            last = (scope.end - timedelta(microseconds=1)).date()
            return [
                (UNKNOWN, count(await repository.active_agency_count(self.session, first, last)))
            ]
        if source is Source.ACTIVE_SERVICES:
            return [(UNKNOWN, count(await repository.active_service_count(self.session, scope)))]
        raise AssertionError(source)  # pragma: no cover

    async def _actors(self) -> Measure:
        rule = self.frame.regular_reporting
        until = min(self.scope.as_of, self.scope.end - timedelta(microseconds=1))
        last = until.astimezone(UTC).date()
        first = last - timedelta(days=rule.window_days - 1)
        days = await repository.active_days_by_agency(self.session, first, last)
        members = await repository.member_agencies(self.session)
        regular = sum(1 for code in members if days.get(code, 0) >= rule.min_active_days)
        return percent(regular, len(members))


def _total(pairs: list[tuple[str, Measure]], computation: Computation) -> Measure:
    if pairs:
        return pairs[0][1]
    if computation.kind is Kind.PERCENT:
        return percent(0, 0)
    if computation.kind is Kind.DURATION:
        return Measure(Kind.DURATION, None, 0)
    return count(0)


def _keep(measure: Measure) -> bool:
    return measure.n > 0


async def compute(
    session: AsyncSession,
    frame: Logframe,
    period: Period,
    *,
    disaggregate: Sequence[str] = (),
    region: str | None = None,
    as_of: datetime | None = None,
    codes: Sequence[str] | None = None,
) -> IndicatorReport:
    """Exact values of the logframe's indicators for one period (and region)."""
    as_of = as_of or datetime.now(UTC)
    region = check_region(region)
    dims = parse_dimensions(disaggregate)
    indicators = list(frame.indicators())
    if codes:
        wanted = list(dict.fromkeys(codes))
        for code in wanted:
            if frame.indicator(code) is None:
                raise UnknownIndicator(code)
        indicators = [i for i in indicators if i.code in wanted]
    scope = repository.Scope(period.start, period.end, region, as_of)
    national = repository.Scope(period.start, period.end, None, as_of)
    wide = bool(dims)
    readers = {
        True: _Reader(session, scope, frame, wide=wide),
        False: _Reader(session, national, frame, wide=wide),
    }
    results = []
    for indicator in indicators:
        computation = indicator.computation
        reader = readers[computation.regional]
        total = _total(await reader.measures(computation, None), computation)
        result = IndicatorResult(
            indicator, total, region_applied=computation.regional or not region
        )
        wanted_dims = (
            [d.value for d in indicator.disaggregations]
            if "all" in dims
            else [d for d in dims if d in indicator.disaggregations]
        )
        for dim in wanted_dims:
            pairs = await reader.measures(computation, _internal_group(computation, dim))
            result.breakdowns[dim] = _ordered(dim, [p for p in pairs if _keep(p[1])])
        results.append(result)
    return IndicatorReport(period, region, as_of, results)


async def monthly_series(
    session: AsyncSession,
    frame: Logframe,
    months: Sequence[Period],
    codes: Sequence[str],
    *,
    region: str | None = None,
    as_of: datetime | None = None,
) -> dict[str, list[tuple[str, Measure]]]:
    """Each indicator's value month by month (trends). Referral measures take one query."""
    as_of = as_of or datetime.now(UTC)
    region = check_region(region)
    if not months:
        return {}
    span = repository.Scope(months[0].start, months[-1].end, region, as_of)
    reader = _Reader(session, span, frame, wide=False)
    out: dict[str, list[tuple[str, Measure]]] = {}
    for code in codes:
        indicator = frame.indicator(code)
        if indicator is None:
            raise UnknownIndicator(code)
        computation = indicator.computation
        if computation.source in (Source.REFERRALS, Source.DURATIONS):
            by_month = dict(await reader.measures(computation, "month"))
            empty = _total([], computation)
            out[code] = [(m.code, by_month.get(m.code, empty)) for m in months]
        else:
            series = []
            for month in months:
                report = await compute(
                    session, frame, month, region=region, as_of=as_of, codes=[code]
                )
                series.append((month.code, report.results[0].total))
            out[code] = series
    return out


# --------------------------------------------------------------------------- labels

_DIMENSION_CODES: dict[str, Labels] = {
    "sex": SEX_LABELS,
    "age_band": AGE_BAND_LABELS,
    "region": AREA_LABELS,
    "case_category": CASE_CATEGORY_LABELS,
    "service": SERVICE_CATEGORY_LABELS,
    "urgency": URGENCY_LABELS,
    "match_method": MATCH_METHOD_LABELS,
}
UNKNOWN_LABEL = ("Inconnu", "Unknown")


def category_label(dimension: str, code: str, indicator_code: str = "") -> tuple[str, str]:
    if code == UNKNOWN:
        return UNKNOWN_LABEL
    labels: Labels | None
    if dimension == "reason":
        withdrawal = indicator_code == "consent_withdrawals"
        labels = WITHDRAWAL_REASON_LABELS if withdrawal else OUTCOME_LABELS
    else:
        labels = _DIMENSION_CODES.get(dimension)
    if labels is None:
        return (code, code)  # agency codes are their own label
    return labels.get(code, (code, code))


def _ordered(dimension: str, pairs: list[tuple[str, Measure]]) -> list[tuple[str, Measure]]:
    labels = _DIMENSION_CODES.get(dimension)
    if labels is None:
        return sorted(pairs, key=lambda p: p[0])
    order = {code: index for index, code in enumerate(labels)}
    return sorted(pairs, key=lambda p: (order.get(p[0], len(order)), p[0]))


# --------------------------------------------------------------------------- publication

SUPPRESSED_COUNT = "<5"


@dataclass(frozen=True)
class Suppression:
    threshold: int = 5

    @property
    def marker(self) -> str:
        return f"<{self.threshold}"

    def small(self, value: int | None) -> bool:
        return value is not None and 0 < value < self.threshold

    def sensitive(self, measure: Measure) -> bool:
        """Primary suppression: the cell itself would single out fewer than ``threshold``."""
        if measure.kind is Kind.COUNT:
            return self.small(measure.n)
        if measure.kind is Kind.PERCENT:
            num, den = measure.numerator or 0, measure.denominator or 0
            return self.small(num) or self.small(den) or self.small(den - num)
        return measure.n > 0 and measure.n < self.threshold


def _round(value: float | None, kind: Kind) -> float | int | None:
    if value is None:
        return None
    if kind is Kind.COUNT:
        return int(value)
    return round(value, 1)


def publish_measure(
    measure: Measure, rule: Suppression, about_persons: bool, *, hidden: bool = False
) -> dict[str, Any]:
    """The public form of one cell. ``hidden``: secondary suppression decided by the caller."""
    primary = about_persons and rule.sensitive(measure)
    cell: dict[str, Any] = {"value": _round(measure.value, measure.kind), "suppressed": False}
    if measure.kind is Kind.PERCENT:
        cell["numerator"] = measure.numerator
        cell["denominator"] = measure.denominator
    if measure.kind is Kind.DURATION:
        cell["n"] = measure.n
    if primary or hidden:
        cell["suppressed"] = True
        cell["suppression"] = "primary" if primary else "secondary"
        if measure.kind is Kind.COUNT:
            cell["value"] = rule.marker if primary else None
        elif measure.kind is Kind.PERCENT:
            cell.update(value=None, numerator=None, denominator=None)
        else:
            cell.update(value=None, n=rule.marker if rule.small(measure.n) else None)
    return cell


def _secondary(
    pairs: list[tuple[str, Measure]], rule: Suppression, about_persons: bool, total_hidden: bool
) -> set[int]:
    """Indexes to hide so that a lone suppressed cell cannot be recovered from the total."""
    if not about_persons or total_hidden:
        return set()
    primary = [i for i, (_c, m) in enumerate(pairs) if rule.sensitive(m)]
    if len(primary) != 1 or pairs[primary[0]][1].kind is Kind.DURATION:
        return set()
    others = [(m.n, i) for i, (_c, m) in enumerate(pairs) if i not in primary and m.n > 0]
    return {min(others)[1]} if others else set()


def _target(indicator: Indicator, period: Period) -> float:
    target = indicator.target
    if target.per is None:
        return target.value
    per_months = {"month": 1, "quarter": 3, "year": 12}[target.per]
    return round(target.value * period.month_count / per_months, 1)


def _met(indicator: Indicator, value: Any, target: float) -> bool | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return value >= target if indicator.direction == "increase" else value <= target


def publish(report: IndicatorReport, frame: Logframe) -> dict[str, Any]:
    """The statistical, suppressed form of a report: the only form that leaves the process."""
    rule = Suppression(frame.suppression_threshold)
    indicators = []
    for result in report.results:
        ind = result.indicator
        comp = result.computation
        total = publish_measure(result.total, rule, comp.about_persons)
        target = _target(ind, report.period)
        item: dict[str, Any] = {
            "ref": ind.ref,
            "code": ind.code,
            "name_fr": ind.name_fr,
            "name_en": ind.name_en,
            "kind": comp.kind.value,
            "unit": comp.unit,
            **total,
            "baseline": ind.baseline.value,
            "target": target,
            "target_met": _met(ind, total["value"], target),
            "direction": ind.direction,
            "region_applied": result.region_applied,
            "disaggregations": {},
        }
        for dim, pairs in result.breakdowns.items():
            hidden = _secondary(pairs, rule, comp.about_persons, total["suppressed"])
            cells = []
            for index, (code, measure) in enumerate(pairs):
                fr, en = category_label(dim, code, ind.code)
                cells.append(
                    {
                        "code": code,
                        "label_fr": fr,
                        "label_en": en,
                        **publish_measure(
                            measure, rule, comp.about_persons, hidden=index in hidden
                        ),
                    }
                )
            item["disaggregations"][dim] = cells
        indicators.append(item)
    return {
        "period": {
            "code": report.period.code,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
            "label_fr": report.period.label("fr"),
            "label_en": report.period.label("en"),
        },
        "region": report.region,
        "as_of": report.as_of.astimezone(UTC).isoformat(),
        "purpose": "statistical",
        "suppression": {
            "threshold": rule.threshold,
            "rule_fr": f"Les effectifs de 1 à {rule.threshold - 1} personnes sont affichés "
            f"« {rule.marker} » ; les pourcentages et délais calculés sur si peu de cas sont "
            f"masqués, ainsi qu'une case voisine quand une seule case d'une ventilation l'est.",
            "rule_en": f"Counts of 1 to {rule.threshold - 1} people are shown as "
            f"'{rule.marker}'; percentages and durations built on so few cases are hidden, and "
            f"one more cell when a breakdown would otherwise hide only one.",
        },
        "dimensions": {
            d.value: {"label_fr": fr, "label_en": en} for d, (fr, en) in DIMENSION_LABELS.items()
        },
        "indicators": indicators,
    }


def publish_series(
    series: Mapping[str, list[tuple[str, Measure]]], frame: Logframe
) -> dict[str, list[dict[str, Any]]]:
    rule = Suppression(frame.suppression_threshold)
    out: dict[str, list[dict[str, Any]]] = {}
    for code, points in series.items():
        indicator = frame.indicator(code)
        about_persons = indicator.computation.about_persons if indicator else True
        out[code] = [
            {"period": month, **publish_measure(measure, rule, about_persons)}
            for month, measure in points
        ]
    return out


# --------------------------------------------------------------------------- use cases


async def indicators(
    session: AsyncSession,
    frame: Logframe,
    period: Period,
    *,
    disaggregate: Sequence[str] = (),
    region: str | None = None,
    codes: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """The public indicator report (``GET /v1/meal/indicators``)."""
    report = await compute(
        session,
        frame,
        period,
        disaggregate=disaggregate,
        region=region,
        codes=codes,
        as_of=as_of,
    )
    return publish(report, frame)


async def dhis2_export(
    session: AsyncSession,
    frame: Logframe,
    mapping: Dhis2Mapping,
    period: Period,
    *,
    as_of: datetime | None = None,
) -> DataValueSet:
    """dataValueSets for one period: national values, plus regional ones where mapped."""
    as_of = as_of or datetime.now(UTC)
    dims = sorted({e.disaggregation.value for e in mapping.data_elements if e.disaggregation})
    codes = [e.indicator for e in mapping.data_elements]
    published: dict[str | None, dict[str, Any]] = {}
    for region in [None, *regions_needed(mapping)]:
        published[region] = await indicators(
            session, frame, period, disaggregate=dims, region=region, codes=codes, as_of=as_of
        )
    return data_value_set(mapping, period.dhis2, published, complete_date=as_of.date())
