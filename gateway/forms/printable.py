"""Printable paper forms in French (HTML and PDF) for places without a device.

Both renderers read the same ``paper_items`` list, built from the form definitions: a paper
form asks exactly what the XLSForm asks, with the relevance written out in French.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.forms.definitions import Form, Question
from gateway.forms.fonts import font_path

TEMPLATES = Path(__file__).parent / "templates"
BOX = "☐"


@dataclass(frozen=True)
class PaperItem:
    kind: str  # section | question | note
    label: str
    hint: str = ""
    required: bool = False
    condition: str = ""
    answer: str = ""  # line | number | date | choices
    choices: tuple[str, ...] = ()
    multiple: bool = False
    columns: int = 1
    number: int = 0


@dataclass(frozen=True)
class PaperForm:
    form_id: str
    title: str
    intro: str
    version: str
    items: tuple[PaperItem, ...] = field(default=())


def _answer(question: Question) -> tuple[str, bool]:
    kind = question.paper_type or question.type
    if kind.startswith("select_multiple "):
        return "choices", True
    if kind.startswith("select_one "):
        return "choices", False
    if kind == "integer":
        return "number", False
    if kind == "date":
        return "date", False
    return "line", False


def paper_form(form: Form) -> PaperForm:
    """The printable items of ``form`` (computed-only rows and device notes left out)."""
    items: list[PaperItem] = []
    number = 0
    for question in form.questions:
        if question.type == "end_group" or not question.paper:
            continue
        if question.type == "begin_group":
            items.append(PaperItem("section", question.label_fr, condition=question.condition_fr))
            continue
        if question.type == "note":
            items.append(PaperItem("note", question.label_fr, condition=question.condition_fr))
            continue
        if question.type == "calculate" and not question.paper_type:
            continue
        answer, multiple = _answer(question)
        choices: tuple[str, ...] = ()
        if answer == "choices" and question.list_name is not None:
            choices = tuple(fr for _code, fr, _en in form.choices[question.list_name])
        number += 1
        items.append(
            PaperItem(
                "question",
                question.label_fr,
                hint=question.hint_fr,
                required=question.required == "yes",
                condition=question.condition_fr,
                answer=answer,
                choices=choices,
                multiple=multiple,
                columns=1 if len(choices) <= 4 else 2 if len(choices) <= 10 else 3,
                number=number,
            )
        )
    return PaperForm(form.form_id, form.title_fr, form.intro_fr, form.version, tuple(items))


# --------------------------------------------------------------------------- HTML


def render_html(form: Form) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    return environment.get_template("printable.html").render(form=paper_form(form), box=BOX)


# --------------------------------------------------------------------------- PDF


def _latin1(text: str) -> str:
    """Core PDF fonts are Latin-1: replace what they cannot show (no Unicode font found)."""
    replaced = (
        text.replace(BOX, "[ ]")
        .replace("’", "'")
        .replace("«", '"')
        .replace("»", '"')
        .replace("—", "-")
        .replace("–", "-")
        .replace("…", "...")
        .replace("œ", "oe")
        .replace("·", "-")
    )
    return replaced.encode("latin-1", "replace").decode("latin-1")


def _line_count(pdf: FPDF, width: float, value: str) -> int:
    lines = pdf.multi_cell(width, 4.5, value, dry_run=True, output="LINES")
    return len(lines) if isinstance(lines, list) else 1


def render_pdf(forms: list[Form]) -> bytes:
    """One A4 PDF with every form, each starting on a new page."""
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.set_margins(15, 14, 15)
    pdf.set_title("Fiches du MNO (version papier)")
    pdf.set_creator("MNO Gateway")
    regular, bold = font_path(), font_path(bold=True)
    if regular is not None and bold is not None:
        pdf.add_font("Sans", "", str(regular))
        pdf.add_font("Sans", "B", str(bold))
        family = "Sans"
        text: Callable[[str], str] = str
    else:
        family = "Helvetica"
        text = _latin1

    width = pdf.w - pdf.l_margin - pdf.r_margin

    def para(value: str, size: float, style: str = "", colour: int = 0, h: float = 5) -> None:
        pdf.set_font(family, style, size)
        pdf.set_text_color(colour)
        pdf.multi_cell(width, h, text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    for form in forms:
        paper = paper_form(form)
        pdf.add_page()
        para(paper.title, 16, "B", h=8)
        para(f"Version {paper.version} — {paper.form_id}", 8, colour=90)
        pdf.ln(1)
        para(paper.intro, 9, colour=40)
        pdf.ln(2)
        for item in paper.items:
            if item.kind == "section":
                pdf.ln(2)
                pdf.set_fill_color(225, 234, 245)
                pdf.set_font(family, "B", 11)
                pdf.set_text_color(20)
                label = item.label + (f" ({item.condition})" if item.condition else "")
                pdf.multi_cell(
                    width, 7, text(label), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT
                )
                pdf.ln(1)
                continue
            if item.kind == "note":
                para(
                    ("Si " + item.condition + " : " if item.condition else "") + item.label,
                    8.5,
                    colour=60,
                    h=4.2,
                )
                pdf.ln(1)
                continue
            title = f"{item.number}. {item.label}" + (" *" if item.required else "")
            para(title, 10, "B")
            details = []
            if item.condition:
                details.append(f"Seulement {item.condition}.")
            if item.hint:
                details.append(item.hint)
            if item.answer == "choices":
                details.append(
                    "Plusieurs réponses possibles." if item.multiple else "Une seule réponse."
                )
            if details:
                para(" ".join(details), 8, colour=90, h=4)
            if item.answer == "choices":
                column = width / item.columns
                pdf.set_font(family, "", 9)
                pdf.set_text_color(0)
                for start in range(0, len(item.choices), item.columns):
                    row = item.choices[start : start + item.columns]
                    lines = max(_line_count(pdf, column - 2, text(f"{BOX} {c}")) for c in row)
                    if pdf.will_page_break(lines * 4.5):
                        pdf.add_page()
                    y = pdf.get_y()
                    for index, choice in enumerate(row):
                        pdf.set_xy(pdf.l_margin + index * column, y)
                        pdf.multi_cell(column - 2, 4.5, text(f"{BOX} {choice}"))
                    pdf.set_xy(pdf.l_margin, y + lines * 4.5)
            else:
                pdf.set_draw_color(120)
                blank = {
                    "number": "Réponse : ____________",
                    "date": "Date : ____ / ____ / ________",
                }
                if item.answer in blank:
                    para(blank[item.answer], 9.5, h=7)
                else:
                    pdf.ln(6)
                    y = pdf.get_y()
                    pdf.line(pdf.l_margin, y, pdf.l_margin + width, y)
            pdf.ln(2.5)
        pdf.set_font(family, "", 8)
        pdf.set_text_color(90)
        pdf.multi_cell(
            width,
            4,
            text(
                "* réponse obligatoire. Fiche générée depuis le contrat d'échange du MNO ; ne "
                "pas modifier à la main. Conservez la fiche papier sous clé."
            ),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    return bytes(pdf.output())
