"""A legacy table (or SQL query) read in keyset pages: memory stays flat whatever its size.

Rows are read in the order of (watermark, primary key), ``batch_size`` at a time, each page
starting strictly after the last row of the previous one. The watermark is an ``updated_at``
style column or an increasing id. Any SQLAlchemy URL works: synchronous drivers (``sqlite://``,
``mysql+pymysql://``, ``postgresql+psycopg://``, ``mssql+pyodbc://`` …) run in a worker thread,
asynchronous ones (``postgresql+asyncpg://``, ``sqlite+aiosqlite://``) on the event loop.

Only the columns the mapping needs are selected: the connector never reads what it does not use.
For speed on a large table, index ``(watermark, primary key)`` in the legacy database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connectors.mapping import ConnectorError
from connectors.sql.checkpoint import Position


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One legacy row: its key, the values of the mapped columns, where it stands."""

    pk: Any
    values: dict[str, Any]
    position: Position | None  # None for sources read whole (files)
    timestamp: datetime | None  # when it last changed, for the lag; aware


@dataclass(frozen=True)
class SqlSourceConfig:
    url: str
    primary_key: str
    table: str | None = None
    query: str | None = None
    schema: str | None = None
    watermark: str | None = None  # default: the primary key
    timestamp: str | None = None  # for the lag, when the watermark is not a date
    timezone: str = "UTC"  # of naive date-times in the legacy database
    lookback_seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.table or "query"


def to_aware(value: Any, zone: tzinfo) -> datetime | None:
    """A legacy date-time (naive, aware, a date or ISO text) as an aware UTC date-time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone).astimezone(UTC)
    return None


def _source_error(exc: BaseException) -> ConnectorError:
    # The first line only: SQLAlchemy appends the statement and its parameters.
    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
    return ConnectorError(
        f"Base de données source inaccessible ou requête refusée : {detail}",
        f"Source database unreachable or query refused: {detail}",
    )


class SqlSource:
    """Keyset pages of a table or query; ``fetch`` is safe to call again after a failure."""

    def __init__(self, config: SqlSourceConfig, columns: Sequence[str]) -> None:
        if (config.table is None) == (config.query is None):
            raise ConnectorError(
                "Source SQL : indiquez soit table, soit query",
                "SQL source: give either table or query",
            )
        try:
            url = make_url(config.url)
            self._is_async = bool(url.get_dialect().is_async)
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise ConnectorError(
                f"URL de base de données invalide ou pilote absent : {exc}",
                f"Invalid database URL or missing driver: {exc}",
            ) from None
        try:
            self._zone: tzinfo = ZoneInfo(config.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConnectorError(
                f"Fuseau horaire inconnu : {config.timezone}",
                f"Unknown time zone: {config.timezone}",
            ) from None
        self.config = config
        self.name = config.name
        self.watermark = config.watermark or config.primary_key
        wanted = [config.primary_key, self.watermark]
        if config.timestamp:
            wanted.append(config.timestamp)
        self.columns = list(dict.fromkeys([*wanted, *columns]))
        cols: list[sa.ColumnClause[Any]] = [sa.column(c) for c in self.columns]
        if config.table is not None:
            self._from: sa.TableClause | sa.Subquery = sa.table(
                config.table, *cols, schema=config.schema
            )
        else:
            assert config.query is not None  # noqa: S101 - checked above
            self._from = sa.text(config.query).columns(*cols).subquery("legacy")
        self._sync: Engine | None = None
        self._async_engine: AsyncEngine | None = None
        if self._is_async:
            self._async_engine = create_async_engine(config.url, pool_pre_ping=True)
        else:
            self._sync = sa.create_engine(config.url, pool_pre_ping=True)

    async def close(self) -> None:
        if self._async_engine is not None:
            await self._async_engine.dispose()
        if self._sync is not None:
            self._sync.dispose()

    async def _all(self, stmt: sa.Select[Any]) -> list[dict[str, Any]]:
        try:
            if self._async_engine is not None:
                async with self._async_engine.connect() as conn:
                    result = await conn.execute(stmt)
                    return [dict(r) for r in result.mappings()]
            sync = self._sync
            assert sync is not None  # noqa: S101

            def run() -> list[dict[str, Any]]:
                with sync.connect() as conn:
                    return [dict(r) for r in conn.execute(stmt).mappings()]

            return await asyncio.to_thread(run)
        except SQLAlchemyError as exc:
            raise _source_error(exc) from None

    async def check(self) -> None:
        """Fail early, naming the missing columns, when the table does not fit the mapping."""
        if self.config.table is not None:
            try:
                present = await self._table_columns()
            except SQLAlchemyError as exc:
                raise _source_error(exc) from None
            if not present:
                raise ConnectorError(
                    f"Table introuvable dans la base source : {self.config.table}",
                    f"Table not found in the source database: {self.config.table}",
                )
            folded = {c.casefold() for c in present}
            missing = [c for c in self.columns if c.casefold() not in folded]
            if missing:
                raise ConnectorError(
                    f"Colonnes introuvables dans {self.config.table} : {', '.join(missing)} "
                    f"(colonnes de la table : {', '.join(present)})",
                    f"Columns not found in {self.config.table}: {', '.join(missing)} "
                    f"(table columns: {', '.join(present)})",
                )
        await self._all(sa.select(*self._cols()).where(sa.false()))

    async def _table_columns(self) -> list[str]:
        table, schema = self.config.table, self.config.schema

        def names(conn: sa.Connection) -> list[str]:
            inspector = sa.inspect(conn)
            if not inspector.has_table(table or "", schema=schema):
                return []
            return [c["name"] for c in inspector.get_columns(table or "", schema=schema)]

        if self._async_engine is not None:
            async with self._async_engine.connect() as conn:
                return await conn.run_sync(names)
        sync = self._sync
        assert sync is not None  # noqa: S101

        def run() -> list[str]:
            with sync.connect() as conn:
                return names(conn)

        return await asyncio.to_thread(run)

    def _cols(self) -> list[sa.ColumnElement[Any]]:
        return [self._from.c[c] for c in self.columns]

    def _after(self, stmt: sa.Select[Any], after: Position | None) -> sa.Select[Any]:
        wm = self._from.c[self.watermark]
        pk = self._from.c[self.config.primary_key]
        if after is None:
            return stmt
        if self.watermark == self.config.primary_key:
            return stmt.where(pk > after.pk)
        if after.pk is None:  # a look-back start: the window's rows again, ties included
            return stmt.where(wm >= after.watermark)
        return stmt.where(
            sa.or_(wm > after.watermark, sa.and_(wm == after.watermark, pk > after.pk))
        )

    def start(self, checkpoint: Position | None) -> Position | None:
        """Where a poll starts: the checkpoint, moved back by the look-back window."""
        if (
            checkpoint is None
            or self.config.lookback_seconds <= 0
            or not isinstance(checkpoint.watermark, datetime)
        ):
            return checkpoint
        return Position(
            checkpoint.watermark - timedelta(seconds=self.config.lookback_seconds), None
        )

    def _query(self, after: Position | None, limit: int | None) -> sa.Select[Any]:
        wm = self._from.c[self.watermark]
        pk = self._from.c[self.config.primary_key]
        stmt = sa.select(*self._cols()).where(wm.is_not(None))
        stmt = self._after(stmt, after)
        order = [pk] if self.watermark == self.config.primary_key else [wm, pk]
        stmt = stmt.order_by(*order)
        return stmt.limit(limit) if limit is not None else stmt

    def _row(self, values: dict[str, Any]) -> SourceRow:
        pk = values[self.config.primary_key]
        wm = values[self.watermark]
        stamp_value = values.get(self.config.timestamp) if self.config.timestamp else wm
        return SourceRow(
            pk=pk,
            values=values,
            position=Position(wm, pk),
            timestamp=to_aware(stamp_value, self._zone),
        )

    async def fetch(self, after: Position | None, limit: int) -> list[SourceRow]:
        """The next page after ``after`` (empty at the end)."""
        return [self._row(v) for v in await self._all(self._query(after, limit))]

    async def batches(self, after: Position | None, size: int) -> AsyncIterator[list[SourceRow]]:
        position = after
        while True:
            page = await self.fetch(position, size)
            if not page:
                return
            yield page
            position = page[-1].position

    async def remaining(self, after: Position | None) -> int | None:
        """How many rows are after ``after`` (for the progress bar)."""
        wm = self._from.c[self.watermark]
        inner = self._after(
            sa.select(self._from.c[self.config.primary_key]).where(wm.is_not(None)), after
        ).subquery()
        rows = await self._all(sa.select(sa.func.count().label("n")).select_from(inner))
        return int(rows[0]["n"])

    async def without_watermark(self, size: int) -> AsyncIterator[list[SourceRow]]:
        """Rows whose watermark is empty: they cannot be read in order, so they are reported."""
        if self.watermark == self.config.primary_key:
            return
        wm = self._from.c[self.watermark]
        pk = self._from.c[self.config.primary_key]
        last: Any = None
        while True:
            stmt = sa.select(*self._cols()).where(wm.is_(None))
            if last is not None:
                stmt = stmt.where(pk > last)
            page = await self._all(stmt.order_by(pk).limit(size))
            if not page:
                return
            yield [
                SourceRow(pk=v[self.config.primary_key], values=v, position=None, timestamp=None)
                for v in page
            ]
            last = page[-1][self.config.primary_key]
