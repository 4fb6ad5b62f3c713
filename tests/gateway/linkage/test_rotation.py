"""``mno linkage rekey``: a new layer over every stored value; matching carries on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from connectors.pseudonym.encoder import Pseudonymiser
from gateway.cli.main import app as cli
from gateway.linkage.layers import LinkageKeysUnreadable, current_layers
from gateway.linkage.models import (
    LinkageBlockRow,
    LinkageKeyVersion,
    LinkageRecordRow,
    LinkageTokenRow,
)
from gateway.linkage.rekey import linkage_secret
from gateway.linkage.rotation import rotate
from tests.gateway.linkage.conftest import ADULTS, Ledger, encode, register, subject_of

PEOPLE = ADULTS[:4]


async def stored(ledger: Ledger) -> dict[str, Any]:
    async with ledger.database.engine.connect() as conn:
        records = (await conn.execute(select(LinkageRecordRow))).all()
        return {
            "subjects": {r.referral_id: r.subject_id for r in records},
            "values": {r.pseudonym for r in records} | {r.bloom for r in records},
            "versions": {r.key_version for r in records},
            "tokens": set((await conn.execute(select(LinkageTokenRow.token))).scalars()),
            "token_versions": set(
                (await conn.execute(select(LinkageTokenRow.key_version))).scalars()
            ),
            "blocks": set((await conn.execute(select(LinkageBlockRow.block))).scalars()),
            "layers": (await conn.execute(select(LinkageKeyVersion.version))).scalars().all(),
        }


async def refer_people(ledger: Ledger, kit: Pseudonymiser, agency: str, seed: int) -> list[str]:
    return [
        await ledger.refer(agency, "PRESTA-P", subject_of(encode(kit, record)), ["shelter"])
        for record in register(agency[-1], PEOPLE, seed)
    ]


async def test_rekey_changes_every_stored_value_and_later_referrals_still_link(
    ledger: Ledger, kit: Pseudonymiser
) -> None:
    await ledger.agencies("AGENCE-A", "AGENCE-B", "PRESTA-P")
    by_a = await refer_people(ledger, kit, "AGENCE-A", 1)
    before = await stored(ledger)
    assert before["layers"] == [1]
    async with ledger.sessionmaker() as session:
        report = await rotate(session, root=ledger.secret)
        await session.commit()
    assert (report.from_version, report.to_version, report.records) == (1, 2, len(PEOPLE))
    after = await stored(ledger)
    assert after["layers"] == [1, 2]
    assert after["versions"] == after["token_versions"] == {2}
    assert not before["values"] & after["values"]
    assert not before["tokens"] & after["tokens"]
    assert len(after["tokens"]) == len(before["tokens"])
    assert before["blocks"] != after["blocks"]
    # B's records arrive through both layers and find A's subjects.
    by_b = await refer_people(ledger, kit, "AGENCE-B", 2)
    subjects = (await stored(ledger))["subjects"]
    assert sum(subjects[a] == subjects[b] for a, b in zip(by_a, by_b, strict=True)) >= 3


async def test_after_the_master_secret_changes_rekey_rewraps_the_layers(
    ledger: Ledger, kit: Pseudonymiser
) -> None:
    await ledger.agencies("AGENCE-A", "AGENCE-B", "PRESTA-P")
    by_a = await refer_people(ledger, kit, "AGENCE-A", 1)
    old_root = ledger.secret
    ledger.settings = ledger.database.settings(secret_key=SecretStr("n" * 48))
    new_root = ledger.secret
    async with ledger.sessionmaker() as session:
        with pytest.raises(LinkageKeysUnreadable):
            await current_layers(session, new_root)
    async with ledger.sessionmaker() as session:
        report = await rotate(session, root=new_root, previous_root=old_root)
        await session.commit()
    assert report.rewrapped
    async with ledger.sessionmaker() as session:
        assert (await current_layers(session, new_root)).version == 2
        with pytest.raises(LinkageKeysUnreadable):
            await current_layers(session, old_root)  # the old secret opens nothing any more
    by_b = await refer_people(ledger, kit, "AGENCE-B", 2)
    subjects = (await stored(ledger))["subjects"]
    assert sum(subjects[a] == subjects[b] for a, b in zip(by_a, by_b, strict=True)) >= 3


async def test_cli_rekey_and_status(
    ledger: Ledger, kit: Pseudonymiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ledger.agencies("AGENCE-A", "PRESTA-P")
    await refer_people(ledger, kit, "AGENCE-A", 1)
    monkeypatch.setenv("MNO_DATABASE_URL", ledger.database.url)
    monkeypatch.setenv("MNO_DATA_DIR", str(ledger.database.data_dir))
    assert linkage_secret(ledger.settings)  # the CLI's settings are the same (default secret)
    runner = CliRunner()
    # The command runs its own event loop: keep it off this one.
    result = await asyncio.to_thread(runner.invoke, cli, ["linkage", "rekey", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "from_version": 1,
        "to_version": 2,
        "records": len(PEOPLE),
        "tokens": (await stored(ledger))["tokens"].__len__(),
        "rewrapped": False,
    }
    result = await asyncio.to_thread(runner.invoke, cli, ["linkage", "status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["current_version"] == 2
    assert status["records_by_version"] == {"2": len(PEOPLE)}
    assert [len(layer["fingerprint"]) for layer in status["layers"]] == [16, 16]
    result = await asyncio.to_thread(runner.invoke, cli, ["linkage", "--help"])
    assert "Clés de liaison" in result.output
