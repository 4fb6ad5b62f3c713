"""The identification and referral forms, defined once from the contract.

Choice lists come from ``schemas.codes.CODE_LISTS``; patterns from ``schemas.common``; the
rules the models enforce become XLSForm constraints and relevance (``is_minor`` computed from
the age band as ``SubjectRef`` requires it, ``is_unaccompanied`` only for a minor, guardian
consent and child assent only — and then always — for a minor, a decline reason only when
declining, an outcome only when completing). ``xlsform`` and ``printable`` render these
definitions; neither adds a question of its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from gateway.directory.eligibility import band_range
from schemas.codes import (
    AREA_LABELS,
    AREA_PARENT,
    CODE_LISTS,
    MINOR_AGE_BANDS,
    REGION_CODES,
    AgeBand,
    ReferralAction,
    Urgency,
)
from schemas.common import (
    AGENCY_CODE_PATTERN,
    SCHEMA_VERSION,
    SERVICE_ID_PATTERN,
    SHORT_REFERENCE_PATTERN,
)

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
PHONE_PATTERN = "^[+]?[0-9 ]{6,20}$"
THIS_YEAR = "number(format-date(today(), '%Y'))"

Choice = tuple[str, str, str]  # code, French label, English label


@dataclass(frozen=True)
class Question:
    """One XLSForm survey row (also a line of the printable form)."""

    type: str
    name: str
    label_fr: str = ""
    label_en: str = ""
    hint_fr: str = ""
    hint_en: str = ""
    required: str = ""  # "yes" or an XPath expression
    relevant: str = ""
    constraint: str = ""
    constraint_fr: str = ""
    constraint_en: str = ""
    calculation: str = ""
    default: str = ""
    appearance: str = ""
    condition_fr: str = ""  # the relevance, said in French for paper
    paper: bool = True  # printed on the paper form
    paper_type: str = ""  # how paper asks a computed value (e.g. "select_one yes_no")

    @property
    def list_name(self) -> str | None:
        kind = self.paper_type or self.type
        if kind.startswith(("select_one ", "select_multiple ")):
            return kind.split(" ", 1)[1]
        return None


@dataclass(frozen=True)
class Form:
    form_id: str
    title_fr: str
    title_en: str
    intro_fr: str
    questions: tuple[Question, ...]
    choices: dict[str, tuple[Choice, ...]] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Changes whenever a question or a choice changes (ODK needs a new version)."""
        content = json.dumps(
            [[asdict(q) for q in self.questions], self.choices], sort_keys=True, ensure_ascii=False
        )
        return f"{SCHEMA_VERSION}-{hashlib.sha256(content.encode()).hexdigest()[:8]}"


def _code_list(name: str, exclude: frozenset[str] = frozenset()) -> tuple[Choice, ...]:
    entry = CODE_LISTS[name]
    return tuple((code, fr, en) for code, (fr, en) in entry.labels.items() if code not in exclude)


def _areas() -> tuple[Choice, ...]:
    """Regions, each followed by its prefectures (the contract accepts both levels)."""
    out: list[Choice] = []
    for region in sorted(REGION_CODES, key=lambda c: AREA_LABELS[c][0]):
        out.append((region, *AREA_LABELS[region]))
        for prefecture in sorted(
            (p for p, r in AREA_PARENT.items() if r == region), key=lambda c: AREA_LABELS[c][0]
        ):
            fr, en = AREA_LABELS[prefecture]
            out.append((prefecture, f"{fr} ({AREA_LABELS[region][0]})", en))
    return tuple(out)


OTHER_COUNTRY = "other"


def choice_lists() -> dict[str, tuple[Choice, ...]]:
    return {
        "yes_no": (("yes", "Oui", "Yes"), ("no", "Non", "No")),
        "sex": _code_list("sex"),
        "age_band": _code_list("age_band"),
        "nationality": (
            *_code_list("nationality"),
            (OTHER_COUNTRY, "Autre pays", "Other country"),
        ),
        "area": _areas(),
        "language": _code_list("language"),
        "case_category": _code_list("case_category"),
        "vulnerability": _code_list("vulnerability"),
        "service_category": _code_list("service_category"),
        "urgency": _code_list("urgency"),
        "response_action": _code_list("referral_action", frozenset({ReferralAction.SUBMIT.value})),
        "decline_reason": _code_list("decline_reason"),
        "outcome": _code_list("outcome"),
        "consent_method": _code_list("consent_method"),
        "consent_purpose": _code_list("consent_purpose"),
        "data_category": _code_list("data_category"),
        "agency_kind": _code_list("agency_kind"),
    }


def _regex(pattern: str) -> str:
    return f"regex(., '{pattern}')"


def _age_band_expression(age: str) -> str:
    """XPath: the age band of ``age`` (completed years), nested ifs from the code list."""
    bands = sorted(AgeBand, key=lambda b: band_range(b)[0])
    expression = f"'{bands[-1].value}'"
    for band in reversed(bands[:-1]):
        expression = f"if({age} <= {band_range(band)[1]}, '{band.value}', {expression})"
    return expression


def _minor_expression(band: str) -> str:
    minors = sorted(MINOR_AGE_BANDS, key=lambda b: band_range(b)[0])
    return " or ".join(f"{band} = '{b.value}'" for b in minors)


def _begin(name: str, fr: str, en: str, relevant: str = "", condition_fr: str = "") -> Question:
    return Question("begin_group", name, fr, en, relevant=relevant, condition_fr=condition_fr)


def _end(name: str) -> Question:
    return Question("end_group", name)


IS_MINOR = "${is_minor} = 'true'"


def subject_questions() -> list[Question]:
    """The person's coded profile, as ``SubjectRef`` holds it (no identity here)."""
    return [
        _begin("subject", "Profil de la personne (données codées)", "Person's profile (coded)"),
        Question(
            "select_one yes_no",
            "birth_year_known",
            "L'année de naissance est-elle connue ?",
            "Is the year of birth known?",
            required="yes",
        ),
        Question(
            "integer",
            "birth_year",
            "Année de naissance",
            "Year of birth",
            hint_fr="Quatre chiffres, ex. 2001.",
            hint_en="Four digits, e.g. 2001.",
            required="yes",
            relevant="${birth_year_known} = 'yes'",
            constraint=f". >= 1900 and . <= {THIS_YEAR}",
            constraint_fr="Année entre 1900 et l'année en cours.",
            constraint_en="Year between 1900 and the current year.",
            condition_fr="si l'année de naissance est connue",
        ),
        Question(
            "select_one age_band",
            "age_band_declared",
            "Tranche d'âge estimée",
            "Estimated age band",
            required="yes",
            relevant="${birth_year_known} = 'no'",
            condition_fr="si l'année de naissance est inconnue",
        ),
        Question(
            "calculate",
            "age_years",
            calculation=f"if(${{birth_year_known}} = 'yes', {THIS_YEAR} - ${{birth_year}}, '')",
            paper=False,
        ),
        Question(
            "calculate",
            "age_band",
            calculation=(
                f"if(${{birth_year_known}} = 'yes', {_age_band_expression('${age_years}')}, "
                "${age_band_declared})"
            ),
            paper=False,
        ),
        Question(
            "calculate",
            "is_minor",
            "Personne mineure (moins de 18 ans)",
            "Minor (under 18)",
            hint_fr="Calculé depuis la tranche d'âge.",
            hint_en="Computed from the age band.",
            calculation=f"if({_minor_expression('${age_band}')}, 'true', 'false')",
            paper_type="select_one yes_no",
        ),
        Question(
            "note",
            "minor_note",
            "Personne mineure : le consentement du parent ou du tuteur et l'assentiment de "
            "l'enfant sont requis.",
            "Minor: the consent of a parent or guardian and the child's assent are required.",
            relevant=IS_MINOR,
            paper=False,
        ),
        Question("select_one sex", "sex", "Sexe", "Sex", required="yes"),
        Question(
            "select_one nationality",
            "nationality",
            "Nationalité",
            "Nationality",
            appearance="autocomplete",
        ),
        Question(
            "text",
            "nationality_other",
            "Code du pays (ISO 3166-1, deux lettres majuscules)",
            "Country code (ISO 3166-1, two capital letters)",
            required="yes",
            relevant=f"${{nationality}} = '{OTHER_COUNTRY}'",
            constraint=_regex("^[A-Z]{2}$"),
            constraint_fr="Deux lettres majuscules, ex. NE.",
            constraint_en="Two capital letters, e.g. NE.",
            condition_fr="si « Autre pays »",
        ),
        Question(
            "select_one area",
            "area_code",
            "Zone de résidence actuelle (préfecture ou région)",
            "Current area of residence (prefecture or region)",
            appearance="autocomplete",
        ),
        Question(
            "select_multiple language",
            "languages",
            "Langues parlées",
            "Languages spoken",
            constraint="count-selected(.) <= 8",
            constraint_fr="Huit langues au plus.",
            constraint_en="Eight languages at most.",
        ),
        Question(
            "select_one yes_no",
            "is_unaccompanied",
            "Enfant non accompagné (sans parent ni personne qui en a la charge) ?",
            "Unaccompanied child (without parent or usual caregiver)?",
            required="yes",
            relevant=IS_MINOR,
            condition_fr="si la personne est mineure",
        ),
        _end("subject"),
    ]


def case_questions(services_name: str, services_fr: str, services_en: str) -> list[Question]:
    return [
        _begin("case", "Situation", "Situation"),
        Question(
            "select_one case_category",
            "case_category",
            "Catégorie de cas",
            "Case category",
            required="yes",
        ),
        Question(
            "select_multiple vulnerability",
            "vulnerabilities",
            "Critères de vulnérabilité",
            "Vulnerability criteria",
            hint_fr="Cochez tout ce qui s'applique.",
            hint_en="Tick all that apply.",
            constraint=(
                "(not(selected(., 'unaccompanied_child')) and not(selected(., "
                f"'separated_child'))) or {IS_MINOR}"
            ),
            constraint_fr="« Enfant non accompagné » ou « séparé » seulement pour un mineur.",
            constraint_en="'Unaccompanied' or 'separated child' only for a minor.",
        ),
        Question(
            "select_multiple service_category",
            services_name,
            services_fr,
            services_en,
            hint_fr="Au moins une catégorie.",
            hint_en="At least one category.",
            required="yes",
        ),
        _end("case"),
    ]


def identification_form() -> Form:
    consent = "${consent_given} = 'yes'"
    minor_consent = f"{consent} and {IS_MINOR}"
    questions = [
        _begin("agency", "Agence", "Agency"),
        Question(
            "text",
            "agency_code",
            "Code de votre agence",
            "Your agency code",
            hint_fr="Code de l'annuaire du MNO, ex. OIM-DEMO.",
            hint_en="MNO directory code, e.g. OIM-DEMO.",
            required="yes",
            constraint=_regex(AGENCY_CODE_PATTERN),
            constraint_fr="Majuscules, chiffres et tirets (2 à 32).",
            constraint_en="Capitals, digits and hyphens (2 to 32).",
        ),
        Question(
            "text",
            "external_reference",
            "Numéro de dossier de l'agence (non identifiant)",
            "Agency case number (non-identifying)",
            constraint=_regex(SHORT_REFERENCE_PATTERN),
            constraint_fr="Lettres, chiffres et . _ : / - (64 au plus).",
            constraint_en="Letters, digits and . _ : / - (64 at most).",
        ),
        Question(
            "date",
            "identification_date",
            "Date de l'identification",
            "Date of identification",
            required="yes",
            default="today()",
            constraint=". <= today()",
            constraint_fr="Pas de date future.",
            constraint_en="No future date.",
        ),
        _end("agency"),
        _begin(
            "identity",
            "Identité — confidentielle, reste dans l'agence",
            "Identity — confidential, stays in the agency",
        ),
        Question(
            "note",
            "identity_note",
            "Ces informations ne quittent l'agence que pseudonymisées (mno pseudonymise) ou "
            "chiffrées pour l'agence destinataire. Ne jamais les envoyer par e-mail ni SMS.",
            "This leaves the agency only pseudonymised (mno pseudonymise) or encrypted for the "
            "receiving agency. Never send it by e-mail or SMS.",
        ),
        Question("text", "given", "Prénom(s)", "Given name(s)", required="yes"),
        Question("text", "family", "Nom de famille", "Family name", required="yes"),
        Question(
            "date",
            "birth_date",
            "Date de naissance (si connue)",
            "Date of birth (if known)",
            constraint=". <= today()",
            constraint_fr="Pas de date future.",
            constraint_en="No future date.",
        ),
        Question(
            "text",
            "phone",
            "Téléphone (si la personne le souhaite)",
            "Phone (if the person wishes)",
            constraint=_regex(PHONE_PATTERN),
            constraint_fr="Chiffres, espaces et + seulement.",
            constraint_en="Digits, spaces and + only.",
            appearance="numbers",
        ),
        Question("text", "id_number", "Numéro de pièce d'identité", "Identity document number"),
        Question("text", "birth_place", "Lieu de naissance", "Place of birth"),
        _end("identity"),
        *subject_questions(),
        *case_questions("services_needed", "Besoins de services", "Services needed"),
        _begin("consent", "Consentement éclairé", "Informed consent"),
        Question(
            "note",
            "consent_script",
            "Expliquez : quelles informations, à qui, pour quoi, pendant combien de temps ; "
            "la personne peut refuser ou retirer son consentement à tout moment sans perdre "
            "l'aide à laquelle elle a droit.",
            "Explain what is shared, with whom, for what and for how long; the person may "
            "refuse or withdraw consent at any time without losing the assistance they are "
            "entitled to.",
        ),
        Question(
            "select_one yes_no",
            "consent_given",
            "La personne (ou son tuteur) consent-elle au partage de ses informations ?",
            "Does the person (or their guardian) consent to sharing their information?",
            required="yes",
        ),
        Question(
            "note",
            "no_consent_note",
            "Sans consentement : aucun référencement nominatif. Informez la personne des "
            "services disponibles (annuaire) ; en cas d'urgence vitale, suivez la procédure "
            "de bris de glace.",
            "Without consent: no named referral. Tell the person about the services available "
            "(directory); in a life-threatening emergency, follow the break-glass procedure.",
            relevant="${consent_given} = 'no'",
            condition_fr="si la personne refuse",
        ),
        Question(
            "select_one consent_method",
            "consent_method",
            "Mode de recueil du consentement",
            "How consent was given",
            required="yes",
            relevant=consent,
            condition_fr="si la personne consent",
        ),
        Question(
            "select_multiple consent_purpose",
            "purposes",
            "Finalités acceptées",
            "Purposes agreed to",
            required="yes",
            relevant=consent,
            condition_fr="si la personne consent",
        ),
        Question(
            "select_multiple data_category",
            "data_categories",
            "Catégories de données partageables",
            "Data categories that may be shared",
            required="yes",
            relevant=consent,
            condition_fr="si la personne consent",
        ),
        Question(
            "select_multiple agency_kind",
            "recipient_kinds",
            "Destinataires autorisés : types d'agence",
            "Permitted recipients: agency kinds",
            relevant=consent,
            condition_fr="si la personne consent ; ce champ ou le suivant au moins",
        ),
        Question(
            "text",
            "recipient_agencies",
            "Destinataires autorisés : codes d'agence",
            "Permitted recipients: agency codes",
            hint_fr="Séparés par des espaces, ex. SANTE-DEMO PSY-DEMO.",
            hint_en="Space-separated, e.g. SANTE-DEMO PSY-DEMO.",
            required="count-selected(${recipient_kinds}) = 0",
            relevant=consent,
            constraint=_regex("^[A-Z][A-Z0-9-]{1,31}( [A-Z][A-Z0-9-]{1,31})*$"),
            constraint_fr="Codes d'agence séparés par un espace.",
            constraint_en="Agency codes separated by one space.",
            condition_fr="si la personne consent",
        ),
        Question(
            "date",
            "valid_until",
            "Consentement valable jusqu'au (facultatif)",
            "Consent valid until (optional)",
            relevant=consent,
            constraint=". > today()",
            constraint_fr="Date future.",
            constraint_en="A future date.",
            condition_fr="si la personne consent",
        ),
        Question(
            "select_one yes_no",
            "guardian_consent",
            "Le parent ou le tuteur a-t-il consenti ?",
            "Did the parent or guardian consent?",
            required="yes",
            relevant=minor_consent,
            constraint=". = 'yes'",
            constraint_fr="Un mineur exige le consentement du parent ou du tuteur.",
            constraint_en="A minor requires the consent of a parent or guardian.",
            condition_fr="si la personne est mineure (obligatoirement « Oui »)",
        ),
        Question(
            "select_one yes_no",
            "child_assent",
            "L'enfant a-t-il donné son assentiment ?",
            "Did the child assent?",
            required="yes",
            relevant=minor_consent,
            condition_fr="si la personne est mineure",
        ),
        Question(
            "text",
            "evidence_reference",
            "Code du formulaire de consentement signé conservé par l'agence",
            "Code of the signed consent form kept by the agency",
            relevant=consent,
            constraint=_regex(SHORT_REFERENCE_PATTERN),
            constraint_fr="Lettres, chiffres et . _ : / - (64 au plus).",
            constraint_en="Letters, digits and . _ : / - (64 at most).",
            condition_fr="si la personne consent",
        ),
        _end("consent"),
    ]
    return Form(
        "mno_identification",
        "Fiche d'identification et de consentement — MNO",
        "Identification and consent form — NRM",
        "À remplir par l'agence qui identifie la personne. L'identité reste dans l'agence ; "
        "seuls des codes et des pseudonymes sont transmis à la passerelle.",
        tuple(questions),
        choice_lists(),
    )


def referral_form() -> Form:
    action = "${response_action}"
    questions = [
        _begin("referral", "Référencement", "Referral"),
        Question(
            "text",
            "referring_agency",
            "Code de l'agence qui oriente",
            "Referring agency code",
            required="yes",
            constraint=_regex(AGENCY_CODE_PATTERN),
            constraint_fr="Majuscules, chiffres et tirets (2 à 32).",
            constraint_en="Capitals, digits and hyphens (2 to 32).",
        ),
        Question(
            "text",
            "receiving_agency",
            "Code de l'agence destinataire",
            "Receiving agency code",
            hint_fr="Voir l'annuaire des prestataires (/annuaire).",
            hint_en="See the service directory (/annuaire).",
            required="yes",
            constraint=f"{_regex(AGENCY_CODE_PATTERN)} and . != ${{referring_agency}}",
            constraint_fr="Code d'agence valide, différent de l'agence qui oriente.",
            constraint_en="A valid agency code, other than the referring agency.",
        ),
        Question(
            "text",
            "receiving_service",
            "Identifiant du service dans l'annuaire (facultatif)",
            "Directory service id (optional)",
            hint_fr="La passerelle refuse un service fermé ou pour lequel la personne n'est "
            "pas éligible.",
            hint_en="The gateway refuses a closed service or one the person is not eligible for.",
            constraint=_regex(SERVICE_ID_PATTERN),
            constraint_fr="Lettres, chiffres et . _ - (64 au plus).",
            constraint_en="Letters, digits and . _ - (64 at most).",
        ),
        Question(
            "select_one urgency",
            "urgency",
            "Urgence",
            "Urgency",
            required="yes",
            default=Urgency.NORMAL.value,
        ),
        Question(
            "text",
            "consent_id",
            "Identifiant du consentement enregistré (facultatif)",
            "Recorded consent id (optional)",
            constraint=_regex(UUID_PATTERN),
            constraint_fr="Identifiant UUID, ex. 5f0c…",
            constraint_en="A UUID.",
        ),
        Question(
            "text",
            "external_reference",
            "Numéro de dossier de l'agence qui oriente (non identifiant)",
            "Referring agency's case number (non-identifying)",
            constraint=_regex(SHORT_REFERENCE_PATTERN),
            constraint_fr="Lettres, chiffres et . _ : / - (64 au plus).",
            constraint_en="Letters, digits and . _ : / - (64 at most).",
        ),
        _end("referral"),
        *subject_questions(),
        *case_questions("services_requested", "Services demandés", "Services requested"),
        _begin(
            "response",
            "Suivi par les agences (statut du référencement)",
            "Follow-up by the agencies (referral status)",
        ),
        Question(
            "select_one response_action",
            "response_action",
            "Action",
            "Action",
            hint_fr="Accuser réception, accepter, refuser, terminer : agence destinataire ; "
            "annuler : agence qui oriente ; clôturer : l'une ou l'autre.",
            hint_en="Acknowledge, accept, decline, complete: receiving agency; cancel: "
            "referring agency; close: either.",
        ),
        Question(
            "date",
            "response_date",
            "Date de l'action",
            "Date of the action",
            required="yes",
            default="today()",
            relevant=f"{action} != ''",
            constraint=". <= today()",
            constraint_fr="Pas de date future.",
            constraint_en="No future date.",
            condition_fr="si une action est cochée",
        ),
        Question(
            "select_one decline_reason",
            "reason_code",
            "Motif du refus",
            "Decline reason",
            required="yes",
            relevant=f"{action} = '{ReferralAction.DECLINE.value}'",
            condition_fr="si « Refuser » (obligatoire alors)",
        ),
        Question(
            "select_one outcome",
            "outcome",
            "Résultat pour la personne",
            "Outcome for the person",
            required="yes",
            relevant=f"{action} = '{ReferralAction.COMPLETE.value}'",
            condition_fr="si « Terminer » (obligatoire alors)",
        ),
        Question(
            "text",
            "alternative_referral_id",
            "Identifiant du nouveau référencement proposé (facultatif)",
            "Id of the alternative referral (optional)",
            relevant=(
                f"{action} = '{ReferralAction.DECLINE.value}' or "
                f"{action} = '{ReferralAction.CANCEL.value}'"
            ),
            constraint=_regex(UUID_PATTERN),
            constraint_fr="Identifiant UUID.",
            constraint_en="A UUID.",
            condition_fr="si « Refuser » ou « Annuler »",
        ),
        _end("response"),
    ]
    return Form(
        "mno_referral",
        "Fiche de référencement — MNO",
        "Referral form — NRM",
        "À remplir par l'agence qui oriente ; la dernière partie sert au suivi du statut. "
        "Aucun nom, téléphone ni récit sur cette fiche : l'identité figure sur la fiche "
        "d'identification, conservée dans l'agence.",
        tuple(questions),
        choice_lists(),
    )


FORMS = (identification_form, referral_form)
