"""``mno forms build``: every operational tool generated from the contract, into one folder."""

from __future__ import annotations

from pathlib import Path

from gateway.forms import flow
from gateway.forms.definitions import FORMS
from gateway.forms.printable import render_html, render_pdf
from gateway.forms.xlsform import write_xlsform
from gateway.policy.models import PolicyFile

PDF_NAME = "fiches-mno.pdf"


def build_all(directory: Path, policy: PolicyFile | None = None) -> list[Path]:
    """XLSForms, printable HTML and PDF, and the flow diagram (SVG, PNG)."""
    directory.mkdir(parents=True, exist_ok=True)
    forms = [make() for make in FORMS]
    written: list[Path] = []
    for form in forms:
        written.append(write_xlsform(form, directory))
        html = directory / f"{form.form_id}.html"
        html.write_text(render_html(form), encoding="utf-8")
        written.append(html)
    pdf = directory / PDF_NAME
    pdf.write_bytes(render_pdf(forms))
    written.append(pdf)
    written.extend(flow.write_flow(directory, policy))
    return written
