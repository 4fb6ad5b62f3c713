"""CSV and XLSX of one indicator for one period, from its published (suppressed) form."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

COLUMNS = (
    "ref",
    "indicator",
    "name_fr",
    "period",
    "region",
    "dimension",
    "category",
    "category_label_fr",
    "value",
    "suppressed",
    "numerator",
    "denominator",
    "n",
    "unit",
    "target",
)
HEADERS_FR = (
    "Réf.",
    "Indicateur",
    "Intitulé",
    "Période",
    "Région",
    "Ventilation",
    "Catégorie",
    "Libellé",
    "Valeur",
    "Masqué",
    "Numérateur",
    "Dénominateur",
    "Effectif",
    "Unité",
    "Cible",
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def rows(published: Mapping[str, Any], code: str) -> list[dict[str, Any]]:
    """One row for the total, one per category of each disaggregation."""
    item = next(i for i in published["indicators"] if i["code"] == code)
    base = {
        "ref": item["ref"],
        "indicator": item["code"],
        "name_fr": item["name_fr"],
        "period": published["period"]["code"],
        "region": published["region"] or "",
        "unit": item["unit"],
        "target": item["target"],
    }

    def row(dimension: str, category: str, label: str, cell: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **base,
            "dimension": dimension,
            "category": category,
            "category_label_fr": label,
            "value": cell.get("value"),
            "suppressed": cell.get("suppressed", False),
            "numerator": cell.get("numerator"),
            "denominator": cell.get("denominator"),
            "n": cell.get("n"),
        }

    out = [row("total", "", "Total", item)]
    for dimension, cells in item["disaggregations"].items():
        for cell in cells:
            out.append(row(dimension, cell["code"], cell["label_fr"], cell))
    return out


def to_csv(published: Mapping[str, Any], code: str) -> bytes:
    """UTF-8, comma-separated, machine-oriented (the XLSX is for spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows(published, code):
        writer.writerow([_text(r[c]) if c != "suppressed" else str(r[c]).lower() for c in COLUMNS])
    return buffer.getvalue().encode("utf-8")


def to_xlsx(published: Mapping[str, Any], code: str) -> bytes:
    item = next(i for i in published["indicators"] if i["code"] == code)
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook always has one sheet
    sheet.title = "Indicateur"
    sheet["A1"] = f"{item['ref']} — {item['name_fr']}"
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = f"Période : {published['period']['label_fr']} ({published['period']['code']})"
    sheet["A3"] = f"Région : {published['region'] or 'toutes'}"
    sheet["A4"] = published["suppression"]["rule_fr"]
    sheet["A4"].alignment = Alignment(wrap_text=False)
    sheet.append([])
    sheet.append(list(HEADERS_FR))
    for cell in sheet[6]:
        cell.font = Font(bold=True)
    for r in rows(published, code):
        sheet.append([("oui" if r[c] else "non") if c == "suppressed" else r[c] for c in COLUMNS])
    for column, width in zip(
        "ABCDEFGHIJKLMNO", (7, 26, 40, 9, 8, 14, 26, 34, 9, 8, 11, 13, 9, 10, 8), strict=True
    ):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
