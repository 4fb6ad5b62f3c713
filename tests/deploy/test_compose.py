"""The production compose file: valid for docker-compose, three KRaft nodes, env-driven services."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.events.broker import repo_libs_dir

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
CLUSTER_ID = "MkU3OEVBNTcwNTJENDM2Qg"
ENV = {
    "MNO_SECRET_KEY": "compose-test-secret",
    "MNO_ISSUER": "https://mno.example.gn",
    "POSTGRES_PASSWORD": "compose-test-password",
    "KAFKA_CLUSTER_ID": CLUSTER_ID,
    "KAFKA_EXTERNAL_HOST": "kafka.mno.example.gn",
}
KAFKA_NODES = ("kafka-1", "kafka-2", "kafka-3")
MNO_SERVICES = {
    "gateway": ["gateway", "--host", "0.0.0.0", "--port", "8000"],  # noqa: S104 - in a container
    "relay": ["relay"],
    "router": ["router"],
    "linkage-worker": ["linkage-worker"],
    "notifier": ["notifier"],
    "meal-aggregator": ["meal-aggregator"],
    "migrate": ["db", "upgrade"],
    "kafka-init": ["kafka", "init"],
}
# What the apache/kafka image leaves out when it turns KAFKA_* variables into server.properties.
IMAGE_NON_PROPERTIES = {"KAFKA_OPTS", "KAFKA_HEAP_OPTS", "KAFKA_SSL_KEYSTORE_FILENAME"}


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose introuvable : `apt-get install -y docker-compose` (Debian). / "
            "docker-compose not found: `apt-get install -y docker-compose` (Debian)."
        )
    return subprocess.run(
        [binary, "-f", str(COMPOSE), "config"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    result = compose_config(ENV)
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = yaml.safe_load(result.stdout)
    return loaded


def test_all_services_are_declared(config: dict[str, Any]) -> None:
    assert set(config["services"]) == {*KAFKA_NODES, "postgres", *MNO_SERVICES}


def test_three_kraft_nodes_form_one_quorum(config: dict[str, Any]) -> None:
    envs = [config["services"][node]["environment"] for node in KAFKA_NODES]
    assert {env["KAFKA_NODE_ID"] for env in envs} == {"1", "2", "3"}
    for node, env in zip(KAFKA_NODES, envs, strict=True):
        assert config["services"][node]["image"].startswith("apache/kafka:")
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["CLUSTER_ID"] == CLUSTER_ID
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == (
            "1@kafka-1:19093,2@kafka-2:19093,3@kafka-3:19093"
        )
        assert f"INTERNAL://{node}:19092" in env["KAFKA_ADVERTISED_LISTENERS"]
        assert "EXTERNAL://kafka.mno.example.gn:" in env["KAFKA_ADVERTISED_LISTENERS"]
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert env["KAFKA_SASL_OAUTHBEARER_EXPECTED_ISSUER"] == ENV["MNO_ISSUER"]
    volumes = {v for node in KAFKA_NODES for v in config["services"][node]["volumes"]}
    assert len([v for v in volumes if "/var/lib/kafka/data" in str(v)]) == 3


def test_mno_services_are_environment_driven(config: dict[str, Any]) -> None:
    for name, command in MNO_SERVICES.items():
        service = config["services"][name]
        assert service["command"] == command, name
        env = service["environment"]
        assert env["MNO_ENV"] == "prod"
        assert env["MNO_SECRET_KEY"] == ENV["MNO_SECRET_KEY"]
        assert env["MNO_ISSUER"] == ENV["MNO_ISSUER"]
        assert env["MNO_DATABASE_URL"] == (
            "postgresql+asyncpg://mno:compose-test-password@postgres:5432/mno"
        )
        assert env["MNO_KAFKA_BOOTSTRAP"] == "kafka-1:19092,kafka-2:19092,kafka-3:19092"
        assert env["MNO_KAFKA_REPLICATION"] == "3"
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"


@pytest.mark.parametrize("missing", sorted(ENV))
def test_required_settings_must_be_given(missing: str) -> None:
    result = compose_config({k: v for k, v in ENV.items() if k != missing})
    assert result.returncode != 0
    assert missing in result.stderr
    assert "is required" in result.stderr


def test_dockerfile_runs_the_mno_command() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["mno"]' in dockerfile
    assert "USER mno" in dockerfile


def _image_properties(env: dict[str, str], log_dir: Path) -> str:
    """server.properties as the apache/kafka image renders it from KAFKA_* variables."""
    lines = []
    for key, value in env.items():
        if not key.startswith("KAFKA_") or key in IMAGE_NON_PROPERTIES:
            continue
        name = key[len("KAFKA_") :].lower()
        name = name.replace("___", "-").replace("__", "\0").replace("_", ".").replace("\0", "_")
        lines.append(f"{name}={log_dir if name == 'log.dirs' else value}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("node", KAFKA_NODES)
def test_kafka_accepts_each_node_configuration(
    config: dict[str, Any], node: str, tmp_path: Path
) -> None:
    """Kafka's own config validation (the storage formatter) accepts what the image renders."""
    libs = repo_libs_dir()
    if not any(libs.glob("kafka_2.13-*.jar")):
        pytest.fail(f"Jars Kafka absents / missing in {libs}: run `make kafka`.")
    env = config["services"][node]["environment"]
    props = tmp_path / "server.properties"
    props.write_text(_image_properties(env, tmp_path / "log"))
    result = subprocess.run(
        [
            "java",
            "-Xmx128m",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            f"{libs}/*",
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            env["CLUSTER_ID"],
            "--config",
            str(props),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "log" / "meta.properties").exists()
