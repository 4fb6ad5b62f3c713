"""XLSForms: pyxform (with ODK Validate) turns them into valid XForms that keep the rules."""

from __future__ import annotations

import io
import re
from xml.etree import ElementTree

import pytest
from pyxform.xls2xform import convert

from gateway.forms.definitions import FORMS, Form, identification_form, referral_form
from gateway.forms.xlsform import xlsx_bytes
from schemas.codes import CaseCategory, DeclineReason, ServiceCategory

XF = "{http://www.w3.org/2002/xforms}"


def xform(form: Form, *, validate: bool = False) -> ElementTree.Element:
    warnings: list[str] = []
    result = convert(
        io.BytesIO(xlsx_bytes(form)), warnings=warnings, validate=validate, file_type=".xlsx"
    )
    assert warnings == []
    return ElementTree.fromstring(result.xform)  # noqa: S314 - pyxform's output of our form


def binds(root: ElementTree.Element) -> dict[str, dict[str, str]]:
    found = {}
    for bind in root.iter(f"{XF}bind"):
        name = bind.get("nodeset", "").rsplit("/", 1)[-1]
        found[name] = {k: v for k, v in bind.attrib.items() if k != "nodeset"}
    return found


@pytest.mark.parametrize("make", FORMS, ids=lambda f: f.__name__)
def test_odk_validate_accepts_the_xform(make: type) -> None:
    root = xform(make(), validate=True)  # runs ODK Validate (Java) shipped with pyxform
    assert root.tag == "{http://www.w3.org/1999/xhtml}html"


def test_labels_are_french_first_with_english() -> None:
    root = xform(referral_form())
    languages = [t.get("lang") for t in root.iter(f"{XF}translation")]
    assert languages == ["Français (fr)", "English (en)"]
    default = next(t for t in root.iter(f"{XF}translation") if t.get("default"))
    assert default.get("lang") == "Français (fr)"
    texts = ElementTree.tostring(root, encoding="unicode")
    assert "Motif du refus" in texts
    assert "Decline reason" in texts


def test_choice_lists_are_the_contract_code_lists() -> None:
    texts = ElementTree.tostring(xform(referral_form()), encoding="unicode")
    for codes in (CaseCategory, ServiceCategory, DeclineReason):
        for code in codes:
            assert f"<name>{code.value}</name>" in texts, code


def test_decline_reason_and_outcome_only_when_declining_or_completing() -> None:
    found = binds(xform(referral_form()))
    assert found["reason_code"]["relevant"] == " /data/response/response_action  = 'decline'"
    assert found["reason_code"]["required"] == "true()"
    assert "'complete'" in found["outcome"]["relevant"]
    assert "'decline'" in found["alternative_referral_id"]["relevant"]
    assert "'cancel'" in found["alternative_referral_id"]["relevant"]


def test_minor_rules_match_the_schema() -> None:
    found = binds(xform(identification_form()))
    minor = found["is_minor"]["calculate"]
    for band in ("0-4", "5-11", "12-14", "15-17"):
        assert f"'{band}'" in minor
    assert "'18-24'" not in minor
    assert "is_minor" in found["is_unaccompanied"]["relevant"]
    assert "is_minor" in found["guardian_consent"]["relevant"]
    assert found["guardian_consent"]["constraint"] == ". = 'yes'"
    assert found["child_assent"]["required"] == "true()"
    # Recipients: agency kinds or agency codes, at least one of them.
    assert "count-selected" in found["recipient_agencies"]["required"]


def test_patterns_come_from_the_contract() -> None:
    found = binds(xform(referral_form()))
    assert "^[A-Z][A-Z0-9-]{1,31}$" in found["receiving_agency"]["constraint"]
    assert "!=  /data/referral/referring_agency" in found["receiving_agency"]["constraint"]
    assert re.search(r"regex\(\., '\^\[A-Za-z0-9\]", found["receiving_service"]["constraint"])


def test_form_version_changes_with_the_content() -> None:
    form = referral_form()
    assert re.fullmatch(r"1\.0-[0-9a-f]{8}", form.version)
    changed = Form(
        form.form_id, form.title_fr, form.title_en, form.intro_fr, form.questions[1:], form.choices
    )
    assert changed.version != form.version
