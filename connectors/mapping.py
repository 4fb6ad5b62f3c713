"""From one legacy row to one referral: the YAML mapping, value maps, pseudonymisation, JWE.

A mapping says which columns identify the person (pseudonymised with the linkage kit, and
encrypted for the receiving agency as the referral's ``protected`` payload), which columns fill
which field of the referral schema, how legacy codes translate to the code lists, and the
defaults. Identifying values never leave this module in clear: not in the referral body, not in
a rejection reason, not in a log line.

A YAML mapping::

    identity:                 # pseudonymised and encrypted, never sent in clear
      family: nom
      given: prenoms
      birth_date: date_naissance
      sex: sexe
      phone: telephone
    protected: [adresse]      # encrypted only
    fields:
      receiving_agency: {default: CDS-KANKAN}
      case_category: {column: categorie, values: {RET: returning_migrant}}
      services_requested: {column: besoins, split: ",", values: {SANTE: medical}}
      subject.sex: {column: sexe, values: {M: male, F: female}, default: unknown}
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key
from pydantic import ValidationError

from connectors.pseudonym.encoder import LinkageEncoding, Pseudonymiser
from connectors.pseudonym.normalise import fold_text
from schemas.codes import (
    AREA_CODES,
    MINOR_AGE_BANDS,
    NATIONALITY_PATTERN,
    AgeBand,
    CaseCategory,
    Language,
    ServiceCategory,
    Sex,
    Urgency,
    VulnerabilityCriterion,
    age_band_for_age,
    age_band_for_birth_year,
)
from schemas.common import (
    AGENCY_CODE_PATTERN,
    SERVICE_ID_PATTERN,
    SHORT_REFERENCE_PATTERN,
)
from schemas.referral import ReferralCreate

PROTECTED_FORMAT: Final = "mno-protected/1"
# ECDH-ES key agreement for EC/OKP keys, RSA-OAEP-256 for RSA keys; content always A256GCM.
JWE_ALGORITHMS: Final = ("ECDH-ES+A256KW", "RSA-OAEP-256", "A256GCM")


class ConnectorError(Exception):
    """A problem the person running the connector must fix, in French and English."""

    def __init__(self, message_fr: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_fr = message_fr
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.message_fr} / {self.message_en}"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one row cannot become a referral: the field, its column, the reason (fr, en)."""

    field: str
    reason_fr: str
    reason_en: str
    column: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "field": self.field,
            "column": self.column,
            "reason_fr": self.reason_fr,
            "reason_en": self.reason_en,
        }


class RowRejected(Exception):
    """The row breaks the mapping or the schema; it goes to quarantine with the reasons."""

    def __init__(self, rejections: Sequence[Rejection]) -> None:
        super().__init__("; ".join(r.reason_en for r in rejections))
        self.rejections = list(rejections)


# --------------------------------------------------------------------------------- targets


def _code_check(codes: Iterable[str]) -> Callable[[Any], Any]:
    known = {c.casefold(): c for c in codes}

    def check(value: Any) -> Any:
        found = known.get(str(value).strip().casefold())
        if found is None:
            raise ValueError(str(value))
        return found

    return check


def _pattern_check(pattern: str, upper: bool = False) -> Callable[[Any], Any]:
    compiled = re.compile(pattern)

    def check(value: Any) -> Any:
        text = str(value).strip()
        if upper:
            text = text.upper()
        if not compiled.match(text):
            raise ValueError(text)
        return text

    return check


_TRUE = {"1", "true", "oui", "o", "yes", "y", "vrai", "x"}
_FALSE = {"0", "false", "non", "n", "no", "faux"}


def _bool_check(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = fold_text(str(value))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(str(value))


def _int_check(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+(\.0+)?", text):
        return int(float(text))
    raise ValueError(text)


def _uuid_check(value: Any) -> Any:
    return str(uuid.UUID(str(value).strip()))


def _enum(codes: type[StrEnum]) -> Callable[[Any], Any]:
    return _code_check(c.value for c in codes)


@dataclass(frozen=True)
class Target:
    """A field of the referral a column may fill: how to check one value, list or scalar."""

    check: Callable[[Any], Any]
    is_list: bool = False


TARGETS: Final[dict[str, Target]] = {
    "receiving_agency": Target(_pattern_check(AGENCY_CODE_PATTERN, upper=True)),
    "receiving_service": Target(_pattern_check(SERVICE_ID_PATTERN)),
    "case_category": Target(_enum(CaseCategory)),
    "vulnerabilities": Target(_enum(VulnerabilityCriterion), is_list=True),
    "services_requested": Target(_enum(ServiceCategory), is_list=True),
    "urgency": Target(_enum(Urgency)),
    "consent_id": Target(_uuid_check),
    "external_reference": Target(_pattern_check(SHORT_REFERENCE_PATTERN)),
    "subject.sex": Target(_enum(Sex)),
    "subject.age_band": Target(_enum(AgeBand)),
    "subject.age": Target(_int_check),  # years; becomes the age band
    "subject.birth_year": Target(_int_check),
    "subject.nationality": Target(_pattern_check(NATIONALITY_PATTERN, upper=True)),
    "subject.area_code": Target(_code_check(AREA_CODES)),
    "subject.languages": Target(_enum(Language), is_list=True),
    "subject.is_minor": Target(_bool_check),
    "subject.is_unaccompanied": Target(_bool_check),
}
IDENTITY_ROLES: Final = (
    "given",
    "family",
    "full_name",
    "birth_date",
    "sex",
    "phone",
    "id_number",
    "birth_place",
)
REQUIRED_TARGETS: Final = ("receiving_agency", "case_category", "services_requested")
# Coarse values that may come from an identifying column (a year, not the birth date).
_COARSE_TARGETS: Final = frozenset({"subject.sex", "subject.age", "subject.birth_year"})


def value_key(value: Any) -> str:
    """How a legacy code is compared with the keys of a value map: folded, 1.0 → 1."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+\.0+", text):  # a code read from a spreadsheet as a number
        text = text.split(".")[0]
    return fold_text(text)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class FieldSpec:
    """One target field: the column it comes from, its value map, split and default."""

    target: str
    column: str | None = None
    values: Mapping[str, Any] | None = None  # folded legacy code → code (None = drop)
    split: str | None = None
    default: Any = None


@dataclass(frozen=True)
class RowMapping:
    """A whole mapping, checked at load: every target exists, every mapped code is valid."""

    identity: Mapping[str, str]  # identity role → column
    protected: tuple[str, ...]
    fields: Mapping[str, FieldSpec]

    @classmethod
    def from_dict(cls, data: Any) -> RowMapping:
        if not isinstance(data, Mapping):
            raise _config("mapping", "doit être un dictionnaire", "must be a mapping")
        unknown = set(data) - {"identity", "protected", "fields"}
        if unknown:
            raise _config(
                "mapping",
                f"clés inconnues : {', '.join(sorted(map(str, unknown)))}",
                f"unknown keys: {', '.join(sorted(map(str, unknown)))}",
            )
        identity = _identity(data.get("identity"))
        protected_raw = data.get("protected") or []
        if not isinstance(protected_raw, list) or not all(
            isinstance(c, str) and c for c in protected_raw
        ):
            raise _config(
                "mapping.protected", "liste de noms de colonnes", "a list of column names"
            )
        fields_raw = data.get("fields")
        if not isinstance(fields_raw, Mapping):
            raise _config("mapping.fields", "dictionnaire obligatoire", "a mapping is required")
        fields = {str(t): _field_spec(str(t), spec) for t, spec in fields_raw.items()}
        for target in REQUIRED_TARGETS:
            if target not in fields:
                raise _config(
                    f"mapping.fields.{target}",
                    "champ obligatoire : indiquez une colonne ou une valeur par défaut",
                    "required field: give a column or a default",
                )
        mapping = cls(identity=identity, protected=tuple(protected_raw), fields=fields)
        leaked = mapping.identifying_columns() & {
            spec.column
            for spec in fields.values()
            if spec.column is not None and spec.target not in _COARSE_TARGETS
        }
        if leaked:
            # A name or phone mapped to a clear field would leave the agency unencrypted.
            raise _config(
                "mapping.fields",
                f"colonnes identifiantes envoyées en clair : {', '.join(sorted(leaked))}",
                f"identifying columns sent in clear: {', '.join(sorted(leaked))}",
            )
        return mapping

    def identifying_columns(self) -> set[str]:
        return {c for role, c in self.identity.items() if role != "sex"} | set(self.protected)

    def columns(self) -> list[str]:
        """Every column the mapping reads, each once, in a stable order."""
        seen: dict[str, None] = {}
        for column in self.identity.values():
            seen.setdefault(column, None)
        for column in self.protected:
            seen.setdefault(column, None)
        for spec in self.fields.values():
            if spec.column is not None:
                seen.setdefault(spec.column, None)
        return list(seen)

    def column_of(self, target: str) -> str | None:
        spec = self.fields.get(target)
        return spec.column if spec is not None else None


def _config(where: str, fr: str, en: str) -> ConnectorError:
    return ConnectorError(
        f"Configuration invalide ({where}) : {fr}", f"Invalid configuration ({where}): {en}"
    )


def _identity(data: Any) -> dict[str, str]:
    if not isinstance(data, Mapping):
        raise _config(
            "mapping.identity",
            "indiquez les colonnes identifiantes (nom, prénoms, date de naissance…)",
            "give the identifying columns (names, birth date…)",
        )
    unknown = set(data) - set(IDENTITY_ROLES)
    if unknown:
        raise _config(
            "mapping.identity",
            f"rôles inconnus : {', '.join(sorted(map(str, unknown)))} "
            f"(connus : {', '.join(IDENTITY_ROLES)})",
            f"unknown roles: {', '.join(sorted(map(str, unknown)))} "
            f"(known: {', '.join(IDENTITY_ROLES)})",
        )
    identity = {str(role): str(column) for role, column in data.items() if column}
    if not {"given", "family", "full_name"} & identity.keys():
        raise _config(
            "mapping.identity",
            "il faut une colonne de nom (given/family ou full_name)",
            "a name column is required (given/family or full_name)",
        )
    return identity


def _field_spec(target: str, spec: Any) -> FieldSpec:
    where = f"mapping.fields.{target}"
    if target not in TARGETS:
        raise _config(
            where,
            f"champ inconnu (connus : {', '.join(TARGETS)})",
            f"unknown field (known: {', '.join(TARGETS)})",
        )
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, Mapping):
        raise _config(where, "colonne ou dictionnaire attendu", "a column or a mapping expected")
    unknown = set(spec) - {"column", "values", "split", "default"}
    if unknown:
        raise _config(
            where,
            f"clés inconnues : {', '.join(sorted(map(str, unknown)))}",
            f"unknown keys: {', '.join(sorted(map(str, unknown)))}",
        )
    check = TARGETS[target]
    column = spec.get("column")
    if column is not None and not isinstance(column, str):
        raise _config(where, "column doit être un nom de colonne", "column must be a column name")
    values: dict[str, Any] | None = None
    raw_values = spec.get("values")
    if raw_values is not None:
        if not isinstance(raw_values, Mapping):
            raise _config(where, "values doit être un dictionnaire", "values must be a mapping")
        values = {}
        for legacy, code in raw_values.items():
            if code is not None:
                try:
                    code = check.check(code)
                except ValueError:
                    raise _config(
                        where,
                        f"« {code} » n'est pas un code valide pour {target}",
                        f"'{code}' is not a valid code for {target}",
                    ) from None
            values[value_key(legacy)] = code
    default = spec.get("default")
    if default is not None:
        try:
            default = (
                [check.check(v) for v in default]
                if check.is_list and isinstance(default, list)
                else check.check(default)
            )
        except ValueError:
            raise _config(
                where,
                f"valeur par défaut invalide : « {default} »",
                f"invalid default: '{default}'",
            ) from None
        if check.is_list and not isinstance(default, list):
            default = [default]
    split = spec.get("split")
    if split is not None and (not isinstance(split, str) or not split):
        raise _config(where, "split doit être un séparateur", "split must be a separator")
    if split is not None and not check.is_list:
        raise _config(where, "split ne vaut que pour une liste", "split applies to lists only")
    if column is None and default is None:
        raise _config(where, "indiquez column ou default", "give column or default")
    return FieldSpec(target=target, column=column, values=values, split=split, default=default)


# --------------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class MappedRow:
    """A row ready to send, before encryption: the body, and what goes into the JWE."""

    receiving_agency: str
    body: dict[str, Any]  # a valid ReferralCreate without ``protected``
    protected: dict[str, Any]  # the clear payload, encrypted just before sending


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def row_fingerprint(values: Mapping[str, Any]) -> str:
    """A digest of a row's values (kept locally only, to tell a corrected row from a repeat)."""
    canonical = json.dumps(
        {k: _json_value(v) for k, v in values.items()}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


_ERROR_TEXT: Final[dict[str, tuple[str, str]]] = {
    "missing": ("valeur obligatoire absente", "required value missing"),
    "enum": ("code inconnu", "unknown code"),
    "literal_error": ("code inconnu", "unknown code"),
    "string_pattern_mismatch": ("format invalide", "invalid format"),
    "too_short": ("au moins une valeur est requise", "at least one value is required"),
    "too_long": ("trop de valeurs", "too many values"),
    "greater_than_equal": ("valeur trop petite", "value too small"),
    "less_than_equal": ("valeur trop grande", "value too large"),
    "int_parsing": ("nombre entier attendu", "integer expected"),
    "uuid_parsing": ("identifiant UUID attendu", "UUID expected"),
}


class RowMapper:
    """Turns legacy rows into referral bodies with the mapping and the linkage kit."""

    def __init__(
        self,
        mapping: RowMapping,
        pseudonymiser: Pseudonymiser,
        *,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.mapping = mapping
        self._pseudonymiser = pseudonymiser
        self._today = today

    def map(self, values: Mapping[str, Any]) -> MappedRow:
        """The referral of one row, or ``RowRejected`` with every problem found."""
        rejections: list[Rejection] = []
        fields: dict[str, Any] = {}
        for target, spec in self.mapping.fields.items():
            try:
                value = self._field(spec, values)
            except RowRejected as exc:
                rejections.extend(exc.rejections)
                continue
            if value is not None:
                fields[target] = value
        encoding = self._encode(values, rejections)
        if rejections:
            raise RowRejected(rejections)
        assert encoding is not None  # noqa: S101 - a missing encoding is a rejection above
        subject = self._subject(fields, encoding, rejections)
        if rejections:
            raise RowRejected(rejections)
        body: dict[str, Any] = {
            "receiving_agency": fields["receiving_agency"],
            "subject": subject,
        }
        for target, value in fields.items():
            if "." not in target and target != "receiving_agency":
                body[target] = value
        try:
            model = ReferralCreate.model_validate(body)
        except ValidationError as exc:
            raise RowRejected(self._schema_rejections(exc)) from None
        return MappedRow(
            receiving_agency=model.receiving_agency,
            body=model.model_dump(mode="json", exclude_none=True),
            protected=self._protected(values, model),
        )

    def _field(self, spec: FieldSpec, values: Mapping[str, Any]) -> Any:
        target = TARGETS[spec.target]
        raw = values.get(spec.column) if spec.column is not None else None
        if is_blank(raw):
            return spec.default
        items: list[Any]
        if target.is_list:
            if spec.split is not None:
                items = [part for part in str(raw).split(spec.split) if part.strip()]
            else:
                items = [raw]
        else:
            items = [raw]
        out: list[Any] = []
        for item in items:
            code = self._code(spec, item)
            if code is not None and code not in out:
                out.append(code)
        if target.is_list:
            return out or spec.default
        return out[0] if out else spec.default

    def _code(self, spec: FieldSpec, raw: Any) -> Any:
        target = TARGETS[spec.target]
        if spec.values is not None:
            key = value_key(raw)
            if key in spec.values:
                return spec.values[key]
        try:
            return target.check(raw)
        except ValueError:
            shown = str(raw).strip()[:40]
            raise RowRejected(
                [
                    Rejection(
                        field=spec.target,
                        column=spec.column,
                        reason_fr=f"valeur inconnue « {shown} » : ajoutez-la à la table de "
                        "correspondance",
                        reason_en=f"unknown value '{shown}': add it to the value map",
                    )
                ]
            ) from None

    def _encode(
        self, values: Mapping[str, Any], rejections: list[Rejection]
    ) -> LinkageEncoding | None:
        identity = self.mapping.identity

        def get(role: str) -> Any:
            column = identity.get(role)
            value = values.get(column) if column is not None else None
            return None if is_blank(value) else value

        def text(role: str) -> str | None:
            value = get(role)
            return None if value is None else str(value)

        phone = get("phone")
        if isinstance(phone, float) and phone.is_integer():
            phone = int(phone)
        encoding = self._pseudonymiser.encode(
            given=text("given"),
            family=text("family"),
            full_name=text("full_name"),
            birth_date=get("birth_date"),
            sex=get("sex"),
            phone=phone if phone is None or isinstance(phone, int) else str(phone),
            id_number=get("id_number"),
            birth_place=get("birth_place"),
        )
        if encoding is None:
            name_column = identity.get("family") or identity.get("full_name") or identity["given"]
            rejections.append(
                Rejection(
                    field="subject.pseudonym",
                    column=name_column,
                    reason_fr="nom absent : la personne ne peut pas être pseudonymisée",
                    reason_en="no name: the person cannot be pseudonymised",
                )
            )
        return encoding

    def _subject(
        self, fields: Mapping[str, Any], encoding: LinkageEncoding, rejections: list[Rejection]
    ) -> dict[str, Any]:
        subject: dict[str, Any] = {
            "pseudonym": encoding.pseudonym,
            "tokens": list(encoding.tokens[:8]),
            "bloom": encoding.bloom_text,
        }
        birth_year = fields.get("subject.birth_year", encoding.birth_year)
        if birth_year is not None:
            subject["birth_year"] = birth_year
        band = fields.get("subject.age_band")
        try:
            if band is None and "subject.age" in fields:
                band = age_band_for_age(int(fields["subject.age"])).value
            if band is None and birth_year is not None:
                band = age_band_for_birth_year(int(birth_year), on=self._today()).value
        except ValueError:
            band = None
        if band is None:
            column = (
                self.mapping.column_of("subject.age")
                or self.mapping.column_of("subject.age_band")
                or self.mapping.identity.get("birth_date")
            )
            rejections.append(
                Rejection(
                    field="subject.age_band",
                    column=column,
                    reason_fr="âge inconnu : date de naissance, âge ou tranche d'âge requis",
                    reason_en="unknown age: birth date, age or age band required",
                )
            )
            return subject
        subject["age_band"] = band
        subject["is_minor"] = fields.get("subject.is_minor", AgeBand(band) in MINOR_AGE_BANDS)
        subject["sex"] = fields.get("subject.sex") or encoding.sex or Sex.UNKNOWN.value
        for name in ("nationality", "area_code", "languages", "is_unaccompanied"):
            value = fields.get(f"subject.{name}")
            if value is not None:
                subject[name] = value
        return subject

    def _schema_rejections(self, exc: ValidationError) -> list[Rejection]:
        out = []
        for error in exc.errors():
            target = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
            fr, en = _ERROR_TEXT.get(error["type"], ("valeur refusée", "value refused"))
            message = str(error.get("msg", ""))
            if error["type"] == "value_error":
                # The schema's own rules are written "French / English".
                text = message.removeprefix("Value error, ")
                fr, _, en = text.partition(" / ")
                en = en or fr
            out.append(
                Rejection(
                    field=target or "referral",
                    column=self.mapping.column_of(target),
                    reason_fr=f"refusé par le schéma : {fr}",
                    reason_en=f"refused by the schema: {en}",
                )
            )
        return out

    def _protected(self, values: Mapping[str, Any], model: ReferralCreate) -> dict[str, Any]:
        identity = {
            role: _json_value(values.get(column))
            for role, column in self.mapping.identity.items()
            if not is_blank(values.get(column))
        }
        details = {
            column: _json_value(values.get(column))
            for column in self.mapping.protected
            if not is_blank(values.get(column))
        }
        payload: dict[str, Any] = {
            "format": PROTECTED_FORMAT,
            "subject_pseudonym": model.subject.pseudonym,
            "identity": identity,
        }
        if details:
            payload["details"] = details
        if model.external_reference is not None:
            payload["external_reference"] = model.external_reference
        return payload

    def redacted(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The row without its identity and protected columns: what a quarantine file may keep.

        Every identity column goes, ``sex`` included: sex travels to the gateway only as the
        coarse ``subject.sex`` code, never as the source's own column in a file on disk."""
        hidden = set(self.mapping.identity.values()) | set(self.mapping.protected)
        return {k: _json_value(v) for k, v in values.items() if k not in hidden}


# --------------------------------------------------------------------------------- JWE


def jwe_header_for(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The JWE protected header for a recipient key: ECDH-ES+A256KW or RSA-OAEP-256."""
    kty = jwk.get("kty")
    if kty in ("EC", "OKP"):
        alg = "ECDH-ES+A256KW"
    elif kty == "RSA":
        alg = "RSA-OAEP-256"
    else:
        raise ConnectorError(
            f"Type de clé non pris en charge pour le chiffrement : {kty}",
            f"Unsupported key type for encryption: {kty}",
        )
    header: dict[str, Any] = {"alg": alg, "enc": "A256GCM", "cty": "application/json"}
    if isinstance(jwk.get("kid"), str):
        header["kid"] = jwk["kid"]
    return header


class Encryptor:
    """Encrypts protected payloads for recipients' public JWKs (imported once each)."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[RSAKey | ECKey | OKPKey, dict[str, Any]]] = {}

    def _key(self, jwk: Mapping[str, Any]) -> tuple[RSAKey | ECKey | OKPKey, dict[str, Any]]:
        cache_key = json.dumps(dict(jwk), sort_keys=True)
        found = self._keys.get(cache_key)
        if found is None:
            header = jwe_header_for(jwk)
            try:
                key = import_key(dict(jwk))
            except (JoseError, ValueError, TypeError) as exc:
                raise ConnectorError(
                    f"Clé publique du destinataire illisible : {exc}",
                    f"Unreadable recipient public key: {exc}",
                ) from None
            if not isinstance(key, RSAKey | ECKey | OKPKey):
                raise ConnectorError(
                    "Clé publique du destinataire d'un type inattendu",
                    "Recipient public key of an unexpected type",
                )
            found = (key, header)
            self._keys[cache_key] = found
        return found

    def encrypt(self, payload: Mapping[str, Any], jwk: Mapping[str, Any]) -> str:
        key, header = self._key(jwk)
        plaintext = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return jwe.encrypt_compact(header, plaintext, key, algorithms=list(JWE_ALGORITHMS))


def decrypt_protected(token: str, private_key: RSAKey | ECKey | OKPKey) -> dict[str, Any]:
    """The receiving agency's side: decrypt a ``protected`` payload with its private key."""
    decrypted = jwe.decrypt_compact(token, private_key, algorithms=list(JWE_ALGORITHMS))
    payload: dict[str, Any] = json.loads(decrypted.plaintext or b"{}")
    return payload
