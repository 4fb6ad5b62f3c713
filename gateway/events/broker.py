"""The embedded Apache Kafka broker: a single-node KRaft server started as a child JVM.

``mno run`` and the test session use it; ``MNO_KAFKA_BOOTSTRAP`` set means "use that cluster
instead" (see :func:`broker_for`). The jars come from Maven Central through
``deploy/kafka/fetch.sh`` (``make kafka``). The broker listens on loopback only; its ports are
remembered in the data folder so a second start (a restart in a fault test, a second ``mno run``)
comes back on the same address with the same data.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from aiokafka.admin import AIOKafkaAdminClient

from gateway.errors import ServiceUnavailable
from gateway.settings import Settings

logger = logging.getLogger("mno.kafka")

KAFKA_MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
# Kafka's own recommended JVM flags (bin/kafka-run-class.sh), with a small fixed heap.
JVM_FLAGS = (
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)
# A short-lived tool: small heap, no optimising compiler, so it starts faster.
TOOL_JVM_FLAGS = ("-Xms64m", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
LOG4J2_CONFIG = """\
# Written by gateway/events/broker.py: warnings and errors only, in the broker's data folder.
status = warn
# Kafka logs while the JVM stops; log4j's own hook would then complain on stdout.
shutdownHook = disable
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = file
# One INFO line per start, so the log shows when the broker became ready.
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


class KafkaNotInstalled(ServiceUnavailable):
    code = "kafka_not_installed"


class KafkaStartFailed(ServiceUnavailable):
    code = "kafka_start_failed"


def repo_libs_dir() -> Path:
    """``<repo>/.cache/kafka/libs``, where ``deploy/kafka/fetch.sh`` puts the jars by default."""
    return Path(__file__).resolve().parents[2] / ".cache" / "kafka" / "libs"


def default_libs_dir(kafka_home: Path | None = None) -> Path:
    if kafka_home is not None:
        return kafka_home / "libs"
    return repo_libs_dir()


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (22 characters)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # The JVM binds with SO_REUSEADDR too: a port in TIME_WAIT after a stop is reusable.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class BrokerPorts:
    broker: int
    controller: int


class EmbeddedKafka:
    """One single-node KRaft broker (``process.roles=broker,controller``) on loopback.

    Use ``async with EmbeddedKafka(data_dir) as kafka: kafka.bootstrap``, or ``start()`` and
    ``stop()``. ``kill()`` ends it without a clean shutdown and ``restart()`` brings it back on
    the same ports and data, for fault tests.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        data_dir: Path,
        *,
        libs_dir: Path | None = None,
        java: str = "java",
        partitions: int = 3,
        heap_mb: int = 256,
        start_timeout: float = 90.0,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.libs_dir = (libs_dir or default_libs_dir()).resolve()
        self.java = java
        self.partitions = partitions
        self.heap_mb = heap_mb
        self.start_timeout = start_timeout
        self.extra_properties = dict(properties or {})
        self.ports: BrokerPorts | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        self._cds_dump: Path | None = None
        self.last_start_seconds: float | None = None

    # ------------------------------------------------------------------ paths and state

    @property
    def log_dir(self) -> Path:
        """``log.dirs``: the partitions and the KRaft metadata log."""
        return self.data_dir / "log"

    @property
    def logs_dir(self) -> Path:
        """The broker's own log files (``server.log``, ``stdout.log``)."""
        return self.data_dir / "logs"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def ports_file(self) -> Path:
        return self.data_dir / "ports.json"

    @property
    def bootstrap(self) -> str:
        if self.ports is None:
            raise RuntimeError("broker not started / courtier non démarré")
        return f"{self.host}:{self.ports.broker}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def log_tail(self, lines: int = 30) -> str:
        parts = []
        for name in ("stdout.log", "server.log"):
            text = tail(self.logs_dir / name, lines)
            if text:
                parts.append(f"--- {name} ---\n{text}")
        return "\n".join(parts)

    # ------------------------------------------------------------------ preparation

    def check_installed(self) -> None:
        """Java on the PATH and the jars of ``make kafka``; a clear error otherwise."""
        if shutil.which(self.java) is None:
            raise KafkaNotInstalled(
                f"Java introuvable ({self.java}) : installez Java 17 ou plus, puis `make kafka`.",
                f"Java not found ({self.java}): install Java 17 or later, then run `make kafka`.",
            )
        if not any(self.libs_dir.glob("kafka_2.13-*.jar")):
            raise KafkaNotInstalled(
                f"Jars Apache Kafka absents de {self.libs_dir} : lancez `make kafka`.",
                f"Apache Kafka jars missing from {self.libs_dir}: run `make kafka`.",
            )

    def _choose_ports(self) -> BrokerPorts:
        if self.ports is not None:
            return self.ports  # a restart keeps its address, whatever happens
        with contextlib.suppress(FileNotFoundError, ValueError, KeyError, TypeError):
            saved = json.loads(self.ports_file.read_text())
            remembered = BrokerPorts(int(saved["broker"]), int(saved["controller"]))
            if port_is_free(remembered.broker) and port_is_free(remembered.controller):
                return remembered
        broker = free_port()
        controller = free_port()
        while controller == broker:
            controller = free_port()
        return BrokerPorts(broker, controller)

    def server_properties(self, ports: BrokerPorts) -> dict[str, str]:
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            # A static voter set (not a dynamic quorum): the controller may move to another
            # port between two runs without touching the metadata log.
            "controller.quorum.voters": f"1@{self.host}:{ports.controller}",
            "listeners": (
                f"PLAINTEXT://{self.host}:{ports.broker},CONTROLLER://{self.host}:{ports.controller}"
            ),
            "advertised.listeners": f"PLAINTEXT://{self.host}:{ports.broker}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.log_dir),
            "num.partitions": str(self.partitions),
            "auto.create.topics.enable": "false",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            # Internal topics: few partitions so the first group or transaction starts fast.
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "3",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # After a crash the restarted broker waits for its previous registration to
            # expire: keep that wait short on a single loopback node.
            "broker.session.timeout.ms": "3000",
            "broker.heartbeat.interval.ms": "500",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
            "log.segment.bytes": str(16 * 1024 * 1024),
            "log.retention.check.interval.ms": "300000",
        }
        props.update(self.extra_properties)
        return props

    def _write_config(self, ports: BrokerPorts) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        lines = [f"{key}={value}" for key, value in self.server_properties(ports).items()]
        self.properties_file.write_text(
            "# Written by gateway/events/broker.py at each start.\n" + "\n".join(lines) + "\n"
        )
        (self.data_dir / "log4j2.properties").write_text(LOG4J2_CONFIG)
        self.ports_file.write_text(
            json.dumps({"broker": ports.broker, "controller": ports.controller}) + "\n"
        )

    def _jvm_command(self, main: str, *args: str, options: tuple[str, ...] = ()) -> list[str]:
        options = options or (f"-Xms{self.heap_mb}m", f"-Xmx{self.heap_mb}m", *JVM_FLAGS)
        return [
            self.java,
            *options,
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            f"{self.libs_dir}/*",
            main,
            *args,
        ]

    @property
    def formatted(self) -> bool:
        return (self.log_dir / "meta.properties").exists()

    async def prepare(self) -> BrokerPorts:
        """Check the installation, choose the ports, write the configuration, format once."""
        self.check_installed()
        ports = self._choose_ports()
        self._write_config(ports)
        await self._format_storage()
        return ports

    async def _format_storage(self) -> None:
        """Format the log folder once; a formatted folder (a second run) is reused as is."""
        if self.formatted:
            return
        command = self._jvm_command(
            STORAGE_TOOL,
            "format",
            # "=" form: a base64url id may start with "-", which argparse would take for an option.
            f"--cluster-id={new_cluster_id()}",
            f"--config={self.properties_file}",
            "--ignore-formatted",
            options=TOOL_JVM_FLAGS,
        )
        result = await asyncio.to_thread(
            subprocess.run,  # noqa: S603 - fixed argv, no shell
            command,
            capture_output=True,
            check=False,
        )
        if result.returncode != 0 or not self.formatted:
            output = (result.stdout + result.stderr).decode(errors="replace")[-3000:]
            raise KafkaStartFailed(
                f"Échec du formatage du stockage Kafka dans {self.log_dir} :\n{output}",
                f"Kafka storage format failed in {self.log_dir}:\n{output}",
            )

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the broker (formatting its storage the first time) and wait until it answers."""
        if self.running:
            return
        await self._terminate(signal.SIGKILL, timeout=1.0)  # reap a broker that died by itself
        started = time.monotonic()
        ports = await self.prepare()
        if not (port_is_free(ports.broker) and port_is_free(ports.controller)):
            raise KafkaStartFailed(
                f"Ports Kafka déjà utilisés ({ports.broker}, {ports.controller}).",
                f"Kafka ports already in use ({ports.broker}, {ports.controller}).",
            )
        self.ports = ports
        options = (f"-Xms{self.heap_mb}m", f"-Xmx{self.heap_mb}m", *JVM_FLAGS)
        cds_options, self._cds_dump = self._class_data_sharing()
        command = self._jvm_command(
            KAFKA_MAIN, str(self.properties_file), options=(*options, *cds_options)
        )
        if shutil.which("setpriv"):
            # Ends the JVM if this process dies without stopping it (a killed test run), so no
            # orphan broker keeps the data folder locked.
            command = ["setpriv", "--pdeathsig", "TERM", "--", *command]
        self._output = (self.logs_dir / "stdout.log").open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            start_new_session=True,  # its own process group: signals reach only the JVM
        )
        try:
            await self._wait_healthy(started + self.start_timeout)
        except BaseException:
            await self._terminate(signal.SIGKILL, timeout=10.0)
            raise
        self.last_start_seconds = time.monotonic() - started
        logger.info(
            "kafka broker ready",
            extra={"bootstrap": self.bootstrap, "seconds": round(self.last_start_seconds, 2)},
        )

    def _class_data_sharing(self) -> tuple[tuple[str, ...], Path | None]:
        """JVM flags for an application class-data archive of the broker's classes.

        Loading the classes from an archive saves a third of the start (a few seconds on two
        cores). The first clean stop writes the archive (``-XX:ArchiveClassesAtExit``) beside the
        jars; later starts map it. The name hashes the JVM and the jars, so a new fetch or a new
        Java makes a new archive. Returns the flags and the file the JVM dumps to, if any.
        """
        java = shutil.which(self.java)
        cache = self.libs_dir.parent / "cds"
        try:
            cache.mkdir(exist_ok=True)
            digest = hashlib.sha256()
            for path in (Path(java or self.java).resolve(), *sorted(self.libs_dir.glob("*.jar"))):
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        except OSError:
            return (), None  # a read-only cache: start without an archive
        quiet = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")
        archive = cache / f"kafka-{digest.hexdigest()[:16]}.jsa"
        if archive.exists():
            return (f"-XX:SharedArchiveFile={archive}", *quiet), None
        # A private name, moved into place once complete: concurrent brokers never see half a file.
        dump = cache / f"{archive.name}.{os.getpid()}.{id(self)}.tmp"
        return (f"-XX:ArchiveClassesAtExit={dump}", *quiet), dump

    def _keep_class_archive(self, clean_exit: bool) -> None:
        dump, self._cds_dump = self._cds_dump, None
        if dump is None:
            return
        with contextlib.suppress(OSError):
            if clean_exit and dump.exists():
                os.replace(dump, dump.with_name(dump.name.split(".jsa.", 1)[0] + ".jsa"))
            else:
                dump.unlink(missing_ok=True)

    async def _wait_healthy(self, deadline: float) -> None:
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise KafkaStartFailed(
                    f"Le courtier Kafka s'est arrêté au démarrage (code {code}) :\n"
                    + self.log_tail(),
                    f"The Kafka broker exited while starting (code {code}):\n" + self.log_tail(),
                )
            if await self._answers():
                return
            if time.monotonic() > deadline:
                raise KafkaStartFailed(
                    f"Le courtier Kafka ne répond pas après {self.start_timeout:.0f} s :\n"
                    + self.log_tail(),
                    f"The Kafka broker did not answer within {self.start_timeout:.0f} s:\n"
                    + self.log_tail(),
                )
            await asyncio.sleep(0.1)

    async def _answers(self) -> bool:
        assert self.ports is not None  # noqa: S101 - set before the process starts
        # The broker port opens only once the broker is unfenced: cheap to poll before asking
        # for metadata.
        try:
            _reader, writer = await asyncio.open_connection(self.host, self.ports.broker)
        except OSError:
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return await cluster_answers(self.bootstrap)

    async def _terminate(self, sig: signal.Signals, timeout: float) -> None:
        process = self._process
        if process is None:
            return
        try:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, sig)
                deadline = time.monotonic() + timeout
                while process.poll() is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                if process.poll() is None:
                    logger.warning("kafka broker did not stop in time, killing it")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    await asyncio.to_thread(process.wait)
            # SIGTERM ends the JVM with 143 after its shutdown hooks (and the archive dump) ran.
            self._keep_class_archive(clean_exit=process.returncode != -signal.SIGKILL)
        finally:
            self._process = None
            if self._output is not None:
                self._output.close()
                self._output = None

    async def stop(self, timeout: float = 30.0) -> None:
        """Clean shutdown (SIGTERM), SIGKILL if it takes longer than ``timeout`` seconds."""
        await self._terminate(signal.SIGTERM, timeout)

    async def kill(self) -> None:
        """End the broker at once, as a crash would (the log is recovered at the next start)."""
        await self._terminate(signal.SIGKILL, timeout=10.0)

    async def restart(self) -> None:
        """Stop (if running) and start again on the same ports and data."""
        await self.stop()
        await self.start()

    async def __aenter__(self) -> EmbeddedKafka:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def cluster_answers(bootstrap: str, timeout: float = 5.0) -> bool:
    """True when a metadata request to ``bootstrap`` lists at least one broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout)
        return bool(cluster.get("brokers"))
    except Exception:  # not up yet (refused, timed out, not ready): the caller polls again
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def embedded_for(settings: Settings) -> EmbeddedKafka:
    """The embedded broker of these settings: data under ``<data-dir>/kafka``."""
    # ``kafka_home`` (MNO_KAFKA_HOME, where fetch.sh put the jars) is optional in Settings.
    kafka_home: Path | None = getattr(settings, "kafka_home", None)
    return EmbeddedKafka(
        settings.data_dir / "kafka",
        libs_dir=default_libs_dir(kafka_home),
        partitions=settings.kafka_partitions,
    )


def broker_for(settings: Settings) -> AbstractAsyncContextManager[str]:
    """``async with broker_for(settings) as bootstrap``: the configured cluster, or the embedded
    broker started for the duration of the block when ``MNO_KAFKA_BOOTSTRAP`` is unset."""
    return _broker_for(settings)


@asynccontextmanager
async def _broker_for(settings: Settings) -> AsyncIterator[str]:
    if settings.kafka_bootstrap:
        yield settings.kafka_bootstrap
        return
    async with embedded_for(settings) as kafka:
        yield kafka.bootstrap
