"""The logical framework as data: objectives, results, indicators (deploy/meal/logframe.yaml).

The file carries the words, baselines, targets, frequencies and sources; each indicator names a
computation of :mod:`gateway.meal.catalogue`. ``mno meal check`` validates it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.errors import ValidationFailed
from gateway.meal.catalogue import COMPUTATIONS, Computation, Dimension, Kind

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LOGFRAME = REPO_ROOT / "deploy" / "meal" / "logframe.yaml"
LOGFRAME_SCHEMA_FILE = REPO_ROOT / "deploy" / "meal" / "logframe.schema.json"

Ref = Field(pattern=r"^[A-Z0-9][A-Za-z0-9.\-]{0,15}$")
Text = Field(min_length=3, max_length=600)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Baseline(_Model):
    """Value measured before the mechanism, and when."""

    value: float | None = Field(description="Baseline value (null if not measured).")
    year: int = Field(ge=2015, le=2100)
    note_fr: str | None = None
    note_en: str | None = None


class Target(_Model):
    """Target; counts are per month, quarter or year and prorated to the period shown."""

    value: float = Field(ge=0)
    per: Literal["month", "quarter", "year"] | None = Field(
        default=None, description="For counts only: the period the value is for."
    )
    year: int = Field(ge=2015, le=2100)


class Indicator(_Model):
    """One key performance indicator."""

    ref: str = Ref
    code: str = Field(description="A computation of gateway/meal/catalogue.py.")
    name_fr: str = Text
    name_en: str = Text
    definition_fr: str = Text
    definition_en: str = Text
    disaggregations: list[Dimension] = Field(default_factory=list)
    baseline: Baseline
    target: Target
    frequency: Literal["monthly", "quarterly", "annually"]
    direction: Literal["increase", "decrease"] = Field(
        description="Which way is better (tile colours)."
    )
    source_fr: str = Text
    source_en: str = Text

    @property
    def computation(self) -> Computation:
        return COMPUTATIONS[self.code]

    @model_validator(mode="after")
    def _fits_computation(self) -> Indicator:
        computation = COMPUTATIONS.get(self.code)
        if computation is None:
            raise ValueError(
                f"calcul inconnu / unknown computation: {self.code!r} "
                f"(connus / known: {', '.join(sorted(COMPUTATIONS))})"
            )
        extra = sorted(d.value for d in self.disaggregations if d not in computation.dimensions)
        if extra:
            raise ValueError(
                f"ventilation non disponible pour / disaggregation not available for "
                f"{self.code}: {', '.join(extra)}"
            )
        if len(set(self.disaggregations)) != len(self.disaggregations):
            raise ValueError("ventilation en double / duplicate disaggregation")
        if computation.kind == Kind.PERCENT and self.target.value > 100:
            raise ValueError(f"{self.code}: cible > 100 % / target > 100 %")
        if (computation.kind == Kind.COUNT) != (self.target.per is not None):
            raise ValueError(
                f"{self.code}: « per » est requis pour un comptage et seulement pour un "
                f"comptage / 'per' is required for a count and only for a count"
            )
        return self


class Result(_Model):
    ref: str = Ref
    statement_fr: str = Text
    statement_en: str = Text
    indicators: list[Indicator] = Field(min_length=1)


class Objective(_Model):
    ref: str = Ref
    statement_fr: str = Text
    statement_en: str = Text
    results: list[Result] = Field(min_length=1)


class RegularReporting(_Model):
    """An agency reports regularly if it sent data on ``min_active_days`` distinct days of the
    last ``window_days`` days (referral API traffic or connector heartbeats)."""

    window_days: int = Field(default=30, ge=7, le=92)
    min_active_days: int = Field(default=4, ge=1, le=92)


class Logframe(_Model):
    """Cadre logique du mécanisme / logical framework of the mechanism."""

    version: str = Field(pattern=r"^[0-9A-Za-z.\-]{1,32}$")
    title_fr: str = Text
    title_en: str = Text
    goal_fr: str = Text
    goal_en: str = Text
    suppression_threshold: int = Field(
        default=5, ge=3, le=20, description="Counts from 1 to threshold-1 are shown as '<N'."
    )
    regular_reporting: RegularReporting = Field(default_factory=RegularReporting)
    objectives: list[Objective] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Logframe:
        refs = [o.ref for o in self.objectives]
        refs += [r.ref for o in self.objectives for r in o.results]
        refs += [i.ref for i in self.indicators()]
        codes = [i.code for i in self.indicators()]
        for name, values in (("ref", refs), ("code", codes)):
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"{name} en double / duplicate {name}: {', '.join(twice)}")
        if self.regular_reporting.min_active_days > self.regular_reporting.window_days:
            raise ValueError("min_active_days > window_days")
        return self

    def indicators(self) -> Iterator[Indicator]:
        for objective in self.objectives:
            for result in objective.results:
                yield from result.indicators

    def indicator(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators() if i.code == code), None)


class LogframeError(ValidationFailed):
    code = "invalid_logframe"

    what_fr = "Cadre logique invalide"
    what_en = "Invalid logframe"

    def __init__(self, filename: str, problems: list[str]) -> None:
        self.filename = filename
        self.problems = problems
        first = problems[0] if problems else ""
        super().__init__(
            f"{self.what_fr} : {filename} ({first})",
            f"{self.what_en}: {filename} ({first})",
            errors=[{"message": p} for p in problems],
        )


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(racine / root)"


def parse_logframe(text: str, filename: str = "logframe.yaml") -> Logframe:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LogframeError(filename, [f"YAML : {exc}"]) from None
    try:
        return Logframe.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_location(e['loc'])} : {e['msg']}" for e in exc.errors()]
        raise LogframeError(filename, problems) from None


def load_logframe(path: Path | None = None) -> Logframe:
    path = path or DEFAULT_LOGFRAME
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LogframeError(str(path), [f"illisible / unreadable: {exc.strerror}"]) from None
    return parse_logframe(text, str(path))


def logframe_json_schema() -> str:
    """The JSON Schema of the file, as committed in deploy/meal/logframe.schema.json."""
    schema = Logframe.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://mno.gov.gn/schemas/meal/logframe.schema.json"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class Summary:
    objectives: int
    results: int
    indicators: int


def summarise(frame: Logframe) -> Summary:
    return Summary(
        len(frame.objectives),
        sum(len(o.results) for o in frame.objectives),
        sum(1 for _ in frame.indicators()),
    )
