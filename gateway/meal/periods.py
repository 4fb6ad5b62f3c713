"""Reporting periods: a month (``2026-10``), a quarter (``2026Q3``) or a year (``2026``).

Guinea keeps UTC all year, so period boundaries are UTC midnights.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from gateway.errors import ValidationFailed

MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_MONTH = re.compile(r"^(\d{4})-?(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class InvalidPeriod(ValidationFailed):
    code = "invalid_period"

    def __init__(self, text: str) -> None:
        super().__init__(
            f"Période invalide : {text[:20]!r} (attendu AAAA-MM, AAAAQn ou AAAA).",
            f"Invalid period: {text[:20]!r} (expected YYYY-MM, YYYYQn or YYYY).",
        )


@dataclass(frozen=True)
class Period:
    kind: str  # "month" | "quarter" | "year"
    year: int
    index: int  # month 1..12, quarter 1..4, 1 for a year

    @property
    def code(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year:04d}Q{self.index}"
        return f"{self.year:04d}"

    @property
    def dhis2(self) -> str:
        """The DHIS2 period id: ``202610``, ``2026Q3``, ``2026``."""
        return self.code.replace("-", "")

    @property
    def first_month(self) -> int:
        return {"month": self.index, "quarter": 3 * self.index - 2, "year": 1}[self.kind]

    @property
    def month_count(self) -> int:
        return {"month": 1, "quarter": 3, "year": 12}[self.kind]

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.first_month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive end."""
        month = self.first_month + self.month_count
        return datetime(self.year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def months(self) -> list[str]:
        return [
            f"{self.year:04d}-{m:02d}"
            for m in range(self.first_month, self.first_month + self.month_count)
        ]

    def label(self, lang: str = "fr") -> str:
        if self.kind == "month":
            names = MONTHS_FR if lang == "fr" else MONTHS_EN
            return f"{names[self.index - 1]} {self.year}"
        if self.kind == "quarter":
            if lang == "fr":
                rank = "1er" if self.index == 1 else f"{self.index}e"
                return f"{rank} trimestre {self.year}"
            return f"Q{self.index} {self.year}"
        return f"année {self.year}" if lang == "fr" else f"year {self.year}"


def parse_period(text: str) -> Period:
    value = text.strip().upper()
    if m := _MONTH.match(value):
        return Period("month", int(m.group(1)), int(m.group(2)))
    if m := _QUARTER.match(value):
        return Period("quarter", int(m.group(1)), int(m.group(2)))
    if m := _YEAR.match(value):
        return Period("year", int(m.group(1)), 1)
    raise InvalidPeriod(text)


def month_of(moment: datetime) -> Period:
    moment = moment.astimezone(UTC)
    return Period("month", moment.year, moment.month)


def months_back(period: Period, count: int) -> list[Period]:
    """The ``count`` months ending with the last month of ``period``, oldest first."""
    last = period.first_month + period.month_count - 1
    serial = period.year * 12 + (last - 1)
    return [Period("month", s // 12, s % 12 + 1) for s in range(serial - count + 1, serial + 1)]
