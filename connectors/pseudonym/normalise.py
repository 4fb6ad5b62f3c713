"""Normalisation of Guinean and West African identifiers before they are keyed.

Two people who write the same name differently must end up with the same folded tokens:
``Mamadou Diallo``, ``Mamadu Dialo``, ``DIALLO Mamadou``, ``Elhadj Mamadou Diallo`` and
``Mamadou Jalloh`` all give ``("jalo", "mamadu")``. The rules are written down in
``docs/linkage.md``; each one here says why it exists.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

# ---------------------------------------------------------------------------------------------
# Text and names

_APOSTROPHES = (
    "'’‘ʼ`´"  # N'Diaye, N’Diaye → ndiaye: the apostrophe is a spelling habit, not a sound
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Honorifics and civil titles, as folded token sequences. They are stripped wherever they stand:
# "El Hadj Mamadou Diallo" and "Mamadou Diallo" are one person.
_HONORIFIC_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        (
            tuple(phrase.split())
            for phrase in (
                "el hadj",
                "el hadji",
                "el hadja",
                "el hajj",
                "el haj",
                "al hadj",
                "al hadji",
                "al hajj",
                "al haji",
                "el h",
                "elhadj",
                "elhadji",
                "elhaj",
                "elhajj",
                "alhadj",
                "alhadji",
                "alhaji",
                "alhajj",
                "hadj",
                "hadji",
                "hadja",
                "hadjia",
                "hajj",
                "hajja",
                "haja",
                "madame",
                "mme",
                "mmes",
                "mademoiselle",
                "mlle",
                "monsieur",
                "mr",
                "mrs",
                "ms",
                "miss",
                "dr",
                "docteur",
                "doctor",
                "pr",
                "prof",
                "professeur",
                "imam",
            )
        ),
        key=len,
        reverse=True,
    )
)
# Short titles that are also plausible name fragments: stripped only in the leading position
# ("M. Diallo", "Me Camara"), never in the middle of a name.
_LEADING_ONLY_TITLES = frozenset({"m", "me", "mm", "el", "al"})

_TITLE_WORDS = frozenset(word for phrase in _HONORIFIC_PHRASES for word in phrase) | (
    _LEADING_ONLY_TITLES
)
_VOWELS = frozenset("aeiou")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=1 << 16)
def fold_text(text: str) -> str:
    """Lower case, no accents, no apostrophes, single spaces: ``Aïssatou`` → ``aissatou``."""
    text = strip_accents(text).lower()
    for apostrophe in _APOSTROPHES:
        text = text.replace(apostrophe, "")
    text = text.replace("æ", "ae").replace("œ", "oe").replace("ß", "ss")
    return _NON_ALNUM.sub(" ", text).strip()


_PHRASES_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _phrase in _HONORIFIC_PHRASES:  # longest first, as sorted above
    _PHRASES_BY_FIRST.setdefault(_phrase[0], []).append(_phrase)


def strip_honorifics(tokens: list[str]) -> list[str]:
    """Remove honorific phrases anywhere, and short ambiguous titles at the start."""
    result: list[str] = []
    index = 0
    while index < len(tokens):
        for phrase in _PHRASES_BY_FIRST.get(tokens[index], ()):
            if tuple(tokens[index : index + len(phrase)]) == phrase:
                index += len(phrase)
                break
        else:
            result.append(tokens[index])
            index += 1
    while len(result) > 1 and result[0] in _LEADING_ONLY_TITLES:
        result.pop(0)
    return result


@lru_cache(maxsize=1 << 16)
def fold_token(token: str) -> str:
    """Fold one name token so that common transliteration variants coincide.

    Order matters: digraphs first (ph, ch, ck, qu, dj), then c, then y → i (so that "Ndiaye" and
    "Ndiaie" meet before the di → j rule), ou → u, h, and doubled letters last.
    """
    t = token
    t = t.replace("ph", "f")  # Phode / Fodé
    t = t.replace("ch", "sh")  # Chérif / Sherif: French ch is English sh
    t = t.replace("ck", "k")  # Cheick / Sheik
    t = t.replace("qu", "k").replace("q", "k")
    # c is k before a, o, u and consonants (Condé / Konde, Camara / Kamara), s before e, i, y
    # (Cissé / Sissé).
    t = re.sub(r"c(?=[eiy])", "s", t).replace("c", "k")
    t = t.replace("y", "i")  # Sylla / Silla, Kouyaté / Kouiate
    t = t.replace("dj", "j")  # Djenabou / Jenabou
    t = re.sub(r"di(?=[aeou])", "j", t)  # Diallo / Jalloh, Kadiatou / Kadjatou
    t = t.replace("ou", "u")  # Mamadou / Mamadu: French ou is u
    # h is silent except between two vowels (Ibrahima): Soumah / Souma, Thierno / Tierno,
    # Bah / Ba, Hawa / Awa, Sheikh / Sheik.
    chars = list(t)
    kept: list[str] = []
    for position, char in enumerate(chars):
        if char == "h":
            before = chars[position - 1] if position > 0 else ""
            after = chars[position + 1] if position + 1 < len(chars) else ""
            if not (before in _VOWELS and after in _VOWELS):
                continue
        kept.append(char)
    t = "".join(kept)
    t = re.sub(r"(.)\1+", r"\1", t)  # Diallo / Dialo, Barry / Bari
    return t


def name_tokens(raw: str | None) -> list[str]:
    """Folded text tokens of a name field, honorifics removed (before transliteration folding)."""
    if not raw:
        return []
    tokens = [token for token in fold_text(raw).split() if not token.isdigit()]
    return strip_honorifics(tokens)


@dataclass(frozen=True, slots=True)
class NormalisedName:
    """Folded name tokens; given/family are empty when they could not be told apart."""

    given: tuple[str, ...]
    family: tuple[str, ...]
    tokens: tuple[str, ...]  # every folded token, sorted: order-independent

    @property
    def is_empty(self) -> bool:
        return not self.tokens


def _fold_all(tokens: Iterable[str]) -> tuple[str, ...]:
    return tuple(folded for folded in (fold_token(token) for token in tokens) if folded)


# Common Guinean and West African family names (folded). Used only to tell the family name
# apart when a single "full name" column mixes both parts without capitals.
KNOWN_FAMILY_NAMES = frozenset(
    fold_token(name)
    for name in fold_text(
        "Diallo Barry Bah Balde Sow Camara Conde Soumah Sylla Toure Keita Kouyate Cisse Kourouma "
        "Traore Doumbouya Bangoura Sidibe Kaba Kante Keita Fofana Konate Sakho Dramé Magassouba "
        "Samoura Haba Loua Guilavogui Koivogui Kolie Lamah Zogbelemou Onivogui Tounkara Fadiga "
        "Cherif Yansane Sano Oulare Mara Diakite Diane Conte Savane Tolno Millimono Kamano "
        "Sangare Coulibaly Kone Diarra Ndiaye Diop Fall Sy Dia Jallow Jalloh Sesay"
    ).split()
)


def _split_full_name(raw: str) -> tuple[list[str], list[str], list[str]]:
    """(given, family, all) text tokens of a full-name field.

    French administrative habit writes the family name in capitals ("DIALLO Mamadou"); failing
    that, a well-known family name is taken as the family part.
    """
    words = [word for word in re.split(r"\s+", raw.strip()) if word]
    tokens_all = name_tokens(raw)
    upper = [
        word
        for word in words
        if len(word) > 1 and word.isupper() and not set(fold_text(word).split()) <= _TITLE_WORDS
    ]
    if upper and len(upper) < len(words):
        family = name_tokens(" ".join(upper))
        given = name_tokens(" ".join(word for word in words if word not in upper))
        if family and given:
            return given, family, tokens_all
    family_positions = [
        i for i, token in enumerate(tokens_all) if fold_token(token) in KNOWN_FAMILY_NAMES
    ]
    if len(tokens_all) >= 2 and family_positions:
        # Family names stand either first or last; prefer the last one ("Mamadou Bah Diallo").
        position = family_positions[-1]
        if position in (0, len(tokens_all) - 1):
            family = [tokens_all[position]]
            given = tokens_all[:position] + tokens_all[position + 1 :]
            return given, family, tokens_all
    return [], [], tokens_all


def normalise_name(
    given: str | None = None, family: str | None = None, full: str | None = None
) -> NormalisedName:
    """Names from separate given/family fields or from one full-name field."""
    if given or family:
        given_tokens = name_tokens(given)
        family_tokens = name_tokens(family)
        all_tokens = given_tokens + family_tokens
        if full and not all_tokens:
            return normalise_name(full=full)
    elif full:
        given_tokens, family_tokens, all_tokens = _split_full_name(full)
    else:
        return NormalisedName((), (), ())
    return NormalisedName(
        given=_fold_all(given_tokens),
        family=_fold_all(family_tokens),
        tokens=tuple(sorted(_fold_all(all_tokens))),
    )


# ---------------------------------------------------------------------------------------------
# Phone numbers

GUINEA_COUNTRY_CODE = "224"
_PHONE_NOISE = re.compile(r"[\s.\-/()]+")


def normalise_phone(
    raw: str | int | None, default_country: str = GUINEA_COUNTRY_CODE
) -> str | None:
    """E.164 (``+224622123456``) or ``None`` when the value is not a usable number.

    Guinean numbers have 9 national digits (mobiles start with 6); they may be written with
    ``+224``, ``00224`` or ``224`` in front, with spaces, dots or dashes.
    """
    if raw is None:
        return None
    text = str(raw).strip()
    if re.fullmatch(r"\d+\.0", text):  # a number read from a spreadsheet as a float
        text = text[:-2]
    text = _PHONE_NOISE.sub("", text)
    if not text:
        return None
    international = False
    if text.startswith("+"):
        international, text = True, text[1:]
    elif text.startswith("00"):
        international, text = True, text[2:]
    if not text.isdigit():
        return None
    if international:
        if text.startswith(default_country):
            national = text[len(default_country) :]
            return f"+{default_country}{national}" if _valid_guinean(national) else None
        return f"+{text}" if 8 <= len(text) <= 15 else None
    if text.startswith(default_country) and _valid_guinean(text[len(default_country) :]):
        return f"+{text}"
    if len(text) == 10 and text.startswith("0") and _valid_guinean(text[1:]):
        text = text[1:]  # a trunk zero added out of habit from neighbouring countries
    return f"+{default_country}{text}" if _valid_guinean(text) else None


def _valid_guinean(national: str) -> bool:
    return len(national) == 9 and national[0] in "63" and national.isdigit()


# ---------------------------------------------------------------------------------------------
# Birth dates


@dataclass(frozen=True, slots=True)
class BirthDate:
    """Year of birth and whether the full date is known; month/day only when exact."""

    year: int | None
    exact: bool = False
    month: int | None = None
    day: int | None = None


UNKNOWN_BIRTH = BirthDate(None)

_APPROXIMATE = re.compile(
    r"(vers|env\.?|environ|approx\.?|approximativement|circa|ca\.|about|around|"
    r"~|\?|±|\+/-|presume|estime|estimated|\bv\.)",
)
_MONTHS = {
    "janvier": 1, "jan": 1, "january": 1, "fevrier": 2, "fev": 2, "february": 2, "feb": 2,
    "mars": 3, "march": 3, "mar": 3, "avril": 4, "avr": 4, "april": 4, "apr": 4, "mai": 5,
    "may": 5, "juin": 6, "june": 6, "jun": 6, "juillet": 7, "juil": 7, "july": 7, "jul": 7,
    "aout": 8, "august": 8, "aug": 8, "septembre": 9, "sept": 9, "sep": 9, "september": 9,
    "octobre": 10, "oct": 10, "october": 10, "novembre": 11, "nov": 11, "november": 11,
    "decembre": 12, "dec": 12, "december": 12,
}  # fmt: skip
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ t].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{2}|\d{4})(?:[ t].*)?$")
_MY = re.compile(r"^(\d{1,2})[-/. ](\d{4})$")
_YEAR = re.compile(r"(?<!\d)(1[89]\d{2}|20\d{2})(?!\d)")
_WORD_DATE = re.compile(r"^(?:(\d{1,2}) )?([a-z]+)\.? (\d{4})$")


def _current_year() -> int:
    return date.today().year


def _checked(year: int, month: int | None, day: int | None, approximate: bool) -> BirthDate:
    if not 1900 <= year <= _current_year():
        return UNKNOWN_BIRTH
    if month is None or day is None or not 1 <= month <= 12:
        return BirthDate(year, exact=False)
    try:
        date(year, month, day)
    except ValueError:
        return BirthDate(year, exact=False)
    # 1 January is the usual placeholder for "day unknown": keep the year, not the day.
    if approximate or (month == 1 and day == 1):
        return BirthDate(year, exact=False)
    return BirthDate(year, exact=True, month=month, day=day)


def parse_birth_date(raw: object) -> BirthDate:
    """Full dates, year only, approximate ("vers 1990", "1990 ?", "~1990") → year and exactness."""
    if raw is None:
        return UNKNOWN_BIRTH
    if isinstance(raw, datetime):
        return _checked(raw.year, raw.month, raw.day, approximate=False)
    if isinstance(raw, date):
        return _checked(raw.year, raw.month, raw.day, approximate=False)
    if isinstance(raw, bool):
        return UNKNOWN_BIRTH
    if isinstance(raw, int | float):
        number = int(raw)
        if raw == number and 1900 <= number <= 2100:
            return _checked(number, None, None, approximate=True)
        raw = str(number) if raw == number else str(raw)
    text = strip_accents(str(raw)).lower().strip()
    if not text:
        return UNKNOWN_BIRTH
    approximate = bool(_APPROXIMATE.search(text))
    text = _APPROXIMATE.sub(" ", text)
    text = re.sub(r"\b(ne|nee|le|en|in|born)\b", " ", text)
    text = " ".join(text.split()).strip(" ,;")
    if match := _ISO.match(text):
        year, month, day = (int(group) for group in match.groups())
        return _checked(year, month, day, approximate)
    if match := _COMPACT.match(text):
        year, month, day = (int(group) for group in match.groups())
        return _checked(year, month, day, approximate)
    if match := _DMY.match(text):
        day, month, year = (int(group) for group in match.groups())
        if len(match.group(3)) == 2:
            year += 2000 if year <= _current_year() % 100 else 1900
        if month > 12 >= day:  # month/day/year written the American way
            day, month = month, day
        if day == 0 or month == 0:
            return _checked(year, None, None, approximate)
        return _checked(year, month, day, approximate)
    if match := _MY.match(text):
        return _checked(int(match.group(2)), None, None, approximate)
    if (match := _WORD_DATE.match(text)) and match.group(2) in _MONTHS:
        year = int(match.group(3))
        day_text = match.group(1)
        return _checked(
            year, _MONTHS[match.group(2)], int(day_text) if day_text else None, approximate
        )
    years = _YEAR.findall(text)
    if len(years) == 1:
        return _checked(int(years[0]), None, None, approximate)
    return UNKNOWN_BIRTH


# ---------------------------------------------------------------------------------------------
# Sex, identity document numbers

_SEX = {
    "m": "male", "h": "male", "masculin": "male", "homme": "male", "male": "male", "man": "male",
    "garcon": "male", "g": "male", "f": "female", "feminin": "female", "femme": "female",
    "female": "female", "woman": "female", "fille": "female", "autre": "other", "other": "other",
}  # fmt: skip


def normalise_sex(raw: object) -> str | None:
    """``male`` / ``female`` / ``other`` (the contract's codes) or ``None`` when unknown."""
    if raw is None:
        return None
    return _SEX.get(fold_text(str(raw)))


def normalise_id_number(raw: object) -> str | None:
    """Upper-case letters and digits of an identity document number; ``None`` if too short."""
    if raw is None:
        return None
    text = str(raw).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    folded = "".join(char for char in strip_accents(text).upper() if char.isalnum())
    return folded if len(folded) >= 4 else None


def normalise_place(raw: object) -> str | None:
    """A place name folded like a name (N'Zérékoré, Nzerekore → nzerekore); ``None`` if empty."""
    if raw is None:
        return None
    tokens = [fold_token(token) for token in fold_text(str(raw)).split() if not token.isdigit()]
    place = " ".join(token for token in tokens if token)
    return place or None


# ---------------------------------------------------------------------------------------------
# A whole person


@dataclass(frozen=True, slots=True)
class Identity:
    """Everything the encoders use, already normalised."""

    name: NormalisedName
    birth: BirthDate
    sex: str | None
    phone: str | None
    id_number: str | None = None
    birth_place: str | None = None


def normalise_identity(
    *,
    given: str | None = None,
    family: str | None = None,
    full_name: str | None = None,
    birth_date: object = None,
    sex: object = None,
    phone: str | int | None = None,
    id_number: object = None,
    birth_place: object = None,
) -> Identity:
    return Identity(
        name=normalise_name(given=given, family=family, full=full_name),
        birth=parse_birth_date(birth_date),
        sex=normalise_sex(sex),
        phone=normalise_phone(phone),
        id_number=normalise_id_number(id_number),
        birth_place=normalise_place(birth_place),
    )
