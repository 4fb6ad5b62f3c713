"""``mno forms build DIR``: XLSForms pyxform converts, printable HTML and PDF, the diagram."""

from __future__ import annotations

from pathlib import Path

from pyxform.xls2xform import convert
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.forms.definitions import identification_form, referral_form
from gateway.forms.flow import shown_in
from gateway.forms.fonts import font_path
from gateway.forms.printable import paper_form, render_html, render_pdf
from schemas.codes import ReferralStatus


def test_forms_build_writes_every_tool(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["forms", "build", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {
        "mno_identification.xlsx",
        "mno_referral.xlsx",
        "mno_identification.html",
        "mno_referral.html",
        "fiches-mno.pdf",
        "diagramme-flux-orientation.svg",
        "diagramme-flux-orientation.png",
    }
    for name in ("mno_identification.xlsx", "mno_referral.xlsx"):
        xml = convert(str(tmp_path / name)).xform
        assert "<h:html" in xml
    svg = (tmp_path / "diagramme-flux-orientation.svg").read_text(encoding="utf-8")
    assert shown_in(svg)[0] == {s.value for s in ReferralStatus}


def test_paper_forms_ask_what_the_xlsform_asks_in_french() -> None:
    form = referral_form()
    paper = paper_form(form)
    asked = [i.label for i in paper.items if i.kind == "question"]
    assert "Motif du refus" in asked
    assert "Personne mineure (moins de 18 ans)" in asked  # computed on a device, ticked on paper
    reason = next(i for i in paper.items if i.label == "Motif du refus")
    assert reason.condition == "si « Refuser » (obligatoire alors)"
    assert "Capacité atteinte" in reason.choices
    html = render_html(form)
    assert '<html lang="fr">' in html
    assert "Seulement seulement" not in html
    assert "☐ Capacité atteinte" in html
    assert "Decline reason" not in html  # paper is French only


def test_pdf_holds_both_forms_with_an_embedded_unicode_font() -> None:
    pdf = render_pdf([identification_form(), referral_form()])
    assert pdf.startswith(b"%PDF-")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 4  # two pages at least each
    if font_path() is not None:
        assert b"/FontFile2" in pdf  # TrueType embedded: accents and ☐ print as written
