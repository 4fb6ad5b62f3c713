"""Staff sign-in: scrypt passwords, signed session cookie, CSRF-safe forms, roles."""

from __future__ import annotations

import re

from httpx import AsyncClient

from gateway.dashboard.security import hash_password, verify_password
from tests.conftest import Database
from tests.gateway.dashboard.conftest import StaffLogin
from tests.gateway.meal.conftest import feed
from tests.gateway.meal.factories import october_stream


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


async def login(client: AsyncClient, who: StaffLogin, password: str | None = None) -> int:
    page = await client.get("/dashboard/login")
    response = await client.post(
        "/dashboard/login",
        data={"csrf": _csrf(page.text), "email": who.email, "password": password or who.password},
    )
    return response.status_code


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password("mot de passe"), hash_password("mot de passe")
    assert first.startswith("scrypt$15$8$1$")
    assert first != second
    assert verify_password("mot de passe", first)
    assert not verify_password("mot de passe ", first)
    assert not verify_password("x", "not-a-hash")


async def test_dashboard_sends_anonymous_visitors_to_the_login_page(client: AsyncClient) -> None:
    response = await client.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login"
    page = await client.get("/dashboard/login")
    assert page.status_code == 200
    assert "Connexion du personnel" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


async def test_staff_signs_in_and_sees_the_french_dashboard(
    client: AsyncClient, database: Database, viewer: StaffLogin
) -> None:
    await feed(database, october_stream())
    assert await login(client, viewer) == 303
    cookie = next(c for c in client.cookies.jar if c.name == "mno_dashboard")
    assert cookie.path == "/dashboard"
    assert cookie.has_nonstandard_attr("HttpOnly")
    page = await client.get("/dashboard?period=2026-10")
    assert page.status_code == 200
    assert "Tableau de bord — octobre 2026 · Toutes les régions" in page.text
    assert 'data-indicator="referrals_made"' in page.text
    assert "orientations effectuées" in page.text
    assert "réservée aux administrateurs" in page.text  # a viewer sees no referral ids


async def test_admin_sees_the_overdue_referral_ids(
    client: AsyncClient, database: Database, admin: StaffLogin
) -> None:
    from tests.gateway.meal.factories import october_stories

    stories = october_stories()
    await feed(database, [e for s in stories.values() for e in s.envelopes()])
    assert await login(client, admin) == 303
    page = await client.get("/dashboard?period=2026-10")
    assert 'id="liste-retards"' in page.text
    assert stories["R5"].referral_id in page.text
    assert stories["R7"].referral_id in page.text
    assert stories["R1"].referral_id not in page.text


async def test_wrong_password_and_missing_csrf_are_refused(
    client: AsyncClient, viewer: StaffLogin
) -> None:
    assert await login(client, viewer, password="faux") == 401
    no_token = await client.post(
        "/dashboard/login", data={"email": viewer.email, "password": viewer.password}
    )
    assert no_token.status_code == 400
    assert "mno_dashboard" not in client.cookies
    foreign = await client.post(
        "/dashboard/login",
        data={
            "csrf": _csrf((await client.get("/dashboard/login")).text),
            "email": viewer.email,
            "password": viewer.password,
        },
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 400


async def test_repeated_failures_lock_the_account_for_a_while(
    client: AsyncClient, viewer: StaffLogin
) -> None:
    for _ in range(5):
        assert await login(client, viewer, password="faux") == 401
    assert await login(client, viewer) == 429


async def test_logout_needs_the_session_csrf_token(client: AsyncClient, viewer: StaffLogin) -> None:
    assert await login(client, viewer) == 303
    page = await client.get("/dashboard")
    await client.post("/dashboard/logout", data={"csrf": "wrong"})
    assert (await client.get("/dashboard")).status_code == 200
    await client.post("/dashboard/logout", data={"csrf": _csrf(page.text)})
    assert (await client.get("/dashboard")).status_code == 303


async def test_a_password_reset_ends_open_sessions(
    client: AsyncClient, database: Database, viewer: StaffLogin
) -> None:
    from gateway.dashboard import service
    from gateway.db.engine import make_sessionmaker

    assert await login(client, viewer) == 303
    async with make_sessionmaker(database.engine)() as session:
        await service.reset_password(session, viewer.email)
        await session.commit()
    assert (await client.get("/dashboard")).status_code == 303


async def test_exports_from_the_dashboard_use_the_session(
    client: AsyncClient, database: Database, viewer: StaffLogin
) -> None:
    await feed(database, october_stream())
    assert (
        await client.get("/dashboard/export/referrals_made.csv?period=2026-10")
    ).status_code == 303
    assert await login(client, viewer) == 303
    csv_export = await client.get("/dashboard/export/referrals_made.csv?period=2026-10")
    assert csv_export.status_code == 200
    assert csv_export.text.splitlines()[1].endswith("9,false,,,,referrals,200.0")
    dhis2 = await client.get("/dashboard/export/dhis2.json?period=2026-10")
    assert dhis2.json()["period"] == "202610"


async def test_chart_library_is_served_locally(client: AsyncClient) -> None:
    response = await client.get("/dashboard/static/chart.umd.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "Chart.js v4" in response.text[:200]
    assert (await client.get("/dashboard/static/..%2Fmodels.py")).status_code == 404


async def test_demo_staff_account_is_created_once_and_signs_in(
    client: AsyncClient, database: Database
) -> None:
    from gateway.dashboard import service
    from gateway.db.engine import make_sessionmaker

    async with make_sessionmaker(database.engine)() as session:
        first = await service.seed_demo_staff(session, database.data_dir)
        await session.commit()
        again = await service.seed_demo_staff(session, database.data_dir)
    assert first == again
    assert (database.data_dir / "demo-staff.json").stat().st_mode & 0o077 == 0
    demo = StaffLogin(first[0], first[1], "admin")
    assert await login(client, demo) == 303
