"""The YAML mapping: value maps, defaults, pseudonymisation, JWE, and every way a row fails."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwe
from joserfc.jwk import ECKey, OctKey, RSAKey

from connectors.mapping import (
    ConnectorError,
    Encryptor,
    RowMapper,
    RowMapping,
    RowRejected,
    decrypt_protected,
    jwe_header_for,
    row_fingerprint,
)
from connectors.pseudonym.encoder import Pseudonymiser
from connectors.pseudonym.keys import LinkageKey
from connectors.runner import ConnectorConfig
from schemas.referral import ReferralCreate
from tests.connectors.conftest import example
from tests.connectors.factories import legacy_row

TODAY = date(2025, 6, 1)


@pytest.fixture(scope="module")
def mapping() -> RowMapping:
    return RowMapping.from_dict(example("dossiers_retour.yaml")["mapping"])


@pytest.fixture(scope="module")
def mapper(mapping: RowMapping) -> RowMapper:
    key = LinkageKey(key_id="mou-test-1", secret=b"k" * 32)
    return RowMapper(mapping, Pseudonymiser(key), today=lambda: TODAY)


def row(**changes: Any) -> dict[str, Any]:
    values = legacy_row(1, faults=False)
    values.update(
        nom="DIALLO",
        prenoms="Mamadou Saliou",
        date_naissance=date(1990, 4, 12),
        sexe="M",
        telephone="622 45 67 89",
        prefecture="Kankan",
        categorie="VDT",
        besoins="SANTE,PSY,AUTRE,SANTE",
        vulnerabilites="TRAITE;MAL",
        urgence=2,
        structure_orientee="Maison d'écoute Conakry",
        non_accompagne="non",
    )
    values.update(changes)
    return values


def rejections(mapper: RowMapper, values: dict[str, Any]) -> dict[str, tuple[str | None, str, str]]:
    with pytest.raises(RowRejected) as raised:
        mapper.map(values)
    return {r.field: (r.column, r.reason_fr, r.reason_en) for r in raised.value.rejections}


def test_a_legacy_row_becomes_a_valid_pseudonymous_referral(mapper: RowMapper) -> None:
    mapped = mapper.map(row())
    body = mapped.body
    assert mapped.receiving_agency == "MEC-CONAKRY"
    assert body["receiving_agency"] == "MEC-CONAKRY"
    assert body["case_category"] == "victim_of_trafficking"
    assert body["services_requested"] == ["medical", "mhpss"]  # AUTRE dropped, no duplicate
    assert body["vulnerabilities"] == ["trafficking_indicators", "serious_medical_condition"]
    assert body["urgency"] == "high"
    assert body["external_reference"] == "DR-0000001"
    subject = body["subject"]
    assert len(subject["pseudonym"]) == 43
    assert subject["tokens"]
    assert subject["bloom"]
    assert subject["birth_year"] == 1990
    assert subject["age_band"] == "35-49"
    assert subject["is_minor"] is False
    assert subject["sex"] == "male"
    assert subject["area_code"] == "GN-KA"
    assert subject["nationality"] == "GN"
    assert subject["is_unaccompanied"] is False
    ReferralCreate.model_validate(body)
    text = json.dumps(body, ensure_ascii=False)
    for identifying in ("DIALLO", "Mamadou", "Saliou", "622", "45 67 89", "1990-04-12"):
        assert identifying not in text
    # The identity goes into the payload that is encrypted for the receiver.
    assert mapped.protected["identity"]["family"] == "DIALLO"
    assert mapped.protected["identity"]["phone"] == "622 45 67 89"
    assert mapped.protected["identity"]["birth_date"] == "1990-04-12"
    assert mapped.protected["details"]["adresse"].startswith("Quartier")
    assert mapped.protected["subject_pseudonym"] == subject["pseudonym"]
    # Deterministic: the same row gives the same pseudonym.
    assert mapper.map(row()).body["subject"]["pseudonym"] == subject["pseudonym"]


def test_codes_are_matched_without_case_accents_or_spaces(mapper: RowMapper) -> None:
    body = mapper.map(row(categorie=" vdt ", prefecture="NZEREKORE", sexe="f", urgence="1.0")).body
    assert body["case_category"] == "victim_of_trafficking"
    assert body["subject"]["area_code"] == "GN-NZ"
    assert body["subject"]["sex"] == "female"
    assert body["urgency"] == "immediate"


def test_defaults_fill_empty_cells(mapper: RowMapper) -> None:
    body = mapper.map(row(urgence=None, structure_orientee="", sexe=None)).body
    assert body["urgency"] == "normal"
    assert body["receiving_agency"] == "CDS-KANKAN"
    # sex: the mapped column is empty, the default is "unknown".
    assert body["subject"]["sex"] == "unknown"


def test_a_child_is_a_minor_and_may_be_unaccompanied(mapper: RowMapper) -> None:
    body = mapper.map(row(date_naissance=date(2012, 5, 3), non_accompagne="oui")).body
    assert body["subject"]["age_band"] == "12-14"
    assert body["subject"]["is_minor"] is True
    assert body["subject"]["is_unaccompanied"] is True


def test_every_problem_of_a_row_is_reported_with_field_and_column(mapper: RowMapper) -> None:
    found = rejections(mapper, row(categorie="XYZ", besoins="SANTE,NAGER", prefecture="Paris"))
    assert set(found) == {"case_category", "services_requested", "subject.area_code"}
    column, fr, en = found["case_category"]
    assert column == "categorie"
    assert fr.startswith("valeur inconnue « XYZ »")
    assert en.startswith("unknown value 'XYZ'")
    assert "NAGER" in found["services_requested"][1]


def test_rows_without_name_or_age_are_rejected(mapper: RowMapper) -> None:
    found = rejections(mapper, row(nom=None, prenoms="  "))
    assert found["subject.pseudonym"][0] == "nom"
    assert found["subject.pseudonym"][2] == "no name: the person cannot be pseudonymised"
    found = rejections(mapper, row(date_naissance=None))
    assert found["subject.age_band"][0] == "date_naissance"
    assert "âge inconnu" in found["subject.age_band"][1]


def test_schema_rules_are_reported_in_both_languages(mapper: RowMapper) -> None:
    found = rejections(mapper, row(non_accompagne="oui"))  # an adult cannot be unaccompanied
    column, fr, en = found["subject"]
    assert fr == "refusé par le schéma : seul un mineur peut être non accompagné"
    assert en == "refused by the schema: only a minor can be unaccompanied"
    found = rejections(mapper, row(besoins="AUTRE"))  # nothing left once AUTRE is dropped
    assert found["services_requested"][0] == "besoins"
    assert "valeur obligatoire absente" in found["services_requested"][1]


def test_an_age_column_replaces_a_missing_birth_date() -> None:
    data = example("dossiers_retour.yaml")["mapping"]
    data["fields"]["subject.age"] = {"column": "age"}
    mapper = RowMapper(
        RowMapping.from_dict(data),
        Pseudonymiser(LinkageKey(key_id="k", secret=b"s" * 32)),
        today=lambda: TODAY,
    )
    body = mapper.map(row(date_naissance=None, age="16")).body
    assert body["subject"]["age_band"] == "15-17"
    assert "birth_year" not in body["subject"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fields": {"case_category": {"column": "c", "values": {"A": "nope"}}}}, "not a valid"),
        ({"fields": {"hobby": "passe_temps"}}, "unknown field"),
        ({"fields": {"external_reference": "nom"}}, "identifying columns sent in clear: nom"),
        ({"fields": {"urgency": {"column": "u", "split": ","}}}, "split applies to lists only"),
        ({"fields": {"urgency": {"values": {"1": "high"}}}}, "give column or default"),
        ({"identity": None, "_identity": {"phone": "telephone"}}, "a name column is required"),
        ({"identity": None, "_identity": {"surnom": "x", "family": "nom"}}, "unknown roles"),
        ({"extra": 1}, "unknown keys: extra"),
    ],
)
def test_mapping_mistakes_are_found_at_load(change: dict[str, Any], message: str) -> None:
    data = example("dossiers_retour.yaml")["mapping"]
    for key, value in change.items():
        if key == "_identity":
            data["identity"] = value
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    with pytest.raises(ConnectorError) as raised:
        RowMapping.from_dict(data)
    assert message in raised.value.message_en
    assert raised.value.message_fr.startswith("Configuration invalide")


def test_required_fields_must_be_mapped() -> None:
    data = example("dossiers_retour.yaml")["mapping"]
    del data["fields"]["services_requested"]
    with pytest.raises(ConnectorError, match="services_requested"):
        RowMapping.from_dict(data)


@pytest.mark.parametrize("kind", ["EC", "RSA"])
def test_payloads_are_encrypted_for_the_receivers_key(kind: str) -> None:
    private = (
        ECKey.generate_key("P-256", auto_kid=True)
        if kind == "EC"
        else RSAKey.generate_key(2048, auto_kid=True)
    )
    public = dict(private.as_dict(private=False))
    token = Encryptor().encrypt({"identity": {"family": "BARRY"}}, public)
    algorithms = ["ECDH-ES+A256KW", "RSA-OAEP-256", "A256GCM"]
    header = jwe.decrypt_compact(token, private, algorithms=algorithms).headers()
    assert header["alg"] == ("ECDH-ES+A256KW" if kind == "EC" else "RSA-OAEP-256")
    assert header["enc"] == "A256GCM"
    assert header["kid"] == public["kid"]
    assert "BARRY" not in token
    assert decrypt_protected(token, private) == {"identity": {"family": "BARRY"}}


def test_symmetric_or_broken_keys_are_refused() -> None:
    with pytest.raises(ConnectorError, match="Unsupported key type"):
        jwe_header_for(dict(OctKey.generate_key(256).as_dict()))
    with pytest.raises(ConnectorError, match="Unreadable recipient public key"):
        Encryptor().encrypt({}, {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})


def test_fingerprints_tell_a_corrected_row_from_a_repeat() -> None:
    assert row_fingerprint(row()) == row_fingerprint(row())
    assert row_fingerprint(row()) != row_fingerprint(row(categorie="RET"))


def test_example_configurations_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIERS_DB_URL", "mysql+pymysql://lecteur:x@10.0.0.5/dossiers")
    monkeypatch.setenv("MNO_CONNECTEUR_SECRET", "s3cret")
    examples = Path(__file__).resolve().parents[2] / "connectors" / "examples"
    sql = ConnectorConfig.load(examples / "dossiers_retour.yaml")
    assert sql.source_kind == "sql"
    assert sql.gateway is not None
    assert sql.gateway.client_secret() == "s3cret"
    assert sql.linkage_key_file == examples / "cle-liaison.json"
    assert sql.state_file == examples / "dossiers_retour.etat.sqlite"
    kobo = ConnectorConfig.load(examples / "kobo_identification.yaml")
    assert kobo.source_kind == "file"
    assert "identification/nom" in kobo.mapping.identifying_columns()
    with pytest.raises(ConnectorError, match="unknown keys: sourse"):
        ConnectorConfig.from_dict({**example("dossiers_retour.yaml"), "sourse": {}}, tmp_path)
    monkeypatch.delenv("DOSSIERS_DB_URL")
    with pytest.raises(ConnectorError, match="environment variable DOSSIERS_DB_URL not set"):
        ConnectorConfig.load(examples / "dossiers_retour.yaml")
