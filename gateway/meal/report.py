"""The steering committee's report (``mno meal report --period 2026-10``): French HTML + PDF.

Both are built from the published (suppressed) indicators. Charts are drawn here: inline SVG in
the HTML (one self-contained file, no script) and vector bars in the PDF (fpdf2, pure Python,
core fonts), so nothing needs a browser or the internet.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db.base import utcnow
from gateway.meal import service
from gateway.meal.logframe import Logframe
from gateway.meal.periods import Period, months_back

TEMPLATES = Path(__file__).parent / "templates"
SERIES = ("referrals_made", "acknowledged_within_sop", "accepted_within_sop", "not_served")
CHART_BREAKDOWNS = (
    ("referrals_made", "region"),
    ("referrals_made", "sex"),
    ("referrals_made", "service"),
    ("referrals_received", "agency"),
    ("not_served", "reason"),
)
COLOURS = ("#1b7f4b", "#3366cc", "#e67e22", "#b3261e", "#7b3fa0", "#16a085")


@dataclass(frozen=True)
class Chart:
    title: str
    labels: list[str]
    values: list[float | None]  # None: suppressed (see ``hidden``) or no data
    unit: str = ""
    hidden: tuple[bool, ...] = ()  # suppressed cells, drawn as « masqué »
    series: bool = False  # a time series: one colour


@dataclass(frozen=True)
class ReportData:
    period: Period
    generated_at: datetime
    published: dict[str, Any]
    charts: list[Chart]
    frame: Logframe


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def display(value: Any, kind: str = "count") -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value.replace("<", "< ")
    if isinstance(value, int) or (kind == "count" and float(value).is_integer()):
        return f"{int(value):,}".replace(",", " ")
    return f"{float(value):,.1f}".replace(",", " ").replace(".", ",")


async def build(
    session: AsyncSession, frame: Logframe, period: Period, *, as_of: datetime | None = None
) -> ReportData:
    as_of = as_of or utcnow()
    published = await service.indicators(session, frame, period, disaggregate=["all"], as_of=as_of)
    months = months_back(period, 12)
    series = service.publish_series(
        await service.monthly_series(session, frame, months, SERIES, as_of=as_of), frame
    )
    items = {i["code"]: i for i in published["indicators"]}
    labels = [m.label("fr") for m in months]
    charts = [
        Chart(
            f"{items[code]['name_fr']} — douze derniers mois",
            labels,
            [_number(p["value"]) for p in series[code]],
            " %" if items[code]["kind"] == "percent" else "",
            tuple(bool(p["suppressed"]) for p in series[code]),
            series=True,
        )
        for code in SERIES
    ]
    for code, dim in CHART_BREAKDOWNS:
        cells = items[code]["disaggregations"].get(dim, [])
        title = published["dimensions"][dim]["label_fr"].lower()
        charts.append(
            Chart(
                f"{items[code]['name_fr']} — par {title}",
                [c["label_fr"] for c in cells],
                [_number(c["value"]) for c in cells],
                hidden=tuple(bool(c["suppressed"]) for c in cells),
            )
        )
    return ReportData(period, as_of, published, charts, frame)


# --------------------------------------------------------------------------- HTML


def _colour(chart: Chart, index: int) -> str:
    return COLOURS[0] if chart.series else COLOURS[index % len(COLOURS)]


def _missing(chart: Chart, index: int) -> str:
    hidden = index < len(chart.hidden) and chart.hidden[index]
    return "masqué" if hidden else "—"


def svg_bars(chart: Chart, width: int = 640) -> Markup:
    """Horizontal bars; a hidden value is drawn as an empty row marked « masqué »."""
    row, left, pad = 22, 230, 8
    height = pad * 2 + row * max(1, len(chart.labels))
    numbers = [v for v in chart.values if v is not None]
    top = max(numbers) if numbers else 0.0
    scale = (width - left - 80) / top if top > 0 else 0.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(chart.title)}">'
    ]
    if not chart.labels:
        parts.append(f'<text x="{pad}" y="{pad + 14}" font-size="12">Aucune donnée</text>')
    for index, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True)):
        y = pad + index * row
        colour = _colour(chart, index)
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
            f"{html.escape(label[:38])}</text>"
        )
        if value is None:
            parts.append(
                f'<text x="{left + 4}" y="{y + 15}" font-size="11" fill="#5f6368">'
                f"{_missing(chart, index)}</text>"
            )
            continue
        bar = max(1.0, value * scale) if value > 0 else 0.0
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{bar:.1f}" height="{row - 7}" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{left + bar + 4:.1f}" y="{y + 15}" font-size="11">'
            f"{html.escape(display(value, 'decimal' if chart.unit else 'count'))}"
            f"{html.escape(chart.unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


def render_html(data: ReportData) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"])
    )
    env.filters["fr"] = display
    template = env.get_template("report.html.j2")
    return template.render(
        data=data,
        published=data.published,
        items={i["code"]: i for i in data.published["indicators"]},
        objectives=data.frame.objectives,
        charts=[(c, svg_bars(c)) for c in data.charts],
    )


# --------------------------------------------------------------------------- PDF

_LATIN1 = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2014": "-",
        "\u2013": "-",
        "\u2026": "...",
        "\u0153": "oe",
        "\u0152": "OE",
        "\u202f": " ",
        "\u00a0": " ",
        "\u2265": ">=",
        "\u2264": "<=",
        "\u2192": "->",
    }
)


def _t(text: Any) -> str:
    """Core PDF fonts speak Latin-1 (all French accents); fold the rest."""
    return str(text).translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


class _Pdf(FPDF):
    title_text = ""

    def header(self) -> None:
        self.set_font("helvetica", "B", 9)
        self.set_text_color(95, 99, 104)
        self.cell(0, 6, _t(self.title_text), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", "", 8)
        self.set_text_color(95, 99, 104)
        self.cell(0, 6, _t(f"Données statistiques uniquement - page {self.page_no()}"), align="C")
        self.set_text_color(0, 0, 0)


def _pdf_bars(pdf: FPDF, chart: Chart) -> None:
    row, label_w, width = 5.5, 62.0, 180.0
    needed = 10 + row * max(1, len(chart.labels))
    if pdf.get_y() + needed > pdf.h - 20:
        pdf.add_page()
    pdf.set_font("helvetica", "B", 10)
    pdf.multi_cell(0, 5, _t(chart.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 8)
    numbers = [v for v in chart.values if v is not None]
    top = max(numbers) if numbers else 0.0
    scale = (width - label_w - 22) / top if top > 0 else 0.0
    x0 = pdf.l_margin
    if not chart.labels:
        pdf.cell(0, row, _t("Aucune donnée"), new_x="LMARGIN", new_y="NEXT")
    for index, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True)):
        y = pdf.get_y()
        pdf.set_xy(x0, y)
        pdf.cell(label_w - 2, row, _t(label[:40]), align="R")
        if value is None:
            pdf.set_text_color(95, 99, 104)
            pdf.cell(30, row, _t(_missing(chart, index)))
            pdf.set_text_color(0, 0, 0)
        else:
            bar = max(0.4, value * scale) if value > 0 else 0.0
            pdf.set_fill_color(*_hex(_colour(chart, index)))
            if bar:
                pdf.rect(x0 + label_w, y + 0.8, bar, row - 1.6, style="F")
            pdf.set_xy(x0 + label_w + bar + 1.5, y)
            pdf.cell(20, row, _t(display(value, "decimal" if chart.unit else "count") + chart.unit))
        pdf.set_xy(x0, y + row)
    pdf.ln(3)


def render_pdf(data: ReportData) -> bytes:
    published = data.published
    pdf = _Pdf(orientation="P", unit="mm", format="A4")
    pdf.title_text = f"MNO Guinée - Rapport MEAL - {published['period']['label_fr']}"
    pdf.set_title(_t(pdf.title_text))
    pdf.set_author("MNO Gateway")
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.multi_cell(0, 8, _t(data.frame.title_fr), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    pdf.multi_cell(
        0,
        6,
        _t(
            f"Rapport au comité de pilotage - période : {published['period']['label_fr']} - "
            f"établi le {data.generated_at:%d/%m/%Y}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("helvetica", "I", 8)
    pdf.multi_cell(0, 4, _t(published["suppression"]["rule_fr"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    items = {i["code"]: i for i in published["indicators"]}
    for objective in data.frame.objectives:
        pdf.set_font("helvetica", "B", 11)
        pdf.multi_cell(
            0, 6, _t(f"{objective.ref} - {objective.statement_fr}"), new_x="LMARGIN", new_y="NEXT"
        )
        for result in objective.results:
            pdf.set_font("helvetica", "B", 9)
            pdf.multi_cell(
                0, 5, _t(f"{result.ref} - {result.statement_fr}"), new_x="LMARGIN", new_y="NEXT"
            )
            pdf.set_font("helvetica", "", 8)
            for indicator in result.indicators:
                item = items[indicator.code]
                unit = (
                    " %" if item["kind"] == "percent" else (" h" if item["unit"] == "hours" else "")
                )
                value = (
                    "masqué"
                    if item["suppressed"] and item["value"] is None
                    else (
                        display(item["value"], item["kind"])
                        + (unit if isinstance(item["value"], int | float) else "")
                    )
                )
                status = {True: "atteinte", False: "non atteinte", None: ""}[item["target_met"]]
                pdf.cell(14, 5, _t(item["ref"]))
                pdf.cell(110, 5, _t(item["name_fr"][:75]))
                pdf.cell(24, 5, _t(value), align="R")
                pdf.cell(32, 5, _t(f"cible {display(item['target'], item['kind'])}{unit} {status}"))
                pdf.ln(5)
        pdf.ln(2)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 13)
    pdf.cell(0, 8, _t("Graphiques"), new_x="LMARGIN", new_y="NEXT")
    for chart in data.charts:
        _pdf_bars(pdf, chart)
    return bytes(pdf.output())


def write(data: ReportData, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"rapport-meal-{data.period.code}"
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    html_path.write_text(render_html(data), encoding="utf-8")
    pdf_path.write_bytes(render_pdf(data))
    return html_path, pdf_path


def chart_titles(data: ReportData) -> Sequence[str]:
    return [c.title for c in data.charts]
