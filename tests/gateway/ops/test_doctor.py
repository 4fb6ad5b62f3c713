"""``mno doctor`` on a healthy installation (real broker, both databases) and with the broker
stopped: it names the broker in French."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.main import app as cli
from tests.conftest import Database
from tests.kafka_fixtures import KafkaHandle


async def test_doctor_green_then_names_the_stopped_broker(
    database: Database, kafka: KafkaHandle
) -> None:
    env = {"MNO_DATABASE_URL": database.url, "MNO_DATA_DIR": str(database.data_dir)}
    runner = CliRunner()
    rotated = await asyncio.to_thread(runner.invoke, cli, ["keys", "rotate"], env=env)
    assert rotated.exit_code == 0, rotated.output

    args = ["doctor", "--kafka", kafka.bootstrap]
    healthy = await asyncio.to_thread(runner.invoke, cli, args, env=env)
    assert healthy.exit_code == 0, healthy.output
    for name in ("configuration", "database", "keys", "clock", "broker", "disk"):
        assert f"[OK] {name} :" in healthy.stdout
    assert "ÉCHEC" not in healthy.stdout

    async with kafka.down():
        broken = await asyncio.to_thread(runner.invoke, cli, args, env=env)
    assert broken.exit_code == 1, broken.output
    assert f"[ÉCHEC/FAIL] broker : Broker Kafka injoignable à {kafka.bootstrap}" in broken.stdout
    assert "[OK] database :" in broken.stdout


def test_doctor_names_an_unmigrated_database_and_missing_broker(tmp_path: Path) -> None:
    env = {
        "MNO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/empty.db",
        "MNO_DATA_DIR": str(tmp_path),
        "MNO_KAFKA_BOOTSTRAP": "",
    }
    result = CliRunner().invoke(cli, ["doctor"], env=env)
    assert result.exit_code == 1
    assert "Base de données non migrée : lancez « mno db upgrade »." in result.stdout
    assert "Broker Kafka non configuré" in result.stdout
