"""The flow diagram shows the whole state machine, in French, and the docs copy is current."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from gateway.forms.flow import (
    build_diagram,
    load_policy_file,
    render_png,
    render_svg,
    shown_in,
    transitions,
)
from schemas.codes import ReferralAction, ReferralStatus, label
from schemas.referral import TRANSITIONS

DOCS_COPY = Path(__file__).resolve().parents[3] / "docs" / "flow-diagram.svg"


def test_every_status_and_every_transition_is_drawn() -> None:
    states, moves, _texts = shown_in(render_svg(build_diagram()))
    assert states == {s.value for s in ReferralStatus}
    expected = {
        (action.value, source.value, rule.to_status.value)
        for action, rule in TRANSITIONS.items()
        for source in rule.from_statuses
    }
    assert moves == expected
    assert len(transitions()) == len(expected)


def test_labels_are_french() -> None:
    _states, _moves, texts = shown_in(render_svg(build_diagram()))
    for status in ReferralStatus:
        assert label(status, "fr") in texts
    for action in ReferralAction:
        assert label(action, "fr") in texts
    assert "(agence destinataire, motif requis)" in texts
    assert "Diagramme de flux d'orientation du MNO" in texts


def test_the_mou_note_comes_from_the_policy_file() -> None:
    policy = load_policy_file()
    assert policy is not None
    svg = render_svg(build_diagram(policy))
    _states, _moves, texts = shown_in(svg)
    assert "Protocole d'accord : consentement et partage" in texts
    assert f"version {policy.version}" in svg
    assert "assentiment de l'enfant dès 12 ans" in svg.replace("\n", " ")
    without = render_svg(build_diagram(None))
    assert "Protocole d'accord : consentement" not in without


def test_png_is_a_drawing_not_a_blank_page() -> None:
    image = Image.open(io.BytesIO(render_png(build_diagram(), scale=1)))
    assert image.format == "PNG"
    assert image.width > 800
    assert image.height > 500
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert len(colours) > 50


def test_the_committed_docs_copy_is_current() -> None:
    # Regenerate with: mno forms build DIR, then copy DIR/diagramme-flux-orientation.svg
    # to docs/flow-diagram.svg (see docs/directory-and-forms.md).
    assert DOCS_COPY.read_text(encoding="utf-8") == render_svg(build_diagram(load_policy_file()))
