"""The referral check and the directory search, on both backends, over the demo directory."""

from __future__ import annotations

import pytest

from gateway.db.engine import make_sessionmaker
from gateway.directory import service
from gateway.directory.eligibility import profile_of
from gateway.errors import ValidationFailed
from schemas import examples
from schemas.codes import MINOR_AGE_BANDS, AgeBand, CaseCategory, ServiceCategory, Sex
from schemas.subject import SubjectRef
from tests.conftest import Database

ADULT_WOMAN = examples.subject()  # born 2001, female, lives in Kindia (GN-KD), Soussou/French


def subject(**changes: object) -> SubjectRef:
    data = ADULT_WOMAN.model_dump() | changes
    return SubjectRef.model_validate(data)


async def check(database: Database, agency: str, service_id: str | None, **kw: object) -> None:
    person = kw.pop("subject", ADULT_WOMAN)
    case = kw.pop("case_category", CaseCategory.PRESUMED_VICTIM_OF_TRAFFICKING)
    async with make_sessionmaker(database.engine)() as session:
        await service.check_referral_target(session, agency, service_id, person, case)  # type: ignore[arg-type]


async def refusal(
    database: Database, agency: str, service_id: str, **kw: object
) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        await check(database, agency, service_id, **kw)
    return caught.value


async def test_the_example_referral_fits_its_demo_service(demo_directory: Database) -> None:
    body = examples.referral_create()
    await check(
        demo_directory,
        body.receiving_agency,
        body.receiving_service,
        subject=body.subject,
        case_category=body.case_category,
    )


async def test_a_referral_without_a_service_id_is_not_checked(demo_directory: Database) -> None:
    await check(demo_directory, "AGENCE-SANS-ANNUAIRE", None)


async def test_a_referral_to_an_unknown_service_is_refused(demo_directory: Database) -> None:
    error = await refusal(demo_directory, "SANTE-DEMO", "service.inexistant")
    assert error.code == "service_not_found"
    assert error.status == 422
    assert "service.inexistant" in error.message_fr
    assert "SANTE-DEMO" in error.message_en


async def test_a_service_of_another_agency_is_not_found_for_this_one(
    demo_directory: Database,
) -> None:
    error = await refusal(demo_directory, "PSY-DEMO", "sante-demo.medical.kaloum")
    assert error.code == "service_not_found"


async def test_a_referral_to_a_closed_service_is_refused(demo_directory: Database) -> None:
    error = await refusal(demo_directory, "SANTE-DEMO", "sante-demo.medical.labe")
    assert error.code == "service_closed"
    assert "fermé" in error.message_fr
    assert "closed" in error.message_en


async def test_a_referral_to_a_suspended_service_is_refused(demo_directory: Database) -> None:
    error = await refusal(demo_directory, "FORM-DEMO", "form-demo.reintegration")
    assert error.code == "service_not_accepting"


async def test_an_ineligible_person_is_refused_with_every_failed_criterion(
    demo_directory: Database,
) -> None:
    boy = subject(
        birth_year=None, age_band=AgeBand.Y15_17, is_minor=True, sex=Sex.MALE, languages=["kss"]
    )
    error = await refusal(
        demo_directory,
        "ONG-ESPOIR",
        "ong-espoir.hebergement",
        subject=boy,
        case_category=CaseCategory.STRANDED_MIGRANT,
    )
    assert error.code == "subject_not_eligible"
    criteria = [e["criterion"] for e in error.errors]
    assert criteria == ["age", "sex", "case_category", "area", "language"]
    assert "âge (service : 18 ans et plus" in error.message_fr
    assert "sexe (service : Féminin ; personne : Masculin)" in error.message_fr
    assert "zone (service : Région de Kankan" in error.message_fr
    assert "case category (service: Victim of trafficking" in error.message_en
    fields = {e["field"] for e in error.errors}
    assert "body.subject.sex" in fields
    assert "body.case_category" in fields


async def test_search_by_area_and_category_returns_the_demo_providers(
    demo_directory: Database,
) -> None:
    async with make_sessionmaker(demo_directory.engine)() as session:
        medical_kindia = await service.search_services(
            session, service.SearchQuery(category=ServiceCategory.MEDICAL, area="GN-KD")
        )
        forest = await service.search_services(session, service.SearchQuery(area="GN-NZ"))
        everything = await service.search_services(
            session, service.SearchQuery(include_closed=True)
        )
    assert [r.id for r in medical_kindia] == ["sante-demo.medical.kaloum"]
    assert medical_kindia[0].agency_name == "Centre de santé fictif de Kaloum"
    # Nzérékoré: its region's services plus the nationwide ones.
    assert {r.id for r in forest} == {
        "ong-solidarite.reintegration",
        "ong-solidarite.recherche-familiale",
        "oim-demo.transport",
        "gouv-retour.gestion-de-cas",
    }
    assert "sante-demo.medical.labe" in {r.id for r in everything}


@pytest.mark.parametrize(
    ("band", "sex", "case_category"),
    [
        (AgeBand.Y25_34, Sex.FEMALE, CaseCategory.VICTIM_OF_TRAFFICKING),
        (AgeBand.Y15_17, Sex.MALE, CaseCategory.UASC),
        (AgeBand.Y60_PLUS, Sex.MALE, CaseCategory.RETURNING_MIGRANT),
        (AgeBand.Y18_24, Sex.UNKNOWN, CaseCategory.STRANDED_MIGRANT),
    ],
)
async def test_search_and_referral_check_never_disagree(
    demo_directory: Database, band: AgeBand, sex: Sex, case_category: CaseCategory
) -> None:
    person = subject(
        birth_year=None,
        age_band=band,
        is_minor=band in MINOR_AGE_BANDS,
        sex=sex,
        area_code=None,
        languages=[],
    )
    wanted = profile_of(person, case_category)
    async with make_sessionmaker(demo_directory.engine)() as session:
        listed = await service.search_services(
            session, service.SearchQuery(eligible_for=wanted, accepting_only=True)
        )
        every = await service.search_services(session, service.SearchQuery(accepting_only=True))
    assert 0 < len(listed) < len(every)
    for record in every:
        code = await refusal_code(demo_directory, record.agency, record.id, person, case_category)
        assert code in (None, "subject_not_eligible"), record.id
        assert (code is None) is (record.id in {r.id for r in listed}), record.id


async def refusal_code(
    database: Database,
    agency: str,
    service_id: str,
    person: SubjectRef,
    case_category: CaseCategory,
) -> str | None:
    try:
        await check(database, agency, service_id, subject=person, case_category=case_category)
    except ValidationFailed as exc:
        return exc.code
    return None
