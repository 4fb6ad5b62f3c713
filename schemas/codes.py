"""Stable code lists of the MNO contract, each code with a French and an English label.

Codes never change meaning once published: a code is added (minor change) or deprecated, never
renamed. Labels may be reworded. Every list is registered in ``CODE_LISTS`` so that the data
dictionary, the FHIR CodeSystems and the forms are generated from one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

Labels = Mapping[str, tuple[str, str]]
"""code → (French label, English label)."""


@dataclass(frozen=True)
class CodeList:
    """One registered code list: its name, titles, codes and labels."""

    name: str
    title_fr: str
    title_en: str
    labels: Labels
    codes: type[StrEnum] | None = None

    def label(self, code: str, lang: str = "fr") -> str:
        fr, en = self.labels[code]
        return fr if lang == "fr" else en


CODE_LISTS: dict[str, CodeList] = {}


def _register(
    name: str,
    title_fr: str,
    title_en: str,
    labels: Labels,
    codes: type[StrEnum] | None = None,
) -> Labels:
    # Fail at import time, not in production, when a code has no label or a label no code.
    if codes is not None and set(labels) != {c.value for c in codes}:
        missing = {c.value for c in codes} ^ set(labels)
        raise RuntimeError(f"code list {name}: labels and codes differ: {sorted(missing)}")
    for code, (fr, en) in labels.items():
        if not fr or not en:
            raise RuntimeError(f"code list {name}: empty label for {code}")
    CODE_LISTS[name] = CodeList(name, title_fr, title_en, labels, codes)
    return labels


def labels(codes: type[StrEnum]) -> Labels:
    """The (fr, en) labels of a registered enum code list."""
    for entry in CODE_LISTS.values():
        if entry.codes is codes:
            return entry.labels
    raise KeyError(codes.__name__)


def label(code: StrEnum, lang: str = "fr") -> str:
    """The label of one code in ``fr`` (default) or ``en``."""
    fr, en = labels(type(code))[code.value]
    return fr if lang == "fr" else en


# --------------------------------------------------------------------------- services


class ServiceCategory(StrEnum):
    """Category of assistance a service provides or a referral requests."""

    MEDICAL = "medical"
    MHPSS = "mhpss"
    SHELTER = "shelter"
    LEGAL_AID = "legal_aid"
    CIVIL_DOCUMENTATION = "civil_documentation"
    FAMILY_TRACING = "family_tracing"
    ECONOMIC_REINTEGRATION = "economic_reintegration"
    VOCATIONAL_TRAINING = "vocational_training"
    EDUCATION = "education"
    CASH_IN_KIND = "cash_in_kind"
    TRANSPORT = "transport"
    CHILD_PROTECTION = "child_protection"
    GBV_RESPONSE = "gbv_response"
    FOOD_NFI = "food_nfi"
    RECEPTION = "reception"
    CASE_MANAGEMENT = "case_management"
    INTERPRETATION = "interpretation"


SERVICE_CATEGORY_LABELS = _register(
    "service_category",
    "Catégorie de service",
    "Service category",
    {
        "medical": ("Soins médicaux", "Medical care"),
        "mhpss": (
            "Santé mentale et soutien psychosocial",
            "Mental health and psychosocial support",
        ),
        "shelter": ("Hébergement", "Shelter"),
        "legal_aid": ("Assistance juridique", "Legal aid"),
        "civil_documentation": ("Documentation civile", "Civil documentation"),
        "family_tracing": (
            "Recherche et réunification familiales",
            "Family tracing and reunification",
        ),
        "economic_reintegration": ("Réintégration économique", "Economic reintegration"),
        "vocational_training": ("Formation professionnelle", "Vocational training"),
        "education": ("Éducation", "Education"),
        "cash_in_kind": ("Assistance en espèces ou en nature", "Cash or in-kind assistance"),
        "transport": ("Transport", "Transport"),
        "child_protection": ("Protection de l'enfant", "Child protection"),
        "gbv_response": (
            "Prise en charge des violences basées sur le genre",
            "Gender-based violence response",
        ),
        "food_nfi": ("Vivres et articles non alimentaires", "Food and non-food items"),
        "reception": ("Accueil et orientation", "Reception and orientation"),
        "case_management": ("Gestion de cas", "Case management"),
        "interpretation": ("Interprétariat", "Interpretation"),
    },
    ServiceCategory,
)


class ServiceStatus(StrEnum):
    """Whether a service takes referrals."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


SERVICE_STATUS_LABELS = _register(
    "service_status",
    "Statut du service",
    "Service status",
    {
        "active": ("Actif", "Active"),
        "suspended": ("Suspendu temporairement", "Temporarily suspended"),
        "closed": ("Fermé", "Closed"),
    },
    ServiceStatus,
)


class FeeCode(StrEnum):
    """What the person pays for a service."""

    FREE = "free"
    SUBSIDISED = "subsidised"
    PAYING = "paying"


FEE_LABELS = _register(
    "fee",
    "Coût pour la personne",
    "Cost to the person",
    {
        "free": ("Gratuit", "Free"),
        "subsidised": ("Subventionné (participation partielle)", "Subsidised (partial fee)"),
        "paying": ("Payant", "Paying"),
    },
    FeeCode,
)


# --------------------------------------------------------------------------- people


class VulnerabilityCriterion(StrEnum):
    """Vulnerability criteria recorded at identification (several may apply)."""

    UNACCOMPANIED_CHILD = "unaccompanied_child"
    SEPARATED_CHILD = "separated_child"
    CHILD_AT_RISK = "child_at_risk"
    PREGNANT_OR_LACTATING = "pregnant_or_lactating"
    SINGLE_CAREGIVER = "single_caregiver"
    OLDER_PERSON = "older_person"
    PHYSICAL_DISABILITY = "physical_disability"
    INTELLECTUAL_OR_PSYCHOSOCIAL_DISABILITY = "intellectual_or_psychosocial_disability"
    SERIOUS_MEDICAL_CONDITION = "serious_medical_condition"
    MENTAL_HEALTH_CONDITION = "mental_health_condition"
    SURVIVOR_OF_GBV = "survivor_of_gbv"
    TRAFFICKING_INDICATORS = "trafficking_indicators"
    SURVIVOR_OF_VIOLENCE_OR_TORTURE = "survivor_of_violence_or_torture"
    DETENTION_EXPERIENCE = "detention_experience"
    AT_RISK_OF_RE_TRAFFICKING = "at_risk_of_re_trafficking"
    NO_DOCUMENTATION = "no_documentation"
    NO_FAMILY_SUPPORT = "no_family_support"
    DESTITUTION = "destitution"
    SUBSTANCE_USE = "substance_use"


VULNERABILITY_LABELS = _register(
    "vulnerability",
    "Critère de vulnérabilité",
    "Vulnerability criterion",
    {
        "unaccompanied_child": ("Enfant non accompagné", "Unaccompanied child"),
        "separated_child": ("Enfant séparé", "Separated child"),
        "child_at_risk": ("Enfant à risque", "Child at risk"),
        "pregnant_or_lactating": ("Femme enceinte ou allaitante", "Pregnant or lactating woman"),
        "single_caregiver": ("Parent ou aidant seul", "Single parent or caregiver"),
        "older_person": ("Personne âgée", "Older person"),
        "physical_disability": ("Handicap physique", "Physical disability"),
        "intellectual_or_psychosocial_disability": (
            "Handicap intellectuel ou psychosocial",
            "Intellectual or psychosocial disability",
        ),
        "serious_medical_condition": ("Problème médical grave", "Serious medical condition"),
        "mental_health_condition": ("Problème de santé mentale", "Mental health condition"),
        "survivor_of_gbv": (
            "Survivant·e de violence basée sur le genre",
            "Survivor of gender-based violence",
        ),
        "trafficking_indicators": (
            "Indicateurs de traite des personnes",
            "Indicators of trafficking in persons",
        ),
        "survivor_of_violence_or_torture": (
            "Survivant·e de violence ou de torture",
            "Survivor of violence or torture",
        ),
        "detention_experience": ("A connu la détention", "Experience of detention"),
        "at_risk_of_re_trafficking": ("Risque de nouvelle traite", "At risk of re-trafficking"),
        "no_documentation": ("Sans document d'identité", "No identity documents"),
        "no_family_support": ("Sans soutien familial", "No family support"),
        "destitution": ("Dénuement", "Destitution"),
        "substance_use": ("Usage de substances", "Substance use"),
    },
    VulnerabilityCriterion,
)


class CaseCategory(StrEnum):
    """The main profile of the person referred."""

    RETURNING_MIGRANT = "returning_migrant"
    VICTIM_OF_TRAFFICKING = "victim_of_trafficking"
    PRESUMED_VICTIM_OF_TRAFFICKING = "presumed_victim_of_trafficking"
    STRANDED_MIGRANT = "stranded_migrant"
    UASC = "uasc"
    MIGRANT_IN_TRANSIT = "migrant_in_transit"
    SMUGGLED_MIGRANT = "smuggled_migrant"
    ASYLUM_SEEKER_OR_REFUGEE = "asylum_seeker_or_refugee"
    OTHER_VULNERABLE_MIGRANT = "other_vulnerable_migrant"
    HOST_COMMUNITY_MEMBER = "host_community_member"


CASE_CATEGORY_LABELS = _register(
    "case_category",
    "Catégorie de cas",
    "Case category",
    {
        "returning_migrant": ("Migrant de retour", "Returning migrant"),
        "victim_of_trafficking": ("Victime de traite", "Victim of trafficking"),
        "presumed_victim_of_trafficking": (
            "Victime présumée de traite",
            "Presumed victim of trafficking",
        ),
        "stranded_migrant": ("Migrant bloqué", "Stranded migrant"),
        "uasc": ("Enfant non accompagné ou séparé", "Unaccompanied or separated child"),
        "migrant_in_transit": ("Migrant en transit", "Migrant in transit"),
        "smuggled_migrant": ("Migrant objet de trafic illicite", "Smuggled migrant"),
        "asylum_seeker_or_refugee": ("Demandeur d'asile ou réfugié", "Asylum seeker or refugee"),
        "other_vulnerable_migrant": ("Autre migrant vulnérable", "Other vulnerable migrant"),
        "host_community_member": ("Membre de la communauté d'accueil", "Host community member"),
    },
    CaseCategory,
)


class Sex(StrEnum):
    """Sex as recorded by the referring agency."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


SEX_LABELS = _register(
    "sex",
    "Sexe",
    "Sex",
    {
        "female": ("Féminin", "Female"),
        "male": ("Masculin", "Male"),
        "other": ("Autre", "Other"),
        "unknown": ("Inconnu", "Unknown"),
    },
    Sex,
)


class AgeBand(StrEnum):
    """Age bands used for disaggregation (children bands follow child-protection practice)."""

    Y0_4 = "0-4"
    Y5_11 = "5-11"
    Y12_14 = "12-14"
    Y15_17 = "15-17"
    Y18_24 = "18-24"
    Y25_34 = "25-34"
    Y35_49 = "35-49"
    Y50_59 = "50-59"
    Y60_PLUS = "60+"


AGE_BAND_LABELS = _register(
    "age_band",
    "Tranche d'âge",
    "Age band",
    {
        "0-4": ("0 à 4 ans", "0 to 4 years"),
        "5-11": ("5 à 11 ans", "5 to 11 years"),
        "12-14": ("12 à 14 ans", "12 to 14 years"),
        "15-17": ("15 à 17 ans", "15 to 17 years"),
        "18-24": ("18 à 24 ans", "18 to 24 years"),
        "25-34": ("25 à 34 ans", "25 to 34 years"),
        "35-49": ("35 à 49 ans", "35 to 49 years"),
        "50-59": ("50 à 59 ans", "50 to 59 years"),
        "60+": ("60 ans et plus", "60 years and over"),
    },
    AgeBand,
)

# Lower bound of each band, in order; the last band is open-ended.
_AGE_BAND_STARTS: tuple[tuple[int, AgeBand], ...] = (
    (60, AgeBand.Y60_PLUS),
    (50, AgeBand.Y50_59),
    (35, AgeBand.Y35_49),
    (25, AgeBand.Y25_34),
    (18, AgeBand.Y18_24),
    (15, AgeBand.Y15_17),
    (12, AgeBand.Y12_14),
    (5, AgeBand.Y5_11),
    (0, AgeBand.Y0_4),
)

MINOR_AGE_BANDS: frozenset[AgeBand] = frozenset(
    {AgeBand.Y0_4, AgeBand.Y5_11, AgeBand.Y12_14, AgeBand.Y15_17}
)


def age_band_for_age(age: int) -> AgeBand:
    """The band of an age in completed years."""
    if age < 0 or age > 130:
        raise ValueError(f"âge hors limites / age out of range: {age}")
    for start, band in _AGE_BAND_STARTS:
        if age >= start:
            return band
    raise AssertionError("unreachable")  # pragma: no cover


def age_band_for_birth_year(birth_year: int, on: date | None = None) -> AgeBand:
    """The band of the age reached during the year of ``on`` (today by default).

    Only the birth year is shared, so the age is the one reached this calendar year; a person
    born in December counts one year older in January. This is the convention of the MEAL plan.
    """
    year = (on or datetime.now(UTC).date()).year
    return age_band_for_age(year - birth_year)


# --------------------------------------------------------------------------- languages


class Language(StrEnum):
    """Languages spoken, as ISO 639-3 codes."""

    FRA = "fra"
    ENG = "eng"
    ARA = "ara"
    POR = "por"
    FUF = "fuf"
    EMK = "emk"
    SUS = "sus"
    KSS = "kss"
    GKP = "gkp"
    TOD = "tod"
    MEV = "mev"
    YAL = "yal"
    MNK = "mnk"
    BAM = "bam"
    WOL = "wol"
    KRI = "kri"


LANGUAGE_LABELS = _register(
    "language",
    "Langue (ISO 639-3)",
    "Language (ISO 639-3)",
    {
        "fra": ("Français", "French"),
        "eng": ("Anglais", "English"),
        "ara": ("Arabe", "Arabic"),
        "por": ("Portugais", "Portuguese"),
        "fuf": ("Pular (peul du Fouta-Djalon)", "Pular (Fuuta Jalon Fula)"),
        "emk": ("Maninka (malinké)", "Maninka (Eastern Maninkakan)"),
        "sus": ("Soussou", "Susu"),
        "kss": ("Kissi", "Kissi (Southern Kisi)"),
        "gkp": ("Kpellé (guerzé)", "Kpelle (Guinea Kpelle)"),
        "tod": ("Toma (loma)", "Toma (Loma)"),
        "mev": ("Mano", "Mano"),
        "yal": ("Djalonké", "Yalunka"),
        "mnk": ("Mandinka", "Mandinka"),
        "bam": ("Bambara", "Bambara"),
        "wol": ("Wolof", "Wolof"),
        "kri": ("Krio", "Krio"),
    },
    Language,
)


# --------------------------------------------------------------------------- places

_REGIONS: dict[str, tuple[str, str]] = {
    "GN-B": ("Région de Boké", "Boké Region"),
    "GN-C": ("Conakry (zone spéciale)", "Conakry (special zone)"),
    "GN-D": ("Région de Kindia", "Kindia Region"),
    "GN-F": ("Région de Faranah", "Faranah Region"),
    "GN-K": ("Région de Kankan", "Kankan Region"),
    "GN-L": ("Région de Labé", "Labé Region"),
    "GN-M": ("Région de Mamou", "Mamou Region"),
    "GN-N": ("Région de Nzérékoré", "Nzérékoré Region"),
}

# prefecture code → (name, parent region)
_PREFECTURES: dict[str, tuple[str, str]] = {
    "GN-BF": ("Boffa", "GN-B"),
    "GN-BK": ("Boké", "GN-B"),
    "GN-FR": ("Fria", "GN-B"),
    "GN-GA": ("Gaoual", "GN-B"),
    "GN-KN": ("Koundara", "GN-B"),
    "GN-CO": ("Coyah", "GN-D"),
    "GN-DU": ("Dubréka", "GN-D"),
    "GN-FO": ("Forécariah", "GN-D"),
    "GN-KD": ("Kindia", "GN-D"),
    "GN-TE": ("Télimélé", "GN-D"),
    "GN-DB": ("Dabola", "GN-F"),
    "GN-DI": ("Dinguiraye", "GN-F"),
    "GN-FA": ("Faranah", "GN-F"),
    "GN-KS": ("Kissidougou", "GN-F"),
    "GN-KA": ("Kankan", "GN-K"),
    "GN-KE": ("Kérouané", "GN-K"),
    "GN-KO": ("Kouroussa", "GN-K"),
    "GN-MD": ("Mandiana", "GN-K"),
    "GN-SI": ("Siguiri", "GN-K"),
    "GN-KB": ("Koubia", "GN-L"),
    "GN-LA": ("Labé", "GN-L"),
    "GN-LE": ("Lélouma", "GN-L"),
    "GN-ML": ("Mali", "GN-L"),
    "GN-TO": ("Tougué", "GN-L"),
    "GN-DL": ("Dalaba", "GN-M"),
    "GN-MM": ("Mamou", "GN-M"),
    "GN-PI": ("Pita", "GN-M"),
    "GN-BE": ("Beyla", "GN-N"),
    "GN-GU": ("Guéckédou", "GN-N"),
    "GN-LO": ("Lola", "GN-N"),
    "GN-MC": ("Macenta", "GN-N"),
    "GN-NZ": ("Nzérékoré", "GN-N"),
    "GN-YO": ("Yomou", "GN-N"),
}

REGION_CODES: frozenset[str] = frozenset(_REGIONS)
PREFECTURE_CODES: frozenset[str] = frozenset(_PREFECTURES)
AREA_PARENT: Mapping[str, str] = {code: region for code, (_, region) in _PREFECTURES.items()}
"""Prefecture → its region (ISO 3166-2:GN). Conakry (GN-C) is a region with no prefecture."""

AREA_LABELS = _register(
    "area",
    "Zone administrative (ISO 3166-2:GN)",
    "Administrative area (ISO 3166-2:GN)",
    {
        **_REGIONS,
        **{
            code: (f"Préfecture de {name}", f"{name} Prefecture")
            for code, (name, _) in _PREFECTURES.items()
        },
    },
)
AREA_CODES: frozenset[str] = frozenset(AREA_LABELS)
AREA_CODE_PATTERN = r"^GN-[A-Z]{1,2}$"


def region_of(area_code: str) -> str:
    """The region of an area code (a region is its own region)."""
    if area_code in REGION_CODES:
        return area_code
    try:
        return AREA_PARENT[area_code]
    except KeyError:
        raise ValueError(f"zone inconnue / unknown area: {area_code}") from None


# --------------------------------------------------------------------------- nationality

NATIONALITY_PATTERN = r"^[A-Z]{2}$"
NATIONALITY_LABELS = _register(
    "nationality",
    "Nationalité (ISO 3166-1 alpha-2, pays fréquents)",
    "Nationality (ISO 3166-1 alpha-2, common countries)",
    {
        "GN": ("Guinée", "Guinea"),
        "SL": ("Sierra Leone", "Sierra Leone"),
        "LR": ("Libéria", "Liberia"),
        "CI": ("Côte d'Ivoire", "Côte d'Ivoire"),
        "ML": ("Mali", "Mali"),
        "SN": ("Sénégal", "Senegal"),
        "GW": ("Guinée-Bissau", "Guinea-Bissau"),
        "GM": ("Gambie", "Gambia"),
        "BF": ("Burkina Faso", "Burkina Faso"),
        "NE": ("Niger", "Niger"),
        "NG": ("Nigéria", "Nigeria"),
        "GH": ("Ghana", "Ghana"),
        "TG": ("Togo", "Togo"),
        "BJ": ("Bénin", "Benin"),
        "MR": ("Mauritanie", "Mauritania"),
        "CV": ("Cap-Vert", "Cabo Verde"),
        "CM": ("Cameroun", "Cameroon"),
        "DZ": ("Algérie", "Algeria"),
        "LY": ("Libye", "Libya"),
        "MA": ("Maroc", "Morocco"),
        "TN": ("Tunisie", "Tunisia"),
        "ES": ("Espagne", "Spain"),
        "IT": ("Italie", "Italy"),
        "FR": ("France", "France"),
    },
)


# --------------------------------------------------------------------------- referrals


class ReferralStatus(StrEnum):
    """Where a referral stands in its life cycle."""

    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


REFERRAL_STATUS_LABELS = _register(
    "referral_status",
    "Statut du référencement",
    "Referral status",
    {
        "submitted": ("Soumis", "Submitted"),
        "acknowledged": ("Accusé de réception", "Acknowledged"),
        "accepted": ("Accepté", "Accepted"),
        "declined": ("Refusé", "Declined"),
        "completed": ("Service rendu (terminé)", "Completed"),
        "closed": ("Clôturé", "Closed"),
        "cancelled": ("Annulé", "Cancelled"),
    },
    ReferralStatus,
)


class ReferralAction(StrEnum):
    """What an agency does to a referral; ``submit`` only appears in the history."""

    SUBMIT = "submit"
    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    DECLINE = "decline"
    COMPLETE = "complete"
    CLOSE = "close"
    CANCEL = "cancel"


REFERRAL_ACTION_LABELS = _register(
    "referral_action",
    "Action sur un référencement",
    "Referral action",
    {
        "submit": ("Soumettre", "Submit"),
        "acknowledge": ("Accuser réception", "Acknowledge"),
        "accept": ("Accepter", "Accept"),
        "decline": ("Refuser", "Decline"),
        "complete": ("Terminer (service rendu ou non)", "Complete (served or not)"),
        "close": ("Clôturer", "Close"),
        "cancel": ("Annuler", "Cancel"),
    },
    ReferralAction,
)


class DeclineReason(StrEnum):
    """Why a receiving agency declines a referral."""

    NO_CAPACITY = "no_capacity"
    NOT_ELIGIBLE = "not_eligible"
    SERVICE_UNAVAILABLE = "service_unavailable"
    OUTSIDE_COVERAGE_AREA = "outside_coverage_area"
    DUPLICATE_REFERRAL = "duplicate_referral"
    INCOMPLETE_INFORMATION = "incomplete_information"
    CONSENT_MISSING_OR_INVALID = "consent_missing_or_invalid"
    BETTER_SERVED_ELSEWHERE = "better_served_elsewhere"
    SECURITY_CONSTRAINTS = "security_constraints"
    OTHER = "other"


DECLINE_REASON_LABELS = _register(
    "decline_reason",
    "Motif de refus",
    "Decline reason",
    {
        "no_capacity": ("Capacité atteinte", "No capacity"),
        "not_eligible": ("Personne non éligible au service", "Person not eligible"),
        "service_unavailable": ("Service indisponible", "Service unavailable"),
        "outside_coverage_area": ("Hors de la zone couverte", "Outside the coverage area"),
        "duplicate_referral": ("Référencement en double", "Duplicate referral"),
        "incomplete_information": ("Informations incomplètes", "Incomplete information"),
        "consent_missing_or_invalid": (
            "Consentement absent ou invalide",
            "Consent missing or invalid",
        ),
        "better_served_elsewhere": (
            "Mieux servi par une autre agence",
            "Better served by another agency",
        ),
        "security_constraints": ("Contraintes de sécurité", "Security constraints"),
        "other": ("Autre motif (codé)", "Other (coded) reason"),
    },
    DeclineReason,
)


class Outcome(StrEnum):
    """How a referral ended for the person; ``not_served_*`` measure exclusion."""

    SERVED_FULLY = "served_fully"
    SERVED_PARTIALLY = "served_partially"
    SERVED_AND_REFERRED_ONWARD = "served_and_referred_onward"
    NOT_SERVED_UNREACHABLE = "not_served_unreachable"
    NOT_SERVED_CAPACITY = "not_served_capacity"
    NOT_SERVED_INELIGIBLE = "not_served_ineligible"
    NOT_SERVED_REFUSED_BY_PERSON = "not_served_refused_by_person"
    NOT_SERVED_RELOCATED = "not_served_relocated"
    NOT_SERVED_SERVICE_UNAVAILABLE = "not_served_service_unavailable"
    NOT_SERVED_COST = "not_served_cost"
    NOT_SERVED_DISTANCE_OR_TRANSPORT = "not_served_distance_or_transport"
    NOT_SERVED_LANGUAGE = "not_served_language"
    NOT_SERVED_DOCUMENTATION = "not_served_documentation"
    NOT_SERVED_SAFETY = "not_served_safety"
    NOT_SERVED_OTHER = "not_served_other"


OUTCOME_LABELS = _register(
    "outcome",
    "Résultat pour la personne",
    "Outcome for the person",
    {
        "served_fully": ("Servi entièrement", "Fully served"),
        "served_partially": ("Servi partiellement", "Partially served"),
        "served_and_referred_onward": (
            "Servi et référé vers un autre service",
            "Served and referred onward",
        ),
        "not_served_unreachable": ("Non servi : personne injoignable", "Not served: unreachable"),
        "not_served_capacity": (
            "Non servi : capacité insuffisante",
            "Not served: insufficient capacity",
        ),
        "not_served_ineligible": ("Non servi : non éligible", "Not served: ineligible"),
        "not_served_refused_by_person": (
            "Non servi : refus de la personne",
            "Not served: refused by the person",
        ),
        "not_served_relocated": (
            "Non servi : personne partie ou déplacée",
            "Not served: person relocated",
        ),
        "not_served_service_unavailable": (
            "Non servi : service indisponible",
            "Not served: service unavailable",
        ),
        "not_served_cost": ("Non servi : coût", "Not served: cost"),
        "not_served_distance_or_transport": (
            "Non servi : distance ou transport",
            "Not served: distance or transport",
        ),
        "not_served_language": ("Non servi : barrière linguistique", "Not served: language"),
        "not_served_documentation": (
            "Non servi : documents exigés manquants",
            "Not served: required documents missing",
        ),
        "not_served_safety": ("Non servi : raison de sécurité", "Not served: safety"),
        "not_served_other": ("Non servi : autre raison (codée)", "Not served: other (coded)"),
    },
    Outcome,
)

NOT_SERVED_OUTCOMES: frozenset[Outcome] = frozenset(
    o for o in Outcome if o.value.startswith("not_served_")
)
SERVED_OUTCOMES: frozenset[Outcome] = frozenset(o for o in Outcome if o.value.startswith("served_"))


class Urgency(StrEnum):
    """Urgency chosen by the referring agency; sets the SOP deadlines."""

    IMMEDIATE = "immediate"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


URGENCY_LABELS = _register(
    "urgency",
    "Urgence",
    "Urgency",
    {
        "immediate": (
            "Immédiate (accusé sous 2 h, réponse sous 24 h)",
            "Immediate (acknowledge within 2 h, respond within 24 h)",
        ),
        "high": (
            "Élevée (accusé sous 24 h, réponse sous 72 h)",
            "High (acknowledge within 24 h, respond within 72 h)",
        ),
        "normal": (
            "Normale (accusé sous 72 h, réponse sous 7 jours)",
            "Normal (acknowledge within 72 h, respond within 7 days)",
        ),
        "low": (
            "Faible (accusé sous 7 jours, réponse sous 14 jours)",
            "Low (acknowledge within 7 days, respond within 14 days)",
        ),
    },
    Urgency,
)


class SopDeadline(NamedTuple):
    """Hours allowed by the SOP after submission."""

    acknowledge_hours: int
    respond_hours: int


SOP_DEADLINES: Mapping[Urgency, SopDeadline] = {
    Urgency.IMMEDIATE: SopDeadline(2, 24),
    Urgency.HIGH: SopDeadline(24, 72),
    Urgency.NORMAL: SopDeadline(72, 168),
    Urgency.LOW: SopDeadline(168, 336),
}


def sop_deadlines(urgency: Urgency, submitted_at: datetime) -> tuple[datetime, datetime]:
    """(acknowledge_by, respond_by) for a referral submitted at ``submitted_at``."""
    hours = SOP_DEADLINES[urgency]
    return (
        submitted_at + timedelta(hours=hours.acknowledge_hours),
        submitted_at + timedelta(hours=hours.respond_hours),
    )


# --------------------------------------------------------------------------- consent


class ConsentPurpose(StrEnum):
    """What a consent allows the data to be used for."""

    REFERRAL = "referral"
    CASE_FOLLOW_UP = "case_follow_up"
    MEAL_STATISTICS = "meal_statistics"
    RESEARCH = "research"


CONSENT_PURPOSE_LABELS = _register(
    "consent_purpose",
    "Finalité du consentement",
    "Consent purpose",
    {
        "referral": ("Référencement vers un service", "Referral to a service"),
        "case_follow_up": ("Suivi du cas", "Case follow-up"),
        "meal_statistics": (
            "Statistiques de suivi-évaluation (MEAL)",
            "Monitoring and evaluation statistics (MEAL)",
        ),
        "research": ("Recherche", "Research"),
    },
    ConsentPurpose,
)


class DataCategory(StrEnum):
    """Sensitivity class of a field; the policy permits categories per purpose and recipient."""

    IDENTITY_CONTACT = "identity_contact"
    HEALTH = "health"
    PROTECTION_SENSITIVE = "protection_sensitive"
    SOCIO_ECONOMIC = "socio_economic"
    STATISTICAL = "statistical"


DATA_CATEGORY_LABELS = _register(
    "data_category",
    "Catégorie de données",
    "Data category",
    {
        "identity_contact": ("Identité et contact", "Identity and contact"),
        "health": ("Santé", "Health"),
        "protection_sensitive": ("Protection (sensible)", "Protection-sensitive"),
        "socio_economic": ("Socio-économique", "Socio-economic"),
        "statistical": ("Statistique", "Statistical"),
    },
    DataCategory,
)


class ConsentMethod(StrEnum):
    """How the person expressed consent."""

    WRITTEN = "written"
    VERBAL = "verbal"
    THUMBPRINT = "thumbprint"


CONSENT_METHOD_LABELS = _register(
    "consent_method",
    "Mode de recueil du consentement",
    "Consent method",
    {
        "written": ("Écrit et signé", "Written and signed"),
        "verbal": ("Verbal, attesté par l'agent", "Verbal, attested by the worker"),
        "thumbprint": ("Empreinte digitale", "Thumbprint"),
    },
    ConsentMethod,
)


class ConsentStatus(StrEnum):
    """Whether a consent is in force."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


CONSENT_STATUS_LABELS = _register(
    "consent_status",
    "Statut du consentement",
    "Consent status",
    {"granted": ("Donné", "Granted"), "withdrawn": ("Retiré", "Withdrawn")},
    ConsentStatus,
)


class WithdrawalReason(StrEnum):
    """Why a consent was withdrawn."""

    REQUESTED_BY_PERSON = "requested_by_person"
    REQUESTED_BY_GUARDIAN = "requested_by_guardian"
    RECORDED_IN_ERROR = "recorded_in_error"
    PURPOSE_COMPLETED = "purpose_completed"
    SAFETY_CONCERN = "safety_concern"
    OTHER = "other"


WITHDRAWAL_REASON_LABELS = _register(
    "withdrawal_reason",
    "Motif de retrait du consentement",
    "Consent withdrawal reason",
    {
        "requested_by_person": ("Demande de la personne", "Requested by the person"),
        "requested_by_guardian": ("Demande du tuteur légal", "Requested by the guardian"),
        "recorded_in_error": ("Enregistré par erreur", "Recorded in error"),
        "purpose_completed": ("Finalité atteinte", "Purpose completed"),
        "safety_concern": ("Raison de sécurité", "Safety concern"),
        "other": ("Autre motif (codé)", "Other (coded) reason"),
    },
    WithdrawalReason,
)


# --------------------------------------------------------------------------- agencies


class AgencyKind(StrEnum):
    """Kind of member agency of the MNO."""

    GOVERNMENT = "government"
    UN = "un"
    NGO = "ngo"
    PROVIDER = "provider"


AGENCY_KIND_LABELS = _register(
    "agency_kind",
    "Type d'agence",
    "Agency kind",
    {
        "government": ("Service de l'État", "Government body"),
        "un": ("Agence des Nations unies", "United Nations agency"),
        "ngo": ("ONG ou association", "NGO or association"),
        "provider": ("Prestataire de services", "Service provider"),
    },
    AgencyKind,
)


class MatchMethod(StrEnum):
    """How the linkage service found a possible duplicate."""

    EXACT_TOKEN = "exact_token"  # noqa: S105 - a code, not a secret
    FUZZY_BLOOM = "fuzzy_bloom"


MATCH_METHOD_LABELS = _register(
    "match_method",
    "Méthode d'appariement",
    "Match method",
    {
        "exact_token": ("Jeton exact identique", "Same exact token"),
        "fuzzy_bloom": ("Filtres de Bloom proches", "Similar Bloom filters"),
    },
    MatchMethod,
)
