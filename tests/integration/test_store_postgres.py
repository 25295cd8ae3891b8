"""The operational store on a real PostgreSQL server: schemas, locks and read-only reads.

Backend-neutral behaviour is tested on both backends in ``tests/unit/storage``; this file holds
what only PostgreSQL has.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import StatementError

from custodia.storage.store import AuditLog, OperationalStore, WorkspaceInfo, head_revision
from custodia.storage.store_schema import STORE_TABLES, workspace_info

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(postgres_url: str, postgres_schema: str) -> Iterator[OperationalStore]:
    store = OperationalStore(postgres_url, schema=postgres_schema)
    store.migrate()
    yield store
    store.dispose()


def _tables_in(engine: Engine, schema: str) -> set[str]:
    query = text("SELECT table_name FROM information_schema.tables WHERE table_schema = :schema")
    with engine.connect() as conn:
        return set(conn.execute(query, {"schema": schema}).scalars())


def test_tables_and_version_table_live_in_the_schema(
    pg_store: OperationalStore, postgres_admin_engine: Engine, postgres_schema: str
) -> None:
    expected = {table.name for table in STORE_TABLES} | {"alembic_version"}
    assert _tables_in(postgres_admin_engine, postgres_schema) == expected
    qualified = text(f'SELECT version_num FROM "{postgres_schema}".alembic_version')
    with postgres_admin_engine.connect() as conn:
        assert conn.execute(qualified).scalars().all() == [head_revision()]


def test_migrate_creates_a_missing_schema(postgres_url: str, postgres_admin_engine: Engine) -> None:
    schema = f"custodia_test_{uuid.uuid4().hex[:16]}"
    try:
        url = make_url(postgres_url).update_query_dict({"schema": schema})
        with OperationalStore(url) as store:
            assert store.schema == schema
            assert store.migrate() == head_revision()
        assert "audit_log" in _tables_in(postgres_admin_engine, schema)
    finally:
        with postgres_admin_engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_schemas_isolate_stores(postgres_url: str, postgres_admin_engine: Engine) -> None:
    schemas = [f"custodia_test_{uuid.uuid4().hex[:16]}" for _ in range(2)]
    stores = [OperationalStore(postgres_url, schema=schema) for schema in schemas]
    try:
        for store in stores:
            store.migrate()
        WorkspaceInfo(stores[0]).set("workspace_id", "ws_a")
        AuditLog(stores[0]).append("admin", "workspace.create", "workspace_info")
        assert WorkspaceInfo(stores[1]).get("workspace_id") is None
        assert AuditLog(stores[1]).tail() == []
    finally:
        for store in stores:
            store.dispose()
        with postgres_admin_engine.begin() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_concurrent_migrations_are_serialised(postgres_url: str, postgres_schema: str) -> None:
    stores = [OperationalStore(postgres_url, schema=postgres_schema) for _ in range(3)]
    start = threading.Barrier(len(stores))
    outcomes: list[object] = []

    def migrate(store: OperationalStore) -> None:
        start.wait()
        try:
            outcomes.append(store.migrate())
        except Exception as exc:  # collected and asserted on in the test thread
            outcomes.append(exc)

    threads = [threading.Thread(target=migrate, args=(store,)) for store in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in stores:
            store.dispose()
    assert outcomes == [head_revision()] * len(stores)


def test_read_transactions_refuse_writes(pg_store: OperationalStore) -> None:
    with pytest.raises(StatementError, match="read-only"), pg_store.read() as conn:
        conn.execute(insert(workspace_info).values(key="k", value="v"))
    pg_store.migrate()  # the pooled connection is usable for writes again afterwards
    WorkspaceInfo(pg_store).set("k", "v")
    assert WorkspaceInfo(pg_store).get("k") == "v"


def test_a_pending_append_does_not_block_readers(pg_store: OperationalStore) -> None:
    audit = AuditLog(pg_store)
    audit.append("admin", "first", "audit_log")
    finished = threading.Event()
    seen: list[int] = []

    def read_chain() -> None:
        seen.append(audit.verify().checked)
        finished.set()

    with pg_store.begin() as conn:
        audit.append("admin", "second", "audit_log", conn=conn)  # holds the chain lock
        reader = threading.Thread(target=read_chain)
        reader.start()
        assert finished.wait(timeout=10), "verify() waited for the appender's lock"
    reader.join()
    assert seen == [1]  # the uncommitted entry was invisible to the reader
    assert audit.verify().checked == 2
