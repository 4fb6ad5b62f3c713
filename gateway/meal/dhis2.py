"""DHIS2 ``dataValueSets`` export with a configurable mapping (``deploy/meal/dhis2-mapping.yaml``).

Each mapped indicator becomes data values of one data element; a disaggregation maps its
categories to category option combos; ``by_region`` adds one value set per mapped region
(computed with the region filter) on that region's org unit. Suppressed cells ("<5") and
empty values are left out: DHIS2 takes numbers only, and a hidden cell must stay hidden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.meal.catalogue import Dimension
from gateway.meal.logframe import REPO_ROOT, Logframe, LogframeError
from schemas.codes import REGION_CODES

DEFAULT_MAPPING = REPO_ROOT / "deploy" / "meal" / "dhis2-mapping.yaml"
DATAVALUESET_SCHEMA_FILE = REPO_ROOT / "deploy" / "meal" / "dhis2-datavalueset.schema.json"
UID = r"^[A-Za-z][A-Za-z0-9]{10}$"


class MappingError(LogframeError):
    code = "invalid_dhis2_mapping"
    what_fr = "Correspondance DHIS2 invalide"
    what_en = "Invalid DHIS2 mapping"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrgUnits(_Model):
    national: str = Field(pattern=UID)
    regions: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _regions(self) -> OrgUnits:
        unknown = sorted(set(self.regions) - REGION_CODES)
        if unknown:
            raise ValueError(f"région inconnue / unknown region: {', '.join(unknown)}")
        bad = sorted(r for r, uid in self.regions.items() if not re.match(UID, uid))
        if bad:
            raise ValueError(f"UID d'unité d'organisation invalide / invalid org unit UID: {bad}")
        return self


class DataElementMap(_Model):
    indicator: str
    data_element: str = Field(pattern=UID)
    disaggregation: Dimension | None = None
    category_option_combos: dict[str, str] = Field(default_factory=dict)
    by_region: bool = False

    @model_validator(mode="after")
    def _combos(self) -> DataElementMap:
        if (self.disaggregation is None) != (not self.category_option_combos):
            raise ValueError(
                "disaggregation et category_option_combos vont ensemble / "
                "disaggregation and category_option_combos go together"
            )
        bad = sorted(c for c, uid in self.category_option_combos.items() if not re.match(UID, uid))
        if bad:
            raise ValueError(f"UID de combinaison invalide / invalid combo UID for: {bad}")
        return self


class Dhis2Mapping(_Model):
    """Indicator → data element, category option combo and org unit."""

    data_set: str | None = Field(default=None, pattern=UID)
    org_units: OrgUnits
    attribute_option_combo: str = Field(pattern=UID)
    default_category_option_combo: str = Field(pattern=UID)
    data_elements: list[DataElementMap] = Field(min_length=1)


def parse_mapping(text: str, frame: Logframe, filename: str = "dhis2-mapping.yaml") -> Dhis2Mapping:
    try:
        mapping = Dhis2Mapping.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise MappingError(filename, [f"YAML : {exc}"]) from None
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(racine)'} : {e['msg']}" for e in exc.errors()
        ]
        raise MappingError(filename, problems) from None
    problems = []
    for entry in mapping.data_elements:
        indicator = frame.indicator(entry.indicator)
        if indicator is None:
            problems.append(f"{entry.indicator} : absent du cadre logique / not in the logframe")
            continue
        if entry.disaggregation and entry.disaggregation not in indicator.disaggregations:
            problems.append(
                f"{entry.indicator} : ventilation {entry.disaggregation.value} non déclarée / "
                f"disaggregation not declared"
            )
        if entry.by_region and not indicator.computation.regional:
            problems.append(f"{entry.indicator} : indicateur national / national indicator")
    if problems:
        raise MappingError(filename, problems)
    return mapping


def load_mapping(path: Path, frame: Logframe) -> Dhis2Mapping:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(str(path), [f"illisible / unreadable: {exc.strerror}"]) from None
    return parse_mapping(text, frame, str(path))


@dataclass
class DataValueSet:
    body: dict[str, Any]
    omitted: int = 0  # suppressed or empty cells left out
    unmapped: list[str] = field(default_factory=list)  # categories with no combo


def _value(cell: Mapping[str, Any]) -> str | None:
    value = cell.get("value")
    if cell.get("suppressed") or value is None or isinstance(value, str):
        return None
    if isinstance(value, int):
        return str(value)
    return f"{float(value):.1f}"


def data_value_set(
    mapping: Dhis2Mapping,
    period_dhis2: str,
    published: Mapping[str | None, Mapping[str, Any]],
    *,
    complete_date: date,
) -> DataValueSet:
    """``published``: the public report per org-unit scope (None = national, else region)."""
    out = DataValueSet({})
    values: list[dict[str, Any]] = []
    scopes: list[tuple[str | None, str]] = [(None, mapping.org_units.national)]
    scopes += sorted(mapping.org_units.regions.items())
    for entry in mapping.data_elements:
        for region, org_unit in scopes:
            if region is not None and not entry.by_region:
                continue
            report = published.get(region)
            if report is None:
                continue
            item = next((i for i in report["indicators"] if i["code"] == entry.indicator), None)
            if item is None:
                continue
            cells: list[tuple[str, Mapping[str, Any]]]
            if entry.disaggregation is None:
                cells = [(mapping.default_category_option_combo, item)]
            else:
                cells = []
                for cell in item["disaggregations"].get(entry.disaggregation.value, []):
                    combo = entry.category_option_combos.get(cell["code"])
                    if combo is None:
                        out.unmapped.append(f"{entry.indicator}/{cell['code']}")
                        continue
                    cells.append((combo, cell))
            for combo, cell in cells:
                value = _value(cell)
                if value is None:
                    out.omitted += 1
                    continue
                values.append(
                    {
                        "dataElement": entry.data_element,
                        "period": period_dhis2,
                        "orgUnit": org_unit,
                        "categoryOptionCombo": combo,
                        "attributeOptionCombo": mapping.attribute_option_combo,
                        "value": value,
                    }
                )
    body: dict[str, Any] = {
        "period": period_dhis2,
        "orgUnit": mapping.org_units.national,
        "completeDate": complete_date.isoformat(),
        "attributeOptionCombo": mapping.attribute_option_combo,
        "dataValues": values,
    }
    if mapping.data_set:
        body = {"dataSet": mapping.data_set, **body}
    out.body = body
    return out


def regions_needed(mapping: Dhis2Mapping) -> list[str]:
    if not any(e.by_region for e in mapping.data_elements):
        return []
    return sorted(mapping.org_units.regions)
