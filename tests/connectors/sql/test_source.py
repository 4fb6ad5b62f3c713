"""The keyset source on SQLite, PostgreSQL (asyncpg) and MariaDB (pymysql) legacy tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from connectors.mapping import ConnectorError
from connectors.sql.checkpoint import Position
from connectors.sql.source import SqlSource, SqlSourceConfig, to_aware
from tests.connectors.factories import BASE_TIME, LegacyDb, legacy_rows

COLUMNS = ["nom", "categorie", "date_naissance"]


def source(legacy: LegacyDb, **overrides: object) -> SqlSource:
    values: dict[str, object] = {
        "url": legacy.url,
        "table": legacy.table_name,
        "primary_key": "id",
        "watermark": "date_maj",
    }
    values.update(overrides)
    return SqlSource(SqlSourceConfig(**values), COLUMNS)  # type: ignore[arg-type]


async def read_all(src: SqlSource, after: Position | None, size: int) -> list[int]:
    ids: list[int] = []
    async for page in src.batches(after, size):
        assert 0 < len(page) <= size
        ids.extend(int(row.pk) for row in page)
    return ids


async def test_pages_follow_watermark_then_key_and_resume_exactly(legacy: LegacyDb) -> None:
    await legacy.insert(legacy_rows(50))
    src = source(legacy)
    try:
        await src.check()
        assert await src.remaining(None) == 50
        # Three rows share each date_maj: pages of 4 cut through ties, and nothing is lost.
        assert await read_all(src, None, 4) == list(range(1, 51))
        first = await src.fetch(None, 10)
        assert sorted(first[0].values) == sorted(["id", "date_maj", *COLUMNS])
        resume = first[-1].position
        assert resume is not None
        assert resume.pk == 10
        assert await read_all(src, resume, 7) == list(range(11, 51))
        assert await src.remaining(resume) == 40
        # A row changed later moves to the end: it is read again after the others.
        await legacy.execute(
            sa.update(legacy.table)
            .where(legacy.table.c.id == 3)
            .values(date_maj=BASE_TIME + timedelta(days=1))
        )
        assert await read_all(src, resume, 100) == [*range(11, 51), 3]
        assert first[0].timestamp == to_aware(BASE_TIME, UTC)
    finally:
        await src.close()


async def test_checkpoint_position_survives_serialisation(legacy: LegacyDb) -> None:
    await legacy.insert(legacy_rows(12))
    src = source(legacy)
    try:
        page = await src.fetch(None, 5)
        position = page[-1].position
        assert position is not None
        restored = Position.loads(position.dumps())
        assert restored == position
        assert await read_all(src, restored, 5) == list(range(6, 13))
    finally:
        await src.close()


async def test_increasing_id_watermark_and_query_source(legacy: LegacyDb) -> None:
    await legacy.insert(legacy_rows(20))
    by_id = source(legacy, watermark=None)
    query = source(
        legacy,
        table=None,
        query=f"SELECT * FROM {legacy.table_name} WHERE categorie <> 'XYZ'",  # noqa: S608
    )
    try:
        assert await read_all(by_id, Position(5, 5), 6) == list(range(6, 21))
        assert by_id.watermark == "id"
        ids = await read_all(query, None, 6)
        assert 5 not in ids
        assert len(ids) == 19
    finally:
        await by_id.close()
        await query.close()


async def test_rows_without_watermark_are_listed_not_skipped(legacy: LegacyDb) -> None:
    await legacy.insert(legacy_rows(10))
    await legacy.execute(
        sa.update(legacy.table).where(legacy.table.c.id.in_([4, 7])).values(date_maj=None)
    )
    src = source(legacy)
    try:
        assert await read_all(src, None, 3) == [1, 2, 3, 5, 6, 8, 9, 10]
        missing = [row.pk async for page in src.without_watermark(1) for row in page]
        assert missing == [4, 7]
    finally:
        await src.close()


async def test_missing_columns_are_named(legacy: LegacyDb) -> None:
    src = SqlSource(
        SqlSourceConfig(url=legacy.url, table=legacy.table_name, primary_key="id"),
        ["nom", "nom_du_pere"],
    )
    try:
        with pytest.raises(ConnectorError) as raised:
            await src.check()
        assert "nom_du_pere" in raised.value.message_fr
        assert "Columns not found" in raised.value.message_en
    finally:
        await src.close()


def test_bad_url_and_missing_table_or_query() -> None:
    with pytest.raises(ConnectorError, match="driver"):
        SqlSource(SqlSourceConfig(url="nosuchdb://x/y", table="t", primary_key="id"), [])
    with pytest.raises(ConnectorError, match="either table or query"):
        SqlSource(SqlSourceConfig(url="sqlite://", primary_key="id"), [])


def test_naive_timestamps_take_the_configured_zone() -> None:
    from zoneinfo import ZoneInfo

    naive = datetime(2025, 3, 1, 8, 0)
    assert to_aware(naive, ZoneInfo("Africa/Conakry")) == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert to_aware("2025-03-01T09:00:00+01:00", UTC) == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert to_aware("pas une date", UTC) is None
