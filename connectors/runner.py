"""The connector: read legacy rows, map and pseudonymise them, encrypt, send, checkpoint.

One poll reads the source from the checkpoint on, in batches. For each batch: rows already
acknowledged (the local ledger says so) are skipped; the others are mapped — a row that breaks
the mapping goes to the quarantine file with its reasons — then encrypted for their receiving
agency and sent with an idempotency key derived from their primary key. Only when the gateway
has answered every row of the batch are the quarantine lines synced to disk and the checkpoint
advanced, in one local transaction with the ledger. A connector killed at any point therefore
re-sends at most the batch in flight, and the gateway recognises those rows by their keys.

Nothing identifying is written outside the encrypted payload: quarantine lines, logs and the
report carry primary keys, field names and non-identifying values only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml
from joserfc.jwk import ECKey

from connectors.client import (
    MAX_BATCH,
    GatewayClient,
    GatewayRefused,
    RetryPolicy,
    Submission,
    SubmitResult,
    idempotency_key,
)
from connectors.files.source import FileSource, FileSourceConfig
from connectors.mapping import (
    ConnectorError,
    Encryptor,
    MappedRow,
    Rejection,
    RowMapper,
    RowMapping,
    RowRejected,
    is_blank,
    row_fingerprint,
)
from connectors.pseudonym.encoder import Pseudonymiser
from connectors.pseudonym.errors import PseudonymError
from connectors.pseudonym.keys import load_key_file
from connectors.sql.checkpoint import CheckpointStore, LedgerEntry
from connectors.sql.source import SourceRow, SqlSource, SqlSourceConfig

logger = logging.getLogger("mno.connector")

CONNECTOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
REPORT_LIMIT = 1000  # rejected rows kept in memory for the report; the quarantine file has all


# ------------------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class GatewayConfig:
    url: str
    client_id: str
    secret: str | None  # resolved from the environment or a file; None until needed
    secret_source: str
    scope: str | None = "referrals:write"
    batch: bool = True
    timeout_seconds: float = 60.0
    max_retry_seconds: float | None = 600.0
    in_flight: int = 2  # batches sent before the first is answered

    def client_secret(self) -> str:
        if not self.secret:
            raise ConnectorError(
                f"Secret du client OAuth2 introuvable ({self.secret_source})",
                f"OAuth2 client secret not found ({self.secret_source})",
            )
        return self.secret


@dataclass(frozen=True)
class ConnectorConfig:
    path: Path
    connector_id: str
    linkage_key_file: Path
    source: SqlSourceConfig | FileSourceConfig
    mapping: RowMapping
    gateway: GatewayConfig | None
    state_file: Path
    quarantine_file: Path
    batch_size: int = 200
    poll_interval_seconds: float = 300.0
    heartbeat: bool = True

    @property
    def source_kind(self) -> str:
        return "sql" if isinstance(self.source, SqlSourceConfig) else "file"

    @classmethod
    def load(cls, path: Path) -> ConnectorConfig:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConnectorError(
                f"Fichier de configuration introuvable : {path}",
                f"Configuration file not found: {path}",
            ) from None
        except yaml.YAMLError as exc:
            raise ConnectorError(
                f"Configuration YAML illisible : {exc}", f"Unreadable YAML configuration: {exc}"
            ) from None
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, path: Path) -> ConnectorConfig:
        if not isinstance(data, Mapping):
            raise _bad("", "un dictionnaire YAML est attendu", "a YAML mapping is expected")
        known = {
            "connector_id",
            "linkage_key_file",
            "gateway",
            "source",
            "mapping",
            "state_file",
            "quarantine_file",
            "batch_size",
            "poll_interval_seconds",
            "heartbeat",
        }
        unknown = set(data) - known
        if unknown:
            raise _bad(
                "",
                f"clés inconnues : {', '.join(sorted(map(str, unknown)))}",
                f"unknown keys: {', '.join(sorted(map(str, unknown)))}",
            )
        base = path.resolve().parent
        connector_id = _text(data, "connector_id", "")
        if not CONNECTOR_ID.match(connector_id):
            raise _bad(
                "connector_id",
                "1 à 64 caractères parmi A-Z a-z 0-9 . _ -",
                "1 to 64 characters from A-Z a-z 0-9 . _ -",
            )
        batch_size = data.get("batch_size", 200)
        if not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH:
            raise _bad("batch_size", f"entier de 1 à {MAX_BATCH}", f"integer from 1 to {MAX_BATCH}")
        stem = path.stem
        return cls(
            path=path,
            connector_id=connector_id,
            linkage_key_file=_path(base, _text(data, "linkage_key_file", "")),
            source=_source(data.get("source"), base),
            mapping=RowMapping.from_dict(data.get("mapping")),
            gateway=_gateway(data.get("gateway")),
            state_file=_path(base, data.get("state_file") or f"{stem}.etat.sqlite"),
            quarantine_file=_path(base, data.get("quarantine_file") or f"{stem}.quarantaine.jsonl"),
            batch_size=batch_size,
            poll_interval_seconds=float(data.get("poll_interval_seconds", 300)),
            heartbeat=bool(data.get("heartbeat", True)),
        )


def _bad(where: str, fr: str, en: str) -> ConnectorError:
    place = f" ({where})" if where else ""
    return ConnectorError(
        f"Configuration invalide{place} : {fr}", f"Invalid configuration{place}: {en}"
    )


def _path(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _text(data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    """``key``, or the environment variable named by ``key_env``."""
    place = f"{where}.{key}" if where else key
    value = data.get(key)
    env_name = data.get(f"{key}_env")
    if value is None and isinstance(env_name, str):
        value = os.environ.get(env_name)
        if value is None and required:
            raise _bad(
                place,
                f"variable d'environnement {env_name} absente",
                f"environment variable {env_name} not set",
            )
    if value is None:
        if required:
            raise _bad(place, "valeur obligatoire", "required value")
        return ""
    if not isinstance(value, str | int):
        raise _bad(place, "texte attendu", "text expected")
    return str(value)


def _gateway(data: Any) -> GatewayConfig | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise _bad("gateway", "dictionnaire attendu", "a mapping expected")
    secret: str | None = None
    if isinstance(data.get("client_secret"), str):
        secret, where = data["client_secret"], "gateway.client_secret"
    elif isinstance(data.get("client_secret_env"), str):
        where = f"variable d'environnement / environment variable {data['client_secret_env']}"
        secret = os.environ.get(data["client_secret_env"])
    elif isinstance(data.get("client_secret_file"), str):
        where = data["client_secret_file"]
        try:
            secret = Path(where).expanduser().read_text(encoding="utf-8").strip()
        except OSError:
            secret = None
    else:
        raise _bad(
            "gateway",
            "client_secret_env (ou client_secret_file) obligatoire",
            "client_secret_env (or client_secret_file) required",
        )
    retry = data.get("max_retry_seconds", 600)
    return GatewayConfig(
        url=_text(data, "url", "gateway").rstrip("/"),
        client_id=_text(data, "client_id", "gateway"),
        secret=secret,
        secret_source=where,
        scope=data.get("scope", "referrals:write"),
        batch=bool(data.get("batch", True)),
        timeout_seconds=float(data.get("timeout_seconds", 60)),
        max_retry_seconds=None if retry is None else float(retry),
        in_flight=_in_flight(data.get("in_flight", 2)),
    )


def _in_flight(value: Any) -> int:
    if not isinstance(value, int) or not 1 <= value <= 16:
        raise _bad("gateway.in_flight", "entier de 1 à 16", "integer from 1 to 16")
    return value


def _source(data: Any, base: Path) -> SqlSourceConfig | FileSourceConfig:
    if not isinstance(data, Mapping):
        raise _bad("source", "dictionnaire attendu", "a mapping expected")
    kind = data.get("type", "sql")
    if kind == "sql":
        allowed = {
            "type", "url", "url_env", "table", "query", "schema", "primary_key", "watermark",
            "timestamp", "timezone", "lookback_seconds",
        }  # fmt: skip
        _only(data, allowed, "source")
        return SqlSourceConfig(
            url=_text(data, "url", "source"),
            table=data.get("table"),
            query=data.get("query"),
            schema=data.get("schema"),
            primary_key=_text(data, "primary_key", "source"),
            watermark=data.get("watermark"),
            timestamp=data.get("timestamp"),
            timezone=str(data.get("timezone", "UTC")),
            lookback_seconds=float(data.get("lookback_seconds", 0)),
        )
    if kind == "file":
        allowed = {
            "type", "path", "sheet", "primary_key", "encoding", "delimiter", "timestamp",
            "timezone",
        }  # fmt: skip
        _only(data, allowed, "source")
        return FileSourceConfig(
            path=_path(base, _text(data, "path", "source")),
            primary_key=_text(data, "primary_key", "source"),
            sheet=data.get("sheet"),
            encoding=str(data.get("encoding", "utf-8-sig")),
            delimiter=data.get("delimiter"),
            timestamp=data.get("timestamp"),
            timezone=str(data.get("timezone", "UTC")),
        )
    raise _bad("source.type", "sql ou file", "sql or file")


def _only(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise _bad(
            where,
            f"clés inconnues : {', '.join(sorted(map(str, unknown)))}",
            f"unknown keys: {', '.join(sorted(map(str, unknown)))}",
        )


# ------------------------------------------------------------------------------ report


@dataclass
class Counters:
    rows_read: int = 0
    rows_sent: int = 0  # acknowledged by the gateway in this run
    rows_created: int = 0  # of which new referrals (the others were there from a killed run)
    rows_skipped: int = 0  # sent or quarantined by an earlier run, unchanged since
    rows_accepted: int = 0  # dry run: would be sent
    rows_rejected: int = 0
    lag_seconds: float | None = None
    retries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "rows_sent": self.rows_sent,
            "rows_created": self.rows_created,
            "rows_skipped": self.rows_skipped,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "lag_seconds": self.lag_seconds,
            "retries": self.retries,
        }


@dataclass(frozen=True)
class RejectedRow:
    pk: Any
    stage: str  # mapping | gateway | source
    rejections: list[Rejection]


@dataclass
class RunReport:
    connector_id: str
    source: str
    dry_run: bool
    counters: Counters = field(default_factory=Counters)
    rejected: list[RejectedRow] = field(default_factory=list)
    rejected_not_listed: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    heartbeat_sent: bool = False

    def add_rejected(self, row: RejectedRow) -> None:
        if len(self.rejected) < REPORT_LIMIT:
            self.rejected.append(row)
        else:
            self.rejected_not_listed += 1


class ProgressHook(Protocol):
    def start(self, total: int | None) -> None: ...

    def advance(self, rows: int, counters: Counters) -> None: ...

    def stop(self) -> None: ...


class _NoProgress:
    def start(self, total: int | None) -> None:
        return None

    def advance(self, rows: int, counters: Counters) -> None:
        return None

    def stop(self) -> None:
        return None


# ------------------------------------------------------------------------------ quarantine


class Quarantine:
    """JSON lines, appended and synced before the checkpoint moves past the rows."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def line(
        *,
        connector_id: str,
        source: str,
        row: SourceRow,
        stage: str,
        rejections: Sequence[Rejection],
        values: Mapping[str, Any],
    ) -> str:
        line = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "connector_id": connector_id,
            "source": source,
            "pk": row.pk if isinstance(row.pk, int | str) or row.pk is None else str(row.pk),
            "stage": stage,
            "errors": [r.as_dict() for r in rejections],
            "values": dict(values),  # without the identifying columns
        }
        return json.dumps(line, ensure_ascii=False, default=str)

    def write(self, lines: Sequence[str]) -> None:
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


# ------------------------------------------------------------------------------ runner


Source = SqlSource | FileSource


def open_source(config: ConnectorConfig) -> Source:
    columns = config.mapping.columns()
    if isinstance(config.source, SqlSourceConfig):
        return SqlSource(config.source, columns)
    return FileSource(config.source, columns)


@dataclass
class _Pending:
    row: SourceRow
    key: str
    fingerprint: str
    mapped: MappedRow


@dataclass
class _Prepared:
    """A batch mapped and encrypted, its submission in flight, its ledger entries so far."""

    page: list[SourceRow]
    entries: list[LedgerEntry]
    waiting: list[_Pending]
    quarantine: list[str] = field(default_factory=list)  # its lines, written when completed
    sending: asyncio.Task[list[SubmitResult]] | None = None


class Runner:
    """Runs polls of one connector configuration."""

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        client: GatewayClient | None = None,
        progress: ProgressHook | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.progress: ProgressHook = progress or _NoProgress()

    def make_client(self) -> GatewayClient:
        gateway = self.config.gateway
        if gateway is None:
            raise ConnectorError(
                "Section gateway absente de la configuration",
                "No gateway section in the configuration",
            )
        return GatewayClient(
            gateway.url,
            gateway.client_id,
            gateway.client_secret(),
            scope=gateway.scope,
            timeout=gateway.timeout_seconds,
            retry=RetryPolicy(max_elapsed_seconds=gateway.max_retry_seconds),
            use_batch=gateway.batch,
        )

    def _pseudonymiser(self) -> Pseudonymiser:
        try:
            return Pseudonymiser(load_key_file(self.config.linkage_key_file))
        except PseudonymError as exc:
            raise ConnectorError(exc.message_fr, exc.message_en) from None

    async def run(self, *, once: bool = False, dry_run: bool = False) -> RunReport:
        """Poll once (``once`` or ``dry_run``), or for ever every ``poll_interval_seconds``."""
        if once or dry_run:
            return await self.poll(dry_run=dry_run)
        while True:
            try:
                await self.poll()
            except GatewayRefused:
                raise
            except ConnectorError as exc:
                # The next poll starts again from the checkpoint: nothing is lost.
                logger.error(
                    "poll failed", extra={"event": "poll.failed", "reason": exc.message_en}
                )
            await asyncio.sleep(self.config.poll_interval_seconds)

    async def poll(self, *, dry_run: bool = False) -> RunReport:
        """One pass over the source from the checkpoint; every row answered or quarantined."""
        config = self.config
        source = open_source(config)
        report = RunReport(config.connector_id, source.name, dry_run)
        started = time.monotonic()
        mapper = RowMapper(config.mapping, self._pseudonymiser())
        store: CheckpointStore | None = None
        if not dry_run or config.state_file.exists():
            store = CheckpointStore(config.state_file)
        try:
            await source.check()
            if dry_run:
                await _Poll(self, source, mapper, store, report, None).run()
            elif self.client is None:
                async with self.make_client() as client:
                    await self._live(source, mapper, store, report, client)
            else:
                await self._live(source, mapper, store, report, self.client)
        finally:
            self.progress.stop()
            await source.close()
            if store is not None:
                store.close()
        report.seconds = time.monotonic() - started
        logger.info(
            "poll finished",
            extra={
                "event": "poll.finished",
                "connector_id": config.connector_id,
                "source": source.name,
                "dry_run": dry_run,
                "seconds": round(report.seconds, 3),
                **report.counters.as_dict(),
            },
        )
        return report

    async def _live(
        self,
        source: Source,
        mapper: RowMapper,
        store: CheckpointStore | None,
        report: RunReport,
        client: GatewayClient,
    ) -> None:
        client.forget_keys()
        retries_before = client.retries
        try:
            await _Poll(self, source, mapper, store, report, client).run()
        finally:
            report.counters.retries = client.retries - retries_before
        if self.config.heartbeat:
            c = report.counters
            report.heartbeat_sent = await client.heartbeat(
                {
                    "connector_id": self.config.connector_id,
                    "rows_read": c.rows_read,
                    "rows_sent": c.rows_sent,
                    "rows_rejected": c.rows_rejected,
                    "lag_seconds": c.lag_seconds,
                }
            )


class _Poll:
    """One pass over the source. Batches are sent ``in_flight`` at a time so that mapping and
    encryption overlap the gateway's work; they are completed — ledger, quarantine,
    checkpoint — strictly in source order, so the checkpoint never passes a row in flight."""

    def __init__(
        self,
        runner: Runner,
        source: Source,
        mapper: RowMapper,
        store: CheckpointStore | None,
        report: RunReport,
        client: GatewayClient | None,
    ) -> None:
        self.config = runner.config
        self.progress = runner.progress
        self.source = source
        self.mapper = mapper
        self.store = store
        self.report = report
        self.client = client
        self.live = client is not None
        self.ledger = f"{self.config.source_kind}:{source.name}"
        self.quarantine = Quarantine(self.config.quarantine_file)
        self.encryptor = Encryptor()
        gateway = self.config.gateway
        self.in_flight = gateway.in_flight if gateway is not None else 1

    async def run(self) -> None:
        checkpoint = self.store.position(self.ledger) if self.store is not None else None
        start = self.source.start(checkpoint)
        logger.info(
            "poll started",
            extra={
                "event": "poll.started",
                "connector_id": self.config.connector_id,
                "source": self.source.name,
                "dry_run": not self.live,
                "resumed": checkpoint is not None,
            },
        )
        self.progress.start(await self.source.remaining(start))
        async for page in self.source.without_watermark(self.config.batch_size):
            self._unreadable(page)
        window: list[_Prepared] = []
        try:
            async for page in self.source.batches(start, self.config.batch_size):
                prepared = await self._prepare(page)
                if self.client is not None and prepared.waiting:
                    submissions = [
                        Submission(item.key, item.mapped.body) for item in prepared.waiting
                    ]
                    prepared.sending = asyncio.create_task(self.client.submit(submissions))
                window.append(prepared)
                while len(window) >= self.in_flight:
                    await self._complete(window.pop(0))
            while window:
                await self._complete(window.pop(0))
        finally:
            for prepared in window:  # a failure: what is still in flight is not checkpointed
                if prepared.sending is not None:
                    prepared.sending.cancel()
            await asyncio.gather(
                *(p.sending for p in window if p.sending is not None), return_exceptions=True
            )

    def _keys(self, page: Sequence[SourceRow]) -> list[str]:
        return [idempotency_key(self.config.connector_id, self.source.name, r.pk) for r in page]

    def _reject(
        self, row: SourceRow, stage: str, rejections: Sequence[Rejection], lines: list[str]
    ) -> None:
        self.report.counters.rows_rejected += 1
        self.report.add_rejected(RejectedRow(row.pk, stage, list(rejections)))
        for r in rejections:
            logger.info(
                "row rejected",
                extra={
                    "event": "row.rejected",
                    "pk": str(row.pk),
                    "stage": stage,
                    "field": r.field,
                    "column": r.column,
                    "reason": r.reason_en,
                },
            )
        if self.live:
            lines.append(
                self.quarantine.line(
                    connector_id=self.config.connector_id,
                    source=self.source.name,
                    row=row,
                    stage=stage,
                    rejections=rejections,
                    values=self.mapper.redacted(row.values),
                )
            )

    def _unreadable(self, page: list[SourceRow]) -> None:
        """Rows without a watermark are quarantined (once each), never silently left behind."""
        keys = self._keys(page)
        known = self.store.known(self.ledger, keys) if self.store is not None else {}
        entries = []
        lines: list[str] = []
        column = getattr(self.source, "watermark", "watermark")
        for row, key in zip(page, keys, strict=True):
            fingerprint = row_fingerprint(row.values)
            entry = known.get(key)
            if entry is not None and (entry.status == "sent" or entry.fingerprint == fingerprint):
                continue  # sent before its watermark was cleared, or already reported
            self.report.counters.rows_read += 1
            rejection = Rejection(
                field="source.watermark",
                column=column,
                reason_fr=f"{column} est vide : la ligne ne peut pas être lue dans l'ordre",
                reason_en=f"{column} is empty: the row cannot be read in order",
            )
            self._reject(row, "source", [rejection], lines)
            entries.append(LedgerEntry(key, "quarantined", fingerprint))
        if self.live and self.store is not None:
            self.quarantine.write(lines)
            self.store.commit(self.ledger, None, entries)

    async def _prepare(self, page: list[SourceRow]) -> _Prepared:
        """Skip what is already handled, map the rest, encrypt for the receivers."""
        counters = self.report.counters
        keys = self._keys(page)
        known = self.store.known(self.ledger, keys) if self.store is not None else {}
        prepared = _Prepared(page=page, entries=[], waiting=[])
        pending: list[_Pending] = []
        for row, key in zip(page, keys, strict=True):
            counters.rows_read += 1
            fingerprint = row_fingerprint(row.values)
            entry = known.get(key)
            if entry is not None and entry.status == "sent":
                counters.rows_skipped += 1
                continue
            if self.live and entry is not None and entry.fingerprint == fingerprint:
                counters.rows_skipped += 1  # quarantined before, not corrected since
                continue
            if is_blank(row.pk):
                column = self.config.source.primary_key
                rejection = Rejection(
                    field="source.primary_key",
                    column=column,
                    reason_fr=f"{column} est vide : la ligne n'a pas d'identifiant stable",
                    reason_en=f"{column} is empty: the row has no stable identifier",
                )
                self._reject(row, "source", [rejection], prepared.quarantine)
                continue
            try:
                mapped = self.mapper.map(row.values)
            except RowRejected as exc:
                self._reject(row, "mapping", exc.rejections, prepared.quarantine)
                prepared.entries.append(LedgerEntry(key, "quarantined", fingerprint))
                continue
            pending.append(_Pending(row, key, fingerprint, mapped))
        if self.client is None:
            self._dry_encrypt(pending)
            counters.rows_accepted += len(pending)
            return prepared
        for item in pending:
            jwk = await self.client.agency_key(item.mapped.receiving_agency)
            if jwk is None:
                agency = item.mapped.receiving_agency
                rejection = Rejection(
                    field="receiving_agency",
                    column=self.config.mapping.column_of("receiving_agency"),
                    reason_fr=f"l'agence {agency} n'a pas de clé publique dans l'annuaire : "
                    "l'identité ne peut pas lui être chiffrée",
                    reason_en=f"agency {agency} has no public key in the directory: "
                    "the identity cannot be encrypted for it",
                )
                self._reject(item.row, "gateway", [rejection], prepared.quarantine)
                prepared.entries.append(LedgerEntry(item.key, "quarantined", item.fingerprint))
                continue
            body = dict(item.mapped.body)
            body["protected"] = self.encryptor.encrypt(item.mapped.protected, jwk)
            prepared.waiting.append(replace(item, mapped=replace(item.mapped, body=body)))
        return prepared

    async def _complete(self, prepared: _Prepared) -> None:
        """The gateway's answers for one batch; then quarantine synced, checkpoint moved."""
        counters = self.report.counters
        if prepared.sending is not None:
            results = await prepared.sending
            answered_at = datetime.now(UTC)
            for item, result in zip(prepared.waiting, results, strict=True):
                if result.acknowledged:
                    counters.rows_sent += 1
                    if result.outcome == "created":
                        counters.rows_created += 1
                    prepared.entries.append(
                        LedgerEntry(item.key, "sent", item.fingerprint, result.referral_id)
                    )
                    if item.row.timestamp is not None:
                        lag = max(0.0, (answered_at - item.row.timestamp).total_seconds())
                        counters.lag_seconds = max(counters.lag_seconds or 0.0, round(lag, 3))
                else:
                    self._reject(
                        item.row, "gateway", _gateway_rejections(result), prepared.quarantine
                    )
                    prepared.entries.append(LedgerEntry(item.key, "quarantined", item.fingerprint))
        if self.live:
            self.quarantine.write(prepared.quarantine)
            if self.store is not None:
                self.store.commit(self.ledger, prepared.page[-1].position, prepared.entries)
            logger.info(
                "batch acknowledged",
                extra={
                    "event": "batch.acknowledged",
                    "connector_id": self.config.connector_id,
                    "rows": len(prepared.page),
                    "sent": len(prepared.waiting),
                    **counters.as_dict(),
                },
            )
        self.progress.advance(len(prepared.page), counters)

    def _dry_encrypt(self, pending: Sequence[_Pending]) -> None:
        # A dry run contacts nothing, but still proves each payload encrypts and fits the schema.
        if not pending:
            return
        key = ECKey.generate_key("P-256")
        jwk = dict(key.as_dict(private=False))
        for item in pending:
            self.encryptor.encrypt(item.mapped.protected, jwk)


def _gateway_rejections(result: SubmitResult) -> list[Rejection]:
    if result.errors:
        return [
            Rejection(
                field=str(e.get("field", "")).removeprefix("body.").removeprefix("referral."),
                reason_fr=f"refusé par la passerelle ({result.code}) : {result.message_fr or ''}",
                reason_en=f"refused by the gateway ({result.code}): "
                f"{e.get('message') or result.message_en or ''}",
            )
            for e in result.errors
        ]
    return [
        Rejection(
            field="referral",
            reason_fr=f"refusé par la passerelle ({result.code}) : {result.message_fr or ''}",
            reason_en=f"refused by the gateway ({result.code}): {result.message_en or ''}",
        )
    ]


def format_report(report: RunReport, *, limit: int = 50) -> str:
    """The validation report a person reads: French first, then English."""
    c = report.counters
    lines = []
    title = "Essai à blanc" if report.dry_run else "Relève"
    title_en = "Dry run" if report.dry_run else "Poll"
    lines.append(
        f"{title} / {title_en} — connecteur / connector {report.connector_id}, "
        f"source {report.source}"
    )
    lines.append(f"  Lignes lues / rows read: {c.rows_read}")
    if report.dry_run:
        lines.append(f"  Acceptées / accepted: {c.rows_accepted}")
    else:
        lines.append(
            f"  Transmises / sent: {c.rows_sent} (nouveaux référencements / new referrals: "
            f"{c.rows_created})"
        )
    lines.append(f"  Déjà traitées, ignorées / already handled, skipped: {c.rows_skipped}")
    lines.append(f"  Rejetées / rejected: {c.rows_rejected}")
    if c.lag_seconds is not None:
        lines.append(f"  Retard maximal / max lag: {c.lag_seconds:.0f} s")
    if not report.dry_run and c.retries:
        lines.append(f"  Nouvelles tentatives / retries: {c.retries}")
    if report.rejected:
        lines.append("")
        lines.append("Lignes rejetées / rejected rows:")
        for rejected in report.rejected[:limit]:
            for r in rejected.rejections:
                column = f" [{r.column}]" if r.column else ""
                lines.append(f"  - {rejected.pk} · {r.field}{column} : {r.reason_fr}")
                lines.append(f"    {' ' * len(str(rejected.pk))}   {r.reason_en}")
        more = len(report.rejected) - limit + report.rejected_not_listed
        if more > 0:
            lines.append(f"  … et {more} autres / and {more} more")
    return "\n".join(lines)
