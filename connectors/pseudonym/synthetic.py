"""Deterministic generator of synthetic Guinean-style people and of agency records about them.

Nothing here describes a real person: names are drawn independently from lists of common given
and family names, dates and phone numbers at random. The same seed always gives the same
population, the same agency records and the same ground truth.

Agency records carry the variations seen in real registers: spelling variants (Mamadou /
Mamadu, Diallo / Jalloh, Condé / Konde), family name first in capitals, honorifics (El Hadj,
Hadja), dropped middle names, typing errors, birth dates that are full, year only, approximate
or missing, and phone numbers that are reformatted, changed or missing.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

# (name, relative frequency, spelling variants seen in registers)
_MALE_GIVEN: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Mamadou", 30, ("Mamadu", "Mamadou", "Mamoudou")),
    ("Ibrahima", 12, ("Ibrahim", "Ibrahimah")),
    ("Alpha", 12, ("Alfa",)),
    ("Sékou", 10, ("Sekou", "Seku")),
    ("Ousmane", 10, ("Ousman", "Usman", "Oussmane")),
    ("Abdoulaye", 10, ("Abdoulay", "Abdulaye", "Abdoulahi")),
    ("Amadou", 9, ("Amadu", "Ahmadou")),
    ("Mohamed", 12, ("Mohammed", "Mouhamed", "Mohamad")),
    ("Thierno", 8, ("Tierno",)),
    ("Alhassane", 6, ("Alassane", "Alhassan")),
    ("Boubacar", 8, ("Bubakar", "Boubakar")),
    ("Aboubacar", 4, ("Abubakar", "Aboubakar")),
    ("Souleymane", 7, ("Souleimane", "Sulaymane", "Soulemane")),
    ("Mamadi", 5, ("Mamady",)),
    ("Lansana", 5, ("Lansanah", "Lancana")),
    ("Moussa", 6, ("Musa", "Mousa")),
    ("Fodé", 5, ("Fode", "Phodé")),
    ("Oumar", 6, ("Umar", "Omar")),
    ("Saïdou", 4, ("Saidou", "Saydou")),
    ("Alseny", 3, ("Alsény", "Alseni")),
    ("Kerfalla", 3, ("Kerfala",)),
    ("Mory", 4, ("Mori",)),
    ("Sidiki", 3, ("Sidiky",)),
    ("Cheick", 4, ("Cheikh", "Sheikh", "Cheik")),
    ("Issiaga", 2, ("Issyaga",)),
    ("Daouda", 3, ("Dauda", "Daoudah")),
    ("Aliou", 7, ("Aliyou", "Aliu")),
    ("Bangaly", 2, ("Bangali",)),
    ("Yaya", 3, ("Yahya",)),
    ("Lamine", 4, ("Lamin", "Laminé")),
    ("Naby", 2, ("Nabi",)),
    ("Karim", 2, ("Kerim",)),
    ("Djibril", 3, ("Jibril", "Djibrill")),
    ("Amara", 3, ("Ammara",)),
    ("Facinet", 2, ("Fassinet",)),
    ("Ismaël", 3, ("Ismael", "Ismail")),
    ("Seydou", 3, ("Seidou",)),
    ("Abdourahmane", 3, ("Abdourahamane", "Abdurahmane")),
    ("Idrissa", 3, ("Idrissah", "Idrisa")),
    ("Saliou", 3, ("Saliu", "Saliyou")),
    ("Oury", 2, ("Ouri",)),
    ("Habib", 2, ("Habibou",)),
    ("Bakary", 3, ("Bakari", "Backary")),
    ("Ansoumane", 3, ("Ansumane", "Ansoumana")),
    ("Sékouba", 2, ("Sekouba",)),
    ("Kabiné", 2, ("Kabine",)),
    ("Morlaye", 2, ("Morlay",)),
    ("Tidiane", 2, ("Tidjane", "Tijane")),
    ("Cellou", 2, ("Celou", "Sellou")),
    ("Alimou", 2, ("Alimu",)),
    ("Hamidou", 2, ("Hamidu", "Amidou")),
    ("Siaka", 2, ("Siakka",)),
    ("Lancinet", 2, ("Lansinet",)),
    ("Sory", 2, ("Sori",)),
    ("Kémoko", 1, ("Kemoko",)),
    ("Saa", 2, ("Sâa", "Sah")),
    ("Fassou", 1, ("Fasou",)),
    ("Moriba", 1, ("Moribah",)),
    ("Koly", 1, ("Koli",)),
    ("Fara", 1, ("Farah",)),
    ("Tamba", 1, ("Tambah",)),
    ("Nfaly", 1, ("N'Faly", "Nfali")),
    ("Mamoudou", 2, ("Mamudu",)),
    ("Sayon", 1, ("Sayonn",)),
    ("Abdoul", 2, ("Abdul",)),
    ("Karamoko", 1, ("Karamokho",)),
    ("Elhadj", 1, ("Elhadji",)),
    ("Lamarana", 1, ("Lamaranah",)),
    ("Ibrahim", 2, ("Ibrahime",)),
)
_FEMALE_GIVEN: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Fatoumata", 25, ("Fatumata", "Fatoumatta", "Fatouma")),
    ("Aïssatou", 15, ("Aissatou", "Aysatou", "Aïssatu")),
    ("Mariama", 15, ("Mariyama", "Mariamah")),
    ("Oumou", 8, ("Umu", "Oumu")),
    ("Kadiatou", 12, ("Kadjatou", "Khadiatou", "Kadiatu")),
    ("Hawa", 6, ("Awa", "Hawah")),
    ("Aminata", 7, ("Aminatou", "Amminata")),
    ("Djénabou", 6, ("Jenabou", "Dienabou", "Djenabu")),
    ("Fanta", 6, ("Fantah",)),
    ("Kadidiatou", 4, ("Kadidjatou", "Kadidiatu")),
    ("Mabinty", 3, ("Mabinti",)),
    ("Saran", 4, ("Sarran",)),
    ("Nènè", 4, ("Nene", "Néné")),
    ("Binta", 6, ("Bintah",)),
    ("Ramatoulaye", 4, ("Ramatoulay", "Ramatulaye")),
    ("Dalanda", 3, ("Dallanda",)),
    ("Adama", 4, ("Addama",)),
    ("Sira", 2, ("Syra",)),
    ("Makalé", 2, ("Makale",)),
    ("M'Mah", 3, ("Mmah", "M'Ma")),
    ("Safiatou", 4, ("Safiatu", "Safiyatou")),
    ("Aïcha", 4, ("Aicha", "Aisha", "Aïsha")),
    ("Maïmouna", 4, ("Maimouna", "Maimuna")),
    ("Hassanatou", 2, ("Hassanatu", "Assanatou")),
    ("Salématou", 2, ("Salematou", "Salematu")),
    ("Ténin", 2, ("Tenin", "Tenen")),
    ("Hadiatou", 3, ("Hadjatou", "Adiatou")),
    ("Rouguiatou", 3, ("Rougiatou", "Ruguiatou")),
    ("Djeneba", 2, ("Jeneba",)),
    ("Kankou", 2, ("Kankon",)),
    ("Nantenin", 2, ("Nanténin", "Nantenen")),
    ("Sona", 1, ("Sonah",)),
    ("Massa", 2, ("Masa",)),
    ("Fatou", 3, ("Fatu",)),
    ("Mahawa", 2, ("Mahaoua",)),
    ("Siré", 1, ("Sire",)),
    ("Bountouraby", 1, ("Buntourabi", "Bountourabi")),
    ("Yarie", 1, ("Yari",)),
    ("Bintou", 2, ("Bintu",)),
    ("Asmaou", 2, ("Asmau", "Asmaw")),
    ("Habibatou", 2, ("Habibatu",)),
    ("Houssainatou", 1, ("Housainatou", "Hussainatu")),
    ("Mariam", 2, ("Mariyam",)),
    ("Diaraye", 2, ("Diarraye", "Jaraye")),
    ("Fatimatou", 2, ("Fatimatu",)),
    ("Kalsoum", 1, ("Kalsum", "Kaltoum")),
    ("Tiguidanké", 1, ("Tiguidanke",)),
    ("Marie", 2, ("Mari",)),
    ("Finda", 2, ("Findah",)),
    ("Sia", 2, ("Siah",)),
    ("Koumba", 1, ("Kumba",)),
    ("Sarata", 1, ("Saratta",)),
    ("Mariamou", 1, ("Mariamu",)),
    ("Kéné", 1, ("Kene",)),
    ("Yawa", 1, ("Yaoua",)),
    ("Aminatou", 2, ("Aminatu",)),
)
_FAMILY: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Diallo", 30, ("Dialo", "Djallo", "Jalloh", "Diallo")),
    ("Barry", 12, ("Bari", "Barrie")),
    ("Bah", 12, ("Ba",)),
    ("Camara", 18, ("Kamara", "Camarah")),
    ("Condé", 8, ("Conde", "Kondé", "Konde")),
    ("Soumah", 7, ("Souma", "Sumah", "Soumá")),
    ("Sylla", 7, ("Silla", "Sillah", "Sila")),
    ("Touré", 6, ("Toure", "Ture")),
    ("Keïta", 6, ("Keita", "Kéita", "Keyta")),
    ("Kouyaté", 4, ("Kouyate", "Kuyateh")),
    ("Baldé", 7, ("Balde", "Baldeh")),
    ("Sow", 9, ("Sowe",)),
    ("Cissé", 6, ("Cisse", "Sissé", "Sisse")),
    ("Kourouma", 5, ("Kuruma", "Kouroumah")),
    ("Traoré", 6, ("Traore", "Traorè")),
    ("Doumbouya", 4, ("Dumbuya", "Doumbouyah", "Doumbuya")),
    ("Bangoura", 9, ("Bangura", "Bangourah")),
    ("Sidibé", 3, ("Sidibe", "Sidibeh")),
    ("Kaba", 3, ("Kabba",)),
    ("Kanté", 3, ("Kante",)),
    ("Fofana", 4, ("Fofanah",)),
    ("Konaté", 4, ("Konate",)),
    ("Sakho", 2, ("Sako",)),
    ("Dramé", 2, ("Drame", "Dramey")),
    ("Magassouba", 2, ("Magasouba", "Magassuba")),
    ("Samoura", 2, ("Samura",)),
    ("Haba", 2, ("Habah",)),
    ("Loua", 2, ("Lua",)),
    ("Guilavogui", 3, ("Guilavogi", "Gilavogui")),
    ("Kolié", 2, ("Kolie", "Koliè")),
    ("Lamah", 2, ("Lama",)),
    ("Tounkara", 2, ("Tunkara",)),
    ("Fadiga", 2, ("Fadigah",)),
    ("Chérif", 3, ("Cherif", "Sherif")),
    ("Yansané", 3, ("Yansane", "Yansaneh")),
    ("Sano", 2, ("Sanoh",)),
    ("Oularé", 2, ("Oulare", "Ulare")),
    ("Mara", 2, ("Marah",)),
    ("Diakité", 3, ("Diakite", "Jakite")),
    ("Diané", 2, ("Diane",)),
    ("Conté", 3, ("Conte", "Konte")),
    ("Millimono", 2, ("Milimono", "Millimouno")),
    ("Kamano", 2, ("Kammano",)),
    ("Sangaré", 2, ("Sangare",)),
    ("Onivogui", 2, ("Onivogi",)),
    ("Tolno", 2, ("Tolnoh",)),
    ("Dabo", 2, ("Dabbo",)),
    ("Diabaté", 2, ("Diabate", "Jabateh")),
    ("Youla", 2, ("Yula",)),
    ("Sankhon", 2, ("Sankon", "Sankhoun")),
    ("Sagno", 2, ("Sagnoh",)),
    ("Mansaré", 2, ("Mansare",)),
    ("Koïvogui", 2, ("Koivogui", "Koivogi")),
    ("Zogbélémou", 1, ("Zogbelemou",)),
    ("Gbamou", 1, ("Gbamu",)),
    ("Béavogui", 1, ("Beavogui",)),
    ("Nabé", 1, ("Nabe",)),
    ("Soumaoro", 2, ("Sumaoro", "Soumahoro")),
    ("Sissoko", 2, ("Sisoko",)),
    ("Diawara", 2, ("Jawara",)),
    ("Kallo", 1, ("Kalo",)),
    ("Tall", 1, ("Tal",)),
    ("Diaby", 2, ("Diabi",)),
    ("Daffé", 1, ("Daffe", "Dafé")),
    ("Bérété", 2, ("Berete",)),
    ("Cissoko", 1, ("Cisoko",)),
    ("Kamissoko", 1, ("Kamisoko",)),
    ("Sall", 1, ("Sal",)),
    ("Bamba", 1, ("Bambah",)),
    ("Koné", 2, ("Kone",)),
    ("Doré", 1, ("Dore",)),
    ("Dioubaté", 1, ("Dioubate", "Jubateh")),
    ("Kaloga", 1, ("Kalloga",)),
    ("Soumaré", 1, ("Soumare",)),
    ("Wann", 1, ("Wan",)),
    ("Kébé", 1, ("Kebe",)),
    ("Haïdara", 1, ("Haidara",)),
    ("Sacko", 1, ("Sako",)),
    ("Dansoko", 1, ("Dansoco",)),
    ("Guémou", 1, ("Guemou",)),
    ("Yombouno", 1, ("Yombuno",)),
    ("Grovogui", 1, ("Grovogi",)),
    ("Keira", 1, ("Keyra",)),
    ("Samaké", 1, ("Samake",)),
    ("Théa", 1, ("Thea", "Tea")),
    ("Kpoghomou", 1, ("Kpogomou",)),
)

_PLACES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Conakry", 24, ("Konakry", "Conakri", "CONAKRY")),
    ("Kankan", 6, ("Kan-Kan", "Kankan")),
    ("Nzérékoré", 6, ("N'Zérékoré", "Nzerekore", "N'Zerekore")),
    ("Kindia", 5, ("Kindiah",)),
    ("Labé", 4, ("Labe",)),
    ("Boké", 4, ("Boke",)),
    ("Siguiri", 5, ("Siguirí", "Sigiri")),
    ("Guéckédou", 3, ("Gueckedou", "Guékédou", "Guekedou")),
    ("Kissidougou", 3, ("Kissidugu", "Kissidougou")),
    ("Mamou", 3, ("Mamu",)),
    ("Faranah", 2, ("Farana",)),
    ("Macenta", 3, ("Massenta",)),
    ("Coyah", 3, ("Coya", "Koyah")),
    ("Dubréka", 3, ("Dubreka", "Doubreka")),
    ("Forécariah", 2, ("Forecariah", "Forékariah")),
    ("Télimélé", 2, ("Telimele",)),
    ("Pita", 2, ("Pitta",)),
    ("Dalaba", 1, ("Dallaba",)),
    ("Kouroussa", 2, ("Kurussa", "Kourousa")),
    ("Kérouané", 1, ("Kerouane",)),
    ("Beyla", 2, ("Beila",)),
    ("Lola", 1, ("Lolla",)),
    ("Yomou", 1, ("Yomu",)),
    ("Dabola", 1, ("Dabolla",)),
    ("Dinguiraye", 1, ("Dinguiray",)),
    ("Mandiana", 2, ("Mandianah",)),
    ("Fria", 1, ("Friya",)),
    ("Boffa", 1, ("Bofa",)),
    ("Gaoual", 1, ("Gawal",)),
    ("Koundara", 1, ("Kundara",)),
    ("Mali", 1, ("Mali-Yembering",)),
    ("Tougué", 1, ("Tougue",)),
    ("Lélouma", 1, ("Lelouma",)),
    ("Koubia", 1, ("Kubia",)),
)

_MALE_TITLES = ("El Hadj", "Elhadj", "El Hadji", "Al Hadji", "M.", "Dr")
_FEMALE_TITLES = ("Hadja", "Hadja", "Mme", "Mme")
_MOBILE_PREFIXES = tuple(
    f"{prefix}" for prefix in (*range(620, 630), *range(660, 667), 669, 610, 611)
)


@dataclass(frozen=True, slots=True)
class Person:
    """The truth about one synthetic person."""

    person_id: int
    given: tuple[str, ...]
    family: str
    sex: str  # "male" / "female"
    birth: date
    phone: str  # national 9 digits
    birth_place: str


@dataclass(frozen=True, slots=True)
class AgencyRecord:
    """What one agency wrote down about a person, with its variations."""

    record_id: str
    person_id: int
    given: str | None
    family: str | None
    full_name: str | None
    birth_date: str
    sex: str
    phone: str
    birth_place: str

    def row(self) -> dict[str, str]:
        """The record as a register row with French column names."""
        values = {
            "id_dossier": self.record_id,
            "prenom": self.given or "",
            "nom": self.family or "",
            "nom_complet": self.full_name or "",
            "date_naissance": self.birth_date,
            "sexe": self.sex,
            "telephone": self.phone,
            "lieu_naissance": self.birth_place,
        }
        return values


@dataclass(frozen=True, slots=True)
class VariationRates:
    """How often each kind of variation happens in one agency's copy of a person."""

    spelling_variant: float = 0.30  # per name token
    typo: float = 0.06  # per record
    honorific: float = 0.12  # per record, adults over 40
    drop_middle_name: float = 0.10  # when the person has two given names
    full_name_column: float = 0.35
    family_first: float = 0.5  # when in one column
    swapped_columns: float = 0.04
    missing_sex: float = 0.03
    phone_changed: float = 0.20
    phone_missing: float = 0.25
    place_missing: float = 0.25
    place_other: float = 0.08  # another place written down (residence, place of departure)


DEFAULT_RATES = VariationRates()


@dataclass(slots=True)
class LinkageScenario:
    """Two agencies' registers and the pairs of records that are the same person."""

    left: list[AgencyRecord] = field(default_factory=list)
    right: list[AgencyRecord] = field(default_factory=list)

    @property
    def true_pairs(self) -> set[tuple[int, int]]:
        by_person = {record.person_id: index for index, record in enumerate(self.right)}
        return {
            (index, by_person[record.person_id])
            for index, record in enumerate(self.left)
            if record.person_id in by_person
        }


_CUMULATIVE: dict[int, list[int]] = {}


def _weighted(rng: random.Random, table: Sequence[tuple[str, int, tuple[str, ...]]]) -> int:
    cumulative = _CUMULATIVE.get(id(table))
    if cumulative is None:
        cumulative = list(itertools.accumulate(weight for _, weight, _ in table))
        _CUMULATIVE[id(table)] = cumulative
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


class SyntheticPopulation:
    """A seeded population and seeded agency registers drawn from it."""

    def __init__(self, seed: int, size: int, *, reference_year: int = 2025) -> None:
        self.seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
        self.reference_year = reference_year
        self.people = [self._person(person_id) for person_id in range(size)]

    def _person(self, person_id: int) -> Person:
        rng = self._rng
        sex = "male" if rng.random() < 0.52 else "female"
        table = _MALE_GIVEN if sex == "male" else _FEMALE_GIVEN
        given = [_weighted(rng, table)]
        if rng.random() < 0.30:  # "Mamadou Aliou", "Fatoumata Binta"
            second = _weighted(rng, table)
            if second != given[0]:
                given.append(second)
        family = _weighted(rng, _FAMILY)
        age_days = int(rng.triangular(0, 75 * 365.25, 24 * 365.25))
        birth = date(self.reference_year, 7, 1) - timedelta(days=age_days)
        phone = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(1_000_000):06d}"
        place = _PLACES[_weighted(rng, _PLACES)][0]
        return Person(
            person_id=person_id,
            given=tuple(table[index][0] for index in given),
            family=_FAMILY[family][0],
            sex=sex,
            birth=birth,
            phone=phone,
            birth_place=place,
        )

    # -- variations -------------------------------------------------------------------------

    @staticmethod
    def _spell(rng: random.Random, name: str, rates: VariationRates) -> str:
        if rng.random() >= rates.spelling_variant:
            return name
        for table in (_MALE_GIVEN, _FEMALE_GIVEN, _FAMILY, _PLACES):
            for canonical, _, variants in table:
                if canonical == name:
                    return rng.choice(variants)
        return name

    @staticmethod
    def _typo(rng: random.Random, name: str) -> str:
        if len(name) < 4:
            return name
        position = rng.randrange(1, len(name) - 1)
        letters = "abcdefghijklmnopqrstuvwxyz"
        kind = rng.randrange(4)
        if kind == 0:  # substitution
            return name[:position] + rng.choice(letters) + name[position + 1 :]
        if kind == 1:  # deletion
            return name[:position] + name[position + 1 :]
        if kind == 2:  # insertion
            return name[:position] + rng.choice(letters) + name[position:]
        return name[: position - 1] + name[position] + name[position - 1] + name[position + 1 :]

    def _birth_text(self, rng: random.Random, birth: date) -> str:
        roll = rng.random()
        if roll < 0.40:
            return birth.strftime("%d/%m/%Y")
        if roll < 0.50:
            return birth.isoformat()
        if roll < 0.68:
            return str(birth.year)
        if roll < 0.74:
            return f"vers {birth.year}"
        if roll < 0.77:
            return f"{birth.year} ?"
        if roll < 0.79:
            return f"~{birth.year}"
        if roll < 0.88:
            return f"01/01/{birth.year}"  # the usual placeholder for an unknown day
        if roll < 0.95:
            # Age declared at registration, converted to a year: often one off.
            return f"vers {birth.year + rng.choice((-1, 1))}"
        return ""

    def _phone_text(self, rng: random.Random, phone: str, rates: VariationRates) -> str:
        roll = rng.random()
        if roll < rates.phone_missing:
            return ""
        if roll < rates.phone_missing + rates.phone_changed:
            phone = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(1_000_000):06d}"
        style = rng.randrange(5)
        if style == 0:
            return phone
        if style == 1:
            return f"+224 {phone[:3]} {phone[3:5]} {phone[5:7]} {phone[7:]}"
        if style == 2:
            return f"00224{phone}"
        if style == 3:
            return f"{phone[:3]}-{phone[3:5]}-{phone[5:7]}-{phone[7:]}"
        return f"{phone[:3]} {phone[3:6]} {phone[6:]}"

    def record(
        self, person: Person, rng: random.Random, record_id: str, rates: VariationRates
    ) -> AgencyRecord:
        """One agency's record of ``person``, with random variations."""
        given = [self._spell(rng, name, rates) for name in person.given]
        if len(given) > 1 and rng.random() < rates.drop_middle_name:
            given = given[:1]
        family = self._spell(rng, person.family, rates)
        if rng.random() < rates.typo:
            if rng.random() < 0.5:
                family = self._typo(rng, family)
            else:
                index = rng.randrange(len(given))
                given[index] = self._typo(rng, given[index])
        given_text = " ".join(given)
        age = self.reference_year - person.birth.year
        if age > 40 and rng.random() < rates.honorific:
            titles = _MALE_TITLES if person.sex == "male" else _FEMALE_TITLES
            given_text = f"{rng.choice(titles)} {given_text}"
        sex = ""
        if rng.random() >= rates.missing_sex:
            sex = (
                rng.choice(("M", "H", "Masculin"))
                if person.sex == "male"
                else rng.choice(("F", "Féminin", "Femme"))
            )
        birth_text = self._birth_text(rng, person.birth)
        phone_text = self._phone_text(rng, person.phone, rates)
        roll = rng.random()
        if roll < rates.place_missing:
            place_text = ""
        elif roll < rates.place_missing + rates.place_other:
            place_text = _PLACES[_weighted(rng, _PLACES)][0]
        else:
            place_text = self._spell(rng, person.birth_place, rates)
        if rng.random() < rates.full_name_column:
            if rng.random() < rates.family_first:
                full = f"{family.upper()} {given_text}"
            else:
                full = f"{given_text} {family}"
            return AgencyRecord(
                record_id,
                person.person_id,
                None,
                None,
                full,
                birth_text,
                sex,
                phone_text,
                place_text,
            )
        if rng.random() < rates.swapped_columns:
            given_text, family = family, given_text
        return AgencyRecord(
            record_id,
            person.person_id,
            given_text,
            family,
            None,
            birth_text,
            sex,
            phone_text,
            place_text,
        )

    def register(
        self,
        agency: str,
        people: Sequence[Person],
        *,
        seed: int,
        rates: VariationRates = DEFAULT_RATES,
    ) -> list[AgencyRecord]:
        rng = random.Random(f"{self.seed}/{agency}/{seed}")  # noqa: S311
        return [
            self.record(person, rng, f"{agency}-{index:07d}", rates)
            for index, person in enumerate(people)
        ]

    def scenario(
        self,
        *,
        left_size: int,
        right_size: int,
        overlap: int,
        rates: VariationRates = DEFAULT_RATES,
    ) -> LinkageScenario:
        """Two registers sharing ``overlap`` people; each person at most once per register."""
        if left_size + right_size - overlap > len(self.people) or overlap > min(
            left_size, right_size
        ):
            raise ValueError("population too small for these register sizes")
        rng = random.Random(f"{self.seed}/scenario")  # noqa: S311
        chosen = rng.sample(self.people, left_size + right_size - overlap)
        shared = chosen[:overlap]
        left_people = shared + chosen[overlap:left_size]
        right_people = shared + chosen[left_size:]
        rng.shuffle(left_people)
        rng.shuffle(right_people)
        return LinkageScenario(
            left=self.register("A", left_people, seed=1, rates=rates),
            right=self.register("B", right_people, seed=2, rates=rates),
        )
