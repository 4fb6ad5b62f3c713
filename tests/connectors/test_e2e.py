"""End to end: a MariaDB legacy table, the example mapping, the real gateway on loopback.

The acceptance scenario of the connectors issue: a dry run reports the bad rows and sends
nothing; a real run killed mid-batch and restarted leaves the gateway with exactly one referral
per valid row; no identity reaches any table of the gateway database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from connectors.client import GatewayClient, RetryPolicy, Submission, SubmitResult
from connectors.mapping import decrypt_protected
from connectors.runner import Runner, format_report
from gateway.connectors_api.models import ConnectorHeartbeat
from gateway.db.all_models import metadata
from gateway.referrals.models import ReferralRow
from tests.conftest import Database
from tests.connectors.conftest import LiveServer, Parties, sql_config
from tests.connectors.factories import (
    FAULTS,
    LegacyDb,
    expected_valid,
    fault_of,
    identities,
    legacy_rows,
)

ROWS = 120


class Crash(BaseException):
    """Stands for the process being killed: nothing after it runs, no cleanup commits."""


class CrashingClient(GatewayClient):
    """Dies right after the gateway acknowledged the n-th batch, before any checkpoint."""

    def __init__(self, *args: Any, crash_after: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.crash_after = crash_after
        self.calls = 0

    async def submit(self, items: Sequence[Submission]) -> list[SubmitResult]:
        results = await super().submit(items)
        self.calls += 1
        if self.calls == self.crash_after:
            raise Crash
        return results


def client_for(server: LiveServer, parties: Parties, cls: type[GatewayClient] = GatewayClient,
               **kwargs: Any) -> GatewayClient:  # fmt: skip
    assert parties.referrer.client_secret is not None
    return cls(
        server.url,
        parties.referrer.client_id,
        parties.referrer.client_secret,
        retry=RetryPolicy(initial_seconds=0.05, max_seconds=0.5, max_elapsed_seconds=20),
        **kwargs,
    )


async def referral_count(database: Database) -> int:
    async with database.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(ReferralRow.__table__)))


async def settled_count(database: Database) -> int:
    """The referral count once the gateway has finished the requests still in flight."""
    last, stable = -1, 0
    while stable < 3:
        await asyncio.sleep(0.2)
        now = await referral_count(database)
        stable = stable + 1 if now == last else 0
        last = now
    return last


async def all_text(database: Database) -> str:
    """Every value of every table of the gateway database, as one text."""
    parts: list[str] = []
    async with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            result = await conn.execute(select(table))
            for row in result:
                parts.extend(str(value) for value in row if value is not None)
        if database.backend == "postgres":
            # And whatever else lives in the schema (alembic_version …).
            names = await conn.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            known = {t.name for t in metadata.sorted_tables}
            for name in names:
                if name not in known:
                    query = text(f'SELECT * FROM "{name}"')  # noqa: S608 - catalogue names
                    for row in await conn.execute(query):
                        parts.extend(str(value) for value in row if value is not None)
    return "\n".join(parts)


async def test_dry_run_reports_bad_rows_and_sends_nothing(
    tmp_path: Path,
    mariadb_legacy: LegacyDb,
    linkage_key_file: Path,
    database: Database,
    parties: Parties,
    live_gateway: LiveServer,
) -> None:
    await mariadb_legacy.insert(legacy_rows(ROWS))
    config = sql_config(
        tmp_path, legacy=mariadb_legacy, key_file=linkage_key_file,
        gateway_url=live_gateway.url, parties=parties,
    )  # fmt: skip
    report = await Runner(config).run(dry_run=True)

    bad = {i for i in range(1, ROWS + 1) if fault_of(i)}
    assert report.counters.rows_read == ROWS
    assert report.counters.rows_accepted == ROWS - len(bad)
    assert report.counters.rows_rejected == len(bad)
    assert {r.pk for r in report.rejected} == bad
    reasons = {r.pk: r.rejections[0] for r in report.rejected}
    assert reasons[5].field == "case_category"
    assert reasons[5].column == "categorie"
    assert "XYZ" in reasons[5].reason_fr
    assert "XYZ" in reasons[5].reason_en
    assert reasons[11].field == "subject.pseudonym"
    assert reasons[11].reason_fr.startswith("nom absent")
    assert reasons[14].field == "subject.age_band"
    assert "âge inconnu" in reasons[14].reason_fr
    printed = format_report(report)
    assert "Lignes rejetées / rejected rows" in printed
    assert "valeur inconnue « XYZ »" in printed
    assert "unknown value 'XYZ'" in printed
    # Nothing sent, nothing written locally.
    assert await referral_count(database) == 0
    assert not config.state_file.exists()
    assert not config.quarantine_file.exists()


async def test_killed_mid_batch_then_rerun_sends_each_valid_row_once(
    tmp_path: Path,
    mariadb_legacy: LegacyDb,
    linkage_key_file: Path,
    database: Database,
    parties: Parties,
    live_gateway: LiveServer,
) -> None:
    rows = list(legacy_rows(ROWS))
    await mariadb_legacy.insert(rows)
    config = sql_config(
        tmp_path, legacy=mariadb_legacy, key_file=linkage_key_file,
        gateway_url=live_gateway.url, parties=parties, batch_size=25,
    )  # fmt: skip
    valid = expected_valid(range(1, ROWS + 1))

    async with client_for(live_gateway, parties, CrashingClient, crash_after=3) as crashing:
        with pytest.raises(Crash):
            await Runner(config, client=crashing).run(once=True)
    sent_before_crash = await settled_count(database)
    assert 0 < sent_before_crash < valid  # three batches reached the gateway, the rest did not

    async with client_for(live_gateway, parties) as client:
        report = await Runner(config, client=client).run(once=True)
    assert await referral_count(database) == valid
    # The third batch was at the gateway but not checkpointed: it is sent again and recognised.
    assert report.counters.rows_created <= valid - sent_before_crash
    assert report.counters.rows_sent >= valid - sent_before_crash
    assert report.counters.rows_sent > report.counters.rows_created

    # A third run finds nothing new and sends nothing.
    async with client_for(live_gateway, parties) as client:
        again = await Runner(config, client=client).run(once=True)
    assert again.counters.rows_read == 0
    assert again.counters.rows_sent == 0
    assert await referral_count(database) == valid

    # One referral per valid row, each keyed by its source row.
    async with database.engine.connect() as conn:
        keys = (await conn.scalars(select(ReferralRow.idempotency_key))).all()
        bodies = (
            await conn.execute(select(ReferralRow.receiving_agency, ReferralRow.protected))
        ).all()
    assert len(set(keys)) == valid

    # The identity travelled only inside the JWE, readable by the receiving agency.
    first = next(r for r in rows if not fault_of(r["id"]))
    payloads = [
        decrypt_protected(protected, parties.receiver_keys[agency]) for agency, protected in bodies
    ]
    assert any(
        p["identity"]["family"] == first["nom"]
        and p["external_reference"] == first["numero_dossier"]
        for p in payloads
    )
    assert all(p["format"] == "mno-protected/1" for p in payloads)

    # No name, phone, address or narrative anywhere in the gateway database.
    everything = await all_text(database)
    assert first["numero_dossier"] in everything  # the scan sees what is stored in clear
    assert len(identities(rows)) > 100
    leaked = sorted(value for value in identities(rows) if value in everything)
    assert leaked == []

    # Quarantine: each bad row once, with its reasons, without identifying columns.
    lines = [json.loads(line) for line in config.quarantine_file.read_text().splitlines()]
    assert sorted(line["pk"] for line in lines) == [i for i in range(1, ROWS + 1) if fault_of(i)]
    for line in lines:
        assert line["errors"][0]["reason_fr"]
        assert line["errors"][0]["reason_en"]
        hidden = {"nom", "prenoms", "telephone", "adresse", "date_naissance", "observations"}
        assert not hidden & set(line["values"])
        assert "sexe" not in line["values"]  # no identity column, the coarse sex included
        assert "categorie" in line["values"]  # what the fix needs stays
    assert {line["errors"][0]["field"] for line in lines} == {
        "case_category",
        "subject.pseudonym",
        "subject.age_band",
    }
    assert len(FAULTS) == 3

    # Each poll reported a heartbeat.
    async with database.engine.connect() as conn:
        beats = (
            await conn.execute(select(ConnectorHeartbeat).order_by(ConnectorHeartbeat.id))
        ).all()
    assert len(beats) == 2  # the crashed poll never reached its heartbeat
    assert beats[0].connector_id == config.connector_id
    assert beats[0].agency == "OIM-GN"
    assert beats[0].rows_sent == report.counters.rows_sent
    assert beats[1].rows_read == 0


async def test_gateway_down_then_up_retries_and_loses_nothing(
    tmp_path: Path,
    mariadb_legacy: LegacyDb,
    linkage_key_file: Path,
    database: Database,
    parties: Parties,
) -> None:
    await mariadb_legacy.insert(legacy_rows(40, faults=False))
    server = LiveServer(database)  # its port is chosen, nothing listens on it yet
    config = sql_config(
        tmp_path, legacy=mariadb_legacy, key_file=linkage_key_file,
        gateway_url=server.url, parties=parties, batch_size=20,
    )  # fmt: skip
    async with client_for(server, parties) as client:
        run = asyncio.create_task(Runner(config, client=client).run(once=True))
        await asyncio.sleep(1.0)
        assert not run.done()  # still retrying, nothing acknowledged
        assert config.state_file.exists()
        assert not config.quarantine_file.exists()
        await server.start()
        try:
            report = await asyncio.wait_for(run, 30)
        finally:
            await server.stop()
    assert report.counters.retries > 0
    assert report.counters.rows_sent == 40
    assert report.counters.rows_rejected == 0
    assert await referral_count(database) == 40


class Flaky:
    """Answers 503 to the first batches and 502 to the first token request, then lets through."""

    def __init__(self, app: Any, failures: int = 2) -> None:
        self.app = app
        self.left = {"/v1/referrals:batch": failures, "/oauth/token": 1}
        self.seen = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path in self.left and self.left[path] > 0:
            self.left[path] -= 1
            self.seen += 1
            status = 503 if path != "/oauth/token" else 502
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"text/plain"), (b"retry-after", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b"indisponible"})
            return
        await self.app(scope, receive, send)


async def test_5xx_answers_are_retried(
    tmp_path: Path,
    mariadb_legacy: LegacyDb,
    linkage_key_file: Path,
    database: Database,
    parties: Parties,
) -> None:
    await mariadb_legacy.insert(legacy_rows(30, faults=False))
    flaky: list[Flaky] = []
    server = LiveServer(database, wrap=lambda app: flaky.append(Flaky(app)) or flaky[-1])
    await server.start()
    try:
        config = sql_config(
            tmp_path, legacy=mariadb_legacy, key_file=linkage_key_file,
            gateway_url=server.url, parties=parties, batch_size=30,
        )  # fmt: skip
        async with client_for(server, parties) as client:
            report = await Runner(config, client=client).run(once=True)
    finally:
        await server.stop()
    assert flaky[0].seen == 3
    assert report.counters.retries >= 3
    assert report.counters.rows_created == 30
    assert await referral_count(database) == 30


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_continuous_mode_polls_again_and_reports_each_poll(
    tmp_path: Path,
    mariadb_legacy: LegacyDb,
    linkage_key_file: Path,
    database: Database,
    parties: Parties,
    live_gateway: LiveServer,
) -> None:
    await mariadb_legacy.insert(legacy_rows(10, faults=False))
    config = sql_config(
        tmp_path, legacy=mariadb_legacy, key_file=linkage_key_file,
        gateway_url=live_gateway.url, parties=parties, poll_interval_seconds=0.2,
    )  # fmt: skip

    async def beats() -> list[Any]:
        async with database.engine.connect() as conn:
            ordered = select(ConnectorHeartbeat).order_by(ConnectorHeartbeat.id)
            return list((await conn.execute(ordered)).all())

    async with client_for(live_gateway, parties) as client:
        task = asyncio.create_task(Runner(config, client=client).run())
        try:
            for _ in range(400):
                if len(await beats()) >= 1:
                    break
                await asyncio.sleep(0.05)
            # A row recorded after the first poll is picked up by a later one.
            await mariadb_legacy.insert(legacy_rows(1, start=11, faults=False))
            for _ in range(400):
                if await referral_count(database) == 11 and len(await beats()) >= 3:
                    break
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    recorded = await beats()
    assert await referral_count(database) == 11
    assert recorded[0].rows_sent == 10
    assert sum(b.rows_sent for b in recorded) == 11
    assert recorded[0].lag_seconds is not None
    assert recorded[0].lag_seconds > 0
