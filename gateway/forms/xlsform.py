"""XLSForm (.xlsx) for KoboToolbox / ODK Collect: French labels first, English second."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from gateway.forms.definitions import Form

FR = "Français (fr)"
EN = "English (en)"

SURVEY_COLUMNS = (
    ("type", "type"),
    ("name", "name"),
    (f"label::{FR}", "label_fr"),
    (f"label::{EN}", "label_en"),
    (f"hint::{FR}", "hint_fr"),
    (f"hint::{EN}", "hint_en"),
    ("required", "required"),
    (f"required_message::{FR}", ""),
    (f"required_message::{EN}", ""),
    ("relevant", "relevant"),
    ("constraint", "constraint"),
    (f"constraint_message::{FR}", "constraint_fr"),
    (f"constraint_message::{EN}", "constraint_en"),
    ("calculation", "calculation"),
    ("default", "default"),
    ("appearance", "appearance"),
)
REQUIRED_FR = "Réponse obligatoire."
REQUIRED_EN = "An answer is required."


def survey_rows(form: Form) -> list[list[str]]:
    rows: list[list[str]] = [[header for header, _ in SURVEY_COLUMNS]]
    for question in form.questions:
        row = []
        for header, attribute in SURVEY_COLUMNS:
            if header.startswith("required_message"):
                value = (REQUIRED_FR if FR in header else REQUIRED_EN) if question.required else ""
            else:
                value = str(getattr(question, attribute))
            row.append(value)
        rows.append(row)
    return rows


def choice_rows(form: Form) -> list[list[str]]:
    used = {q.list_name for q in form.questions if q.list_name and not q.paper_type}
    rows = [["list_name", "name", f"label::{FR}", f"label::{EN}"]]
    for list_name, choices in form.choices.items():
        if list_name in used:
            rows.extend([list_name, code, fr, en] for code, fr, en in choices)
    return rows


def settings_rows(form: Form) -> list[list[str]]:
    return [
        ["form_title", "form_id", "version", "default_language", "style"],
        [form.title_fr, form.form_id, form.version, FR, "pages"],
    ]


def workbook(form: Form) -> Workbook:
    book = Workbook()
    sheets = (
        ("survey", survey_rows(form)),
        ("choices", choice_rows(form)),
        ("settings", settings_rows(form)),
    )
    first = book.active
    assert first is not None  # noqa: S101 - a new workbook always has one sheet
    book.remove(first)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    return book


def xlsx_bytes(form: Form) -> bytes:
    buffer = io.BytesIO()
    workbook(form).save(buffer)
    return buffer.getvalue()


def write_xlsform(form: Form, directory: Path) -> Path:
    path = directory / f"{form.form_id}.xlsx"
    path.write_bytes(xlsx_bytes(form))
    return path
