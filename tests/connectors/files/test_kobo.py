"""A KoboToolbox export through the example mapping to the real gateway, export after export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.client import GatewayClient, RetryPolicy
from connectors.runner import ConnectorConfig, Runner
from gateway.referrals.models import ReferralRow
from tests.conftest import Database
from tests.connectors.conftest import LiveServer, Parties, example
from tests.connectors.factories import expected_valid, fault_of, write_kobo_export


def kobo_config(
    tmp_path: Path, export: Path, key_file: Path, server: LiveServer
) -> ConnectorConfig:
    data: dict[str, Any] = example("kobo_identification.yaml")
    data["linkage_key_file"] = str(key_file)
    data["source"]["path"] = str(export)
    data["batch_size"] = 15
    data["gateway"] = {"url": server.url, "client_id": "x", "client_secret": "x"}
    return ConnectorConfig.from_dict(data, tmp_path / "kobo.yaml")


async def referrals(database: Database) -> int:
    async with database.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(ReferralRow.__table__)))


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_each_new_export_sends_only_new_submissions(
    tmp_path: Path,
    suffix: str,
    linkage_key_file: Path,
    database: Database,
    parties: Parties,
    live_gateway: LiveServer,
) -> None:
    export = tmp_path / f"export-identification{suffix}"
    config = kobo_config(tmp_path, export, linkage_key_file, live_gateway)
    assert parties.referrer.client_secret is not None

    def client() -> GatewayClient:
        assert parties.referrer.client_secret is not None
        return GatewayClient(
            live_gateway.url,
            parties.referrer.client_id,
            parties.referrer.client_secret,
            retry=RetryPolicy(initial_seconds=0.05, max_elapsed_seconds=20),
        )

    write_kobo_export(export, range(1, 41))
    dry = await Runner(config).run(dry_run=True)
    bad = {i for i in range(1, 41) if fault_of(i)}
    assert dry.counters.rows_accepted == 40 - len(bad)
    assert {int(str(r.pk)[-12:], 16) for r in dry.rejected} == bad

    async with client() as gateway:
        first = await Runner(config, client=gateway).run(once=True)
    assert first.counters.rows_created == expected_valid(range(1, 41))
    assert first.counters.lag_seconds is not None  # from _submission_time
    assert await referrals(database) == expected_valid(range(1, 41))

    # The next export holds the same submissions plus new ones; row 5 was corrected.
    write_kobo_export(export, range(1, 61))
    corrected = export.with_name("corrige" + suffix)
    write_kobo_export(corrected, [5], faults=False)
    _replace_row(export, corrected, suffix)
    async with client() as gateway:
        second = await Runner(config, client=gateway).run(once=True)
    new_valid = expected_valid(range(41, 61)) + 1  # the new ones and the corrected row 5
    assert second.counters.rows_created == new_valid
    assert second.counters.rows_skipped == 39  # sent before, or quarantined and unchanged
    assert await referrals(database) == expected_valid(range(1, 41)) + new_valid

    lines = [json.loads(line) for line in config.quarantine_file.read_text().splitlines()]
    assert len(lines) == len(bad) + len({i for i in range(41, 61) if fault_of(i)})
    assert all("identification/nom" not in line["values"] for line in lines)
    assert all(line["values"]["orientation/profil"] for line in lines if line["pk"])


def _replace_row(export: Path, corrected: Path, suffix: str) -> None:
    """Put the corrected submission 5 in place of the faulty one in the export."""
    if suffix == ".csv":
        lines = export.read_text(encoding="utf-8-sig").splitlines()
        fixed = corrected.read_text(encoding="utf-8-sig").splitlines()[1]
        lines[5] = fixed
        export.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
        return
    import openpyxl

    book = openpyxl.load_workbook(export)
    fixed = next(openpyxl.load_workbook(corrected).active.iter_rows(min_row=2, values_only=True))
    sheet = book.active
    for column, value in enumerate(fixed, start=1):
        sheet.cell(row=6, column=column, value=value)
    book.save(export)
