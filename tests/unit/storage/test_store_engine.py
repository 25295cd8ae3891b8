"""OperationalStore: connections, pragmas, transactions, migrations and portable timestamps."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError

from custodia.core.clock import FrozenClock
from custodia.core.errors import ConfigurationError, ValidationError
from custodia.storage.store import OperationalStore, Watermarks, WorkspaceInfo, head_revision
from custodia.storage.store_schema import (
    METADATA,
    STORE_TABLES,
    run_steps,
    source_watermarks,
    workspace_info,
)

SHANGHAI = timezone(timedelta(hours=8))


def test_migrate_is_idempotent(blank_operational_store: OperationalStore) -> None:
    store = blank_operational_store
    assert store.schema_version() is None

    assert store.migrate() == head_revision()
    assert store.migrate() == head_revision()

    tables = set(inspect(store.engine).get_table_names(schema=store.schema))
    assert {table.name for table in STORE_TABLES} | {"alembic_version"} <= tables
    with store.read() as conn:
        versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    assert versions == [(head_revision(),)]


_MIGRATE_IN_CHILD = """
import sys
from custodia.storage.store import OperationalStore
store = OperationalStore(sys.argv[1], schema=sys.argv[2] or None)
print(store.migrate())
store.dispose()
"""


def test_concurrent_migrations_from_several_processes(
    blank_operational_store: OperationalStore,
) -> None:
    store = blank_operational_store
    url = store.engine.url.render_as_string(hide_password=False)
    args = [sys.executable, "-c", _MIGRATE_IN_CHILD, url, store.schema or ""]
    children = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        outputs = [child.communicate(timeout=60)[0].strip() for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()
    assert [child.returncode for child in children] == [0, 0, 0]
    assert outputs == [head_revision()] * 3
    assert store.schema_version() == head_revision()


def test_migrated_schema_matches_metadata(operational_store: OperationalStore) -> None:
    with operational_store.read() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_schemas": False}
        )
        differences = compare_metadata(context, METADATA)
    assert differences == []


def test_sqlite_runs_in_wal_mode_with_safe_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with OperationalStore.sqlite(path, busy_timeout=timedelta(seconds=7)) as store:
        store.migrate()
        with store.read() as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            }
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 1,
        "busy_timeout": 7000,
    }
    # WAL is a property of the database file: a plain connection sees it too.
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        raw.close()


def test_sqlite_store_in_a_chinese_path(tmp_path: Path) -> None:
    folder = tmp_path / "客户数据"
    folder.mkdir()
    with OperationalStore.sqlite(folder / "运营库.db") as store:
        store.migrate()
        WorkspaceInfo(store).set("名称", "华东区")
        assert WorkspaceInfo(store).get("名称") == "华东区"
    assert (folder / "运营库.db").exists()


def test_foreign_keys_are_enforced(operational_store: OperationalStore) -> None:
    now = datetime.now(UTC)
    row = {
        "run_id": "run_missing",
        "step": "load",
        "rows_in": 1,
        "rows_stored": 1,
        "rows_rejected": 0,
        "started_at": now,
    }
    with pytest.raises(IntegrityError), operational_store.begin() as conn:
        conn.execute(insert(run_steps).values(row))


def test_failed_transaction_rolls_back(operational_store: OperationalStore) -> None:
    with pytest.raises(RuntimeError), operational_store.begin() as conn:
        conn.execute(insert(workspace_info).values(key="k", value="v"))
        raise RuntimeError("boom")
    assert WorkspaceInfo(operational_store).get("k") is None


def test_aware_datetimes_round_trip_as_utc(operational_store: OperationalStore) -> None:
    local = datetime(2026, 11, 1, 12, 30, 15, 123456, tzinfo=SHANGHAI)
    Watermarks(operational_store, FrozenClock(local)).set("crm", "members", "cursor-1")

    (mark,) = Watermarks(operational_store).all()
    assert mark.updated_at == local
    assert mark.updated_at.tzinfo is UTC
    assert mark.updated_at.hour == 4
    assert mark.updated_at.microsecond == 123456


def test_aware_datetimes_compare_correctly_in_sql(operational_store: OperationalStore) -> None:
    early = datetime(2026, 1, 1, 23, 0, tzinfo=UTC)
    late_local = datetime(2026, 1, 2, 1, 0, tzinfo=SHANGHAI)  # 2026-01-01 17:00 UTC: earlier
    Watermarks(operational_store, FrozenClock(early)).set("crm", "a", "1")
    Watermarks(operational_store, FrozenClock(late_local)).set("crm", "b", "1")
    query = select(source_watermarks.c.entity).order_by(source_watermarks.c.updated_at)
    with operational_store.read() as conn:
        assert conn.execute(query).scalars().all() == ["b", "a"]


def test_naive_datetimes_are_refused(operational_store: OperationalStore) -> None:
    row = {"source": "crm", "entity": "m", "watermark": "1", "updated_at": datetime(2026, 1, 1)}
    with pytest.raises(StatementError, match="naive"), operational_store.begin() as conn:
        conn.execute(insert(source_watermarks).values(row))


def test_sqlite_keeps_utc_text_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with OperationalStore.sqlite(path) as store:
        store.migrate()
        clock = FrozenClock(datetime(2026, 11, 1, 8, 0, 0, 5, tzinfo=SHANGHAI))
        Watermarks(store, clock).set("crm", "members", "c")
    raw = sqlite3.connect(path)
    try:
        stored = raw.execute("SELECT updated_at FROM source_watermarks").fetchone()
    finally:
        raw.close()
    assert stored == ("2026-11-01 00:00:00.000005",)


def test_text_longer_than_its_column_is_refused(operational_store: OperationalStore) -> None:
    with pytest.raises(ValidationError) as caught:
        WorkspaceInfo(operational_store).set("键" * 101, "v")
    assert caught.value.field == "key"
    assert "键" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "schema", "match"),
    [
        ("sqlite:///store.db", "tenant", "PostgreSQL option"),
        ("mysql+pymysql://u@h/db", None, "supports sqlite, postgresql"),
        ("postgresql+psycopg://u@h/db", "Bad-Name", "lowercase"),
        ("postgresql+psycopg://u@h/db?schema=a", "b", "both in the URL and as an argument"),
        ("postgresql+psycopg://u@h/db?schema=1abc", None, "not starting with a digit"),
    ],
)
def test_bad_configuration_is_refused(url: str, schema: str | None, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        OperationalStore(url, schema=schema)


def test_repr_hides_the_password() -> None:
    store = OperationalStore("postgresql+psycopg://app:s3cret@db.internal/custodia?schema=tenant_a")
    assert "s3cret" not in repr(store)
    assert store.schema == "tenant_a"
    assert "schema=" not in store.engine.url.render_as_string(hide_password=True)
