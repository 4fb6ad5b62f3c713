"""Synthetic legacy case tables: Guinean-style names drawn at random, never real people.

``legacy_rows`` streams rows of a plausible ``dossiers_retour`` table (French column names);
with ``faults`` some rows are malformed the way legacy data is: an unknown category code, no
name, no birth date. ``LegacyDb`` creates such a table in SQLite, PostgreSQL or MariaDB.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

GIVEN_MALE = (
    "Mamadou", "Ibrahima", "Ousmane", "Abdoulaye", "Thierno", "Lansana", "Mohamed",
    "Boubacar", "Souleymane", "Alhassane", "Mamadi", "Kerfalla", "Sekouba", "Amadou",
    "Alseny", "Moussa", "Oumar", "Saidou", "Mory", "Sidiki", "Issiaga", "Daouda", "Aliou",
    "Bangaly", "Lamine", "Djibril", "Amara", "Facinet", "Ismael", "Seydou", "Idrissa",
    "Saliou", "Bakary", "Ansoumane", "Kabine", "Morlaye", "Tidiane", "Cellou", "Hamidou",
    "Siaka", "Lancinet", "Fodeba",
)  # fmt: skip
GIVEN_FEMALE = (
    "Fatoumata", "Mariama", "Aissatou", "Kadiatou", "Djenabou", "Mabinty", "Aminata",
    "Ramatoulaye", "Hawaou", "Makoura", "Binta", "Dalanda", "Oumou", "Nanfadima", "Saran",
    "Kadidiatou", "Safiatou", "Halimatou", "Mariame", "Fanta", "Aicha", "Hadiatou",
    "Tenin", "Nassouri", "Mahawa", "Koumba", "Djeneba", "Salematou", "Sarata", "Yarie",
    "Fatimatou", "Maimouna", "Adama", "Kankou", "Massitan", "Nenegalle", "Asmaou",
    "Bountouraby", "Domani", "Finda",
)  # fmt: skip
FAMILY = (
    "DIALLO", "BARRY", "CAMARA", "CONDE", "SOUMAH", "SYLLA", "TOURE", "KEITA", "KOUYATE",
    "BANGOURA", "TRAORE", "DOUMBOUYA", "BALDE", "KOUROUMA", "MAGASSOUBA", "FOFANA", "CISSE",
    "SIDIBE", "KANTE", "KONATE", "SAKHO", "DRAME", "SAMOURA", "HABA", "LOUA", "GUILAVOGUI",
    "KOIVOGUI", "KOLIE", "LAMAH", "ONIVOGUI", "TOUNKARA", "FADIGA", "CHERIF", "YANSANE",
    "OULARE", "DIAKITE", "DIANE", "SAVANE", "TOLNO", "MILLIMONO", "KAMANO", "SANGARE",
)  # fmt: skip
PREFECTURES = ("Conakry", "Kankan", "Siguiri", "Labé", "Kindia", "Boké", "Mamou", "Nzérékoré")
CATEGORIES = ("RET", "VDT", "PVT", "MEB")
NEEDS = ("SANTE", "PSY", "HEB", "JUR", "DOC", "RECH", "REINT", "FORM")
VULNERABILITIES = ("FEA", "HAND", "VBG", "TRAITE", "MAL")
RECEIVERS = ("CDS Kankan", "Maison d'écoute Conakry")
QUARTIERS = ("Hamdallaye", "Matoto", "Kaloum", "Dixinn", "Ratoma", "Bordo", "Madina")

BASE_TIME = datetime(2025, 3, 1, 8, 0, 0)

# Why a row is malformed, by its index modulo FAULT_PERIOD.
FAULT_PERIOD = 17
FAULTS = {5: "unknown_category", 11: "no_name", 14: "no_birth_date"}


def fault_of(index: int) -> str | None:
    return FAULTS.get(index % FAULT_PERIOD)


def expected_valid(ids: Iterable[int], *, faults: bool = True) -> int:
    return sum(1 for i in ids if not (faults and fault_of(i)))


def legacy_row(index: int, *, seed: int = 7, faults: bool = True) -> dict[str, Any]:
    """Row ``index`` (from 1) of the synthetic table; the same index always gives the same row."""
    rng = random.Random(f"{seed}/{index}")  # noqa: S311 - synthetic data
    female = rng.random() < 0.45
    names = GIVEN_FEMALE if female else GIVEN_MALE
    given = rng.choice(names)
    if rng.random() < 0.3:  # "Mamadou Saliou", "Fatoumata Binta"
        given = f"{given} {rng.choice(names)}"
    family = rng.choice(FAMILY)
    minor = rng.random() < 0.15
    if minor:  # 1 to 16 years old today, so that the row stays a minor's for a while
        birth = date(date.today().year - 16, 1, 2) + timedelta(days=rng.randrange(15 * 365))
    else:
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
    if birth.month == 1 and birth.day == 1:
        birth += timedelta(days=1)
    phone = f"6{rng.randrange(20, 70)} {rng.randrange(100):02d} {rng.randrange(100):02d} " + (
        f"{rng.randrange(100):02d}"
    )
    prefecture = rng.choice(PREFECTURES)
    needs = ",".join(rng.sample(NEEDS, rng.randint(1, 3)))
    vulns = ";".join(rng.sample(VULNERABILITIES, rng.randint(0, 2)))
    row: dict[str, Any] = {
        "id": index,
        "numero_dossier": f"DR-{index:07d}",
        "nom": family,
        "prenoms": given,
        "date_naissance": birth,
        "sexe": "F" if female else "M",
        "telephone": phone,
        "prefecture": prefecture,
        "categorie": "ENA" if minor and rng.random() < 0.5 else rng.choice(CATEGORIES),
        "besoins": needs,
        "vulnerabilites": vulns or None,
        "urgence": rng.randint(1, 4),
        "structure_orientee": rng.choice(RECEIVERS),
        "non_accompagne": "oui" if minor and rng.random() < 0.5 else "non",
        "adresse": f"Quartier {rng.choice(QUARTIERS)}, secteur {rng.randrange(1, 30)}, "
        f"{prefecture}",
        "observations": f"Récit synthétique n° {index} : retour par voie terrestre.",
        # Three rows share each timestamp: the keyset must break ties by primary key.
        "date_maj": BASE_TIME + timedelta(minutes=index // 3),
    }
    fault = fault_of(index) if faults else None
    if fault == "unknown_category":
        row["categorie"] = "XYZ"
    elif fault == "no_name":
        row["nom"] = None
        row["prenoms"] = None
    elif fault == "no_birth_date":
        row["date_naissance"] = None
    return row


def legacy_rows(
    count: int, *, start: int = 1, seed: int = 7, faults: bool = True
) -> Iterator[dict[str, Any]]:
    for index in range(start, start + count):
        yield legacy_row(index, seed=seed, faults=faults)


def identities(rows: Iterable[dict[str, Any]]) -> set[str]:
    """Every identifying string of these rows, as the legacy system wrote it."""
    found: set[str] = set()
    for row in rows:
        for column in ("nom", "prenoms", "adresse", "observations"):
            if row.get(column):
                found.add(str(row[column]))
        if row.get("prenoms"):
            found.update(part for part in str(row["prenoms"]).split() if len(part) >= 5)
        if row.get("telephone"):
            found.add(str(row["telephone"]))
            found.add(str(row["telephone"]).replace(" ", ""))
        if row.get("date_naissance"):
            found.add(row["date_naissance"].isoformat())  # only the year may leave the agency
    return {value for value in found if len(value) >= 5}


def legacy_table(name: str, metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("numero_dossier", sa.String(20)),
        sa.Column("nom", sa.String(80)),
        sa.Column("prenoms", sa.String(80)),
        sa.Column("date_naissance", sa.Date),
        sa.Column("sexe", sa.String(1)),
        sa.Column("telephone", sa.String(20)),
        sa.Column("prefecture", sa.String(40)),
        sa.Column("categorie", sa.String(8)),
        sa.Column("besoins", sa.String(100)),
        sa.Column("vulnerabilites", sa.String(100)),
        sa.Column("urgence", sa.Integer),
        sa.Column("structure_orientee", sa.String(80)),
        sa.Column("non_accompagne", sa.String(3)),
        sa.Column("adresse", sa.String(200)),
        sa.Column("observations", sa.Text),
        sa.Column("date_maj", sa.DateTime, nullable=True),
        sa.Index(f"ix_{name}_maj", "date_maj", "id"),
    )


@dataclass
class LegacyDb:
    """A legacy database the connector reads: a table created, filled and dropped by tests."""

    backend: str
    url: str  # what the connector's configuration says
    table_name: str

    def __post_init__(self) -> None:
        self.metadata = sa.MetaData()
        self.table = legacy_table(self.table_name, self.metadata)
        is_async = make_url(self.url).get_dialect().is_async
        self._async: AsyncEngine | None = create_async_engine(self.url) if is_async else None
        self._sync: Engine | None = None if is_async else sa.create_engine(self.url)

    async def run(self, work: Callable[[sa.Connection], Any]) -> Any:
        if self._async is not None:
            async with self._async.begin() as conn:
                return await conn.run_sync(work)
        sync = self._sync
        assert sync is not None

        def inside() -> Any:
            with sync.begin() as conn:
                return work(conn)

        return await asyncio.to_thread(inside)

    async def create(self) -> None:
        await self.run(lambda conn: self.metadata.create_all(conn))

    async def insert(self, rows: Iterable[dict[str, Any]], chunk: int = 2000) -> int:
        count = 0
        buffer: list[dict[str, Any]] = []

        def flush(batch: list[dict[str, Any]]) -> Callable[[sa.Connection], None]:
            return lambda conn: conn.execute(self.table.insert(), batch) and None

        for row in rows:
            buffer.append(row)
            if len(buffer) >= chunk:
                await self.run(flush(buffer))
                count += len(buffer)
                buffer = []
        if buffer:
            await self.run(flush(buffer))
            count += len(buffer)
        return count

    async def execute(self, statement: sa.Executable) -> None:
        await self.run(lambda conn: conn.execute(statement))

    async def drop(self) -> None:
        await self.run(lambda conn: self.metadata.drop_all(conn))

    async def dispose(self) -> None:
        if self._async is not None:
            await self._async.dispose()
        if self._sync is not None:
            self._sync.dispose()


def unique_table() -> str:
    return f"dossiers_retour_{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------------ KoboToolbox exports

KOBO_HEADER = (
    "start", "end", "identification/nom", "identification/prenoms",
    "identification/date_naissance", "identification/sexe", "identification/telephone",
    "identification/prefecture", "identification/langues", "identification/adresse",
    "orientation/structure", "orientation/profil", "orientation/besoins", "orientation/urgence",
    "orientation/commentaire", "_id", "_uuid", "_submission_time", "_index",
)  # fmt: skip
_KOBO_PROFILES = {
    "RET": "migrant_retour",
    "VDT": "victime_traite",
    "PVT": "victime_presumee",
    "MEB": "migrant_retour",
    "ENA": "enfant_non_accompagne",
}
_KOBO_NEEDS = {
    "SANTE": "sante",
    "PSY": "psychosocial",
    "HEB": "hebergement",
    "JUR": "juridique",
    "DOC": "documents",
    "RECH": "sante",
    "REINT": "reinsertion",
    "FORM": "reinsertion",
}
_KOBO_AREAS = {
    "Conakry": "GN-C",
    "Kankan": "GN-KA",
    "Siguiri": "GN-SI",
    "Labé": "GN-LA",
    "Kindia": "GN-KD",
    "Boké": "GN-BK",
    "Mamou": "GN-MM",
    "Nzérékoré": "GN-NZ",
}


def kobo_submission(index: int, *, faults: bool = True) -> list[Any]:
    """One KoboToolbox submission (a row of the export) built from the synthetic legacy row."""
    row = legacy_row(index, faults=faults)
    submitted = row["date_maj"]
    needs = sorted({_KOBO_NEEDS[n] for n in row["besoins"].split(",")})
    profile = "inconnu" if row["categorie"] == "XYZ" else _KOBO_PROFILES[row["categorie"]]
    return [
        submitted.isoformat(),
        submitted.isoformat(),
        row["nom"],
        row["prenoms"],
        row["date_naissance"].isoformat() if row["date_naissance"] else None,
        "femme" if row["sexe"] == "F" else "homme",
        row["telephone"],
        _KOBO_AREAS[row["prefecture"]],
        "fuf fra" if index % 2 else "sus",
        row["adresse"],
        "cds_kankan" if row["structure_orientee"] == "CDS Kankan" else "mec_conakry",
        profile,
        " ".join(needs),
        ("immediate", "haute", "normale", "basse")[row["urgence"] - 1],
        row["observations"],
        100000 + index,
        str(uuid.UUID(int=index, version=4)),
        submitted.isoformat() + "Z",
        index,
    ]


def write_kobo_export(path: Any, indexes: Iterable[int], *, faults: bool = True) -> None:
    """A KoboToolbox export (XLSX or CSV by the file suffix) with group paths in the headers."""
    rows = [kobo_submission(i, faults=faults) for i in indexes]
    if str(path).endswith(".xlsx"):
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("identification_mno")
        sheet.append(list(KOBO_HEADER))
        for values in rows:
            sheet.append(values)
        book.save(path)
        return
    import csv

    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(KOBO_HEADER)
        writer.writerows(["" if v is None else v for v in values] for values in rows)
