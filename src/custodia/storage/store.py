"""The operational store: small, transactional state next to the lakehouse.

SQLite (WAL mode) on one machine, PostgreSQL when scaled out, through the same SQLAlchemy Core
code. It holds API tokens, pipeline run history, source watermarks, workspace facts and the
hash-chained audit log; table definitions live in :mod:`custodia.storage.store_schema`, schema
changes in the Alembic migrations shipped in ``custodia/storage/migrations``.

Transactions: :meth:`OperationalStore.begin` is for writes. On SQLite it issues ``BEGIN
IMMEDIATE``, taking the single write lock up front, so concurrent writers queue on the busy
timeout instead of failing half-way with ``database is locked``. :meth:`OperationalStore.read`
is for reads (deferred ``BEGIN`` on SQLite, a read-only transaction on PostgreSQL).

Example::

    store = OperationalStore.sqlite(workspace / "store.db")
    store.migrate()
    WorkspaceInfo(store).set("workspace_id", "ws_1")
    with store.read() as conn:
        conn.execute(select(api_tokens.c.name)).all()
    store.dispose()
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Table, create_engine, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import ConfigurationError, StorageError
from custodia.storage.audit_anchor import AuditAnchor
from custodia.storage.store_audit import AuditEntry, AuditFault, AuditLog, AuditVerification
from custodia.storage.store_commit import collecting_after_commit
from custodia.storage.store_runs import RunLog, RunRecord, RunStatus, StepRecord
from custodia.storage.store_schema import check_fits, source_watermarks, workspace_info

__all__ = [
    "AuditEntry",
    "AuditFault",
    "AuditLog",
    "AuditVerification",
    "OperationalStore",
    "RunLog",
    "RunRecord",
    "RunStatus",
    "StepRecord",
    "Watermark",
    "Watermarks",
    "WorkspaceInfo",
    "alembic_config",
    "head_revision",
    "upsert",
]

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
DEFAULT_BUSY_TIMEOUT: Final = timedelta(seconds=30)

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SUPPORTED_BACKENDS: Final = ("sqlite", "postgresql")
_BEGIN_MODE_OPTION: Final = "custodia_sqlite_begin"
_MIGRATION_LOCK_KEY: Final = int.from_bytes(b"custodia", "big")  # any constant bigint works
_ALEMBIC_RUN_LOCK: Final = threading.Lock()


def alembic_config() -> Config:
    """An Alembic ``Config`` pointing at the migrations shipped in the package (no ini file).

    >>> alembic_config().get_main_option("script_location").endswith("migrations")
    True
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    # Revision files must be importable module names (mypy checks them): r0002_add_consents.py
    config.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this version of Custodia."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError("no migrations found in the package; the installation is broken")
    return head


class OperationalStore:
    """A handle on the operational database: engine, transactions, migrations.

    ``url`` is any SQLAlchemy URL for SQLite or PostgreSQL. On PostgreSQL a ``schema`` (argument
    or ``?schema=`` URL option) puts every table, including Alembic's version table, into that
    schema; tests use it to isolate themselves in a throwaway schema. ``busy_timeout`` is how
    long a SQLite writer waits for the write lock before giving up. Creating the object opens
    no connection.

    Example::

        store = OperationalStore("postgresql+psycopg://app@db/custodia?schema=tenant_a")
        store.migrate()
    """

    def __init__(
        self,
        url: str | URL,
        *,
        schema: str | None = None,
        busy_timeout: timedelta = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        parsed, schema = _split_schema(make_url(url), schema)
        self._backend = parsed.get_backend_name()
        if self._backend not in _SUPPORTED_BACKENDS:
            raise ConfigurationError(
                f"operational store supports {', '.join(_SUPPORTED_BACKENDS)}; "
                f"got backend '{self._backend}'"
            )
        if schema is not None and self._backend != "postgresql":
            raise ConfigurationError("store schema is a PostgreSQL option; SQLite has none")
        self._schema = schema
        self.audit_anchor: AuditAnchor | None = None
        """Where :class:`AuditLog` anchors the chain's head after each append (the workspace
        sets a file outside the store); ``None`` leaves the chain unanchored."""
        self._engine = (
            _sqlite_engine(parsed, busy_timeout)
            if self._backend == "sqlite"
            else _postgres_engine(parsed, schema)
        )

    @classmethod
    def sqlite(cls, path: str | Path, *, busy_timeout: timedelta = DEFAULT_BUSY_TIMEOUT) -> Self:
        """A store in the SQLite file at ``path`` (created on first connect).

        >>> OperationalStore.sqlite("/tmp/x/store.db").backend
        'sqlite'
        """
        url = URL.create("sqlite+pysqlite", database=str(path))
        return cls(url, busy_timeout=busy_timeout)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for code that needs Core directly."""
        return self._engine

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._backend

    @property
    def schema(self) -> str | None:
        """The PostgreSQL schema holding the tables, or ``None`` for the default."""
        return self._schema

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: commits on success, rolls back on error.

        Callbacks registered with :func:`~custodia.storage.store_commit.after_commit` run after
        the commit (and never after a rollback).

        >>> with store.begin() as conn:  # doctest: +SKIP
        ...     conn.execute(insert(workspace_info).values(key="k", value="v"))
        """
        with self._unreadable_as_storage_error():
            with self._engine.begin() as conn, collecting_after_commit(conn) as hooks:
                yield conn
            for hook in hooks:  # only reached once the transaction has committed
                hook()

    @contextmanager
    def _unreadable_as_storage_error(self) -> Iterator[None]:
        """A store that cannot be opened (not a database, unreachable server) is one clear line;
        errors of statements inside the transaction are left alone."""
        try:
            yield
        except DBAPIError as exc:
            if not exc.connection_invalidated and not _is_open_failure(exc):
                raise
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise StorageError(
                f"operational store ({self._backend}) is unusable: {reason}"
            ) from None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction with one consistent snapshot; writes are refused on PostgreSQL."""
        with self._unreadable_as_storage_error(), self._engine.connect() as conn:
            if self._backend == "sqlite":
                conn.execution_options(**{_BEGIN_MODE_OPTION: "DEFERRED"})
            else:
                conn.execution_options(postgresql_readonly=True)
            with conn.begin():
                yield conn

    def migrate(self) -> str:
        """Bring the schema to the newest revision; safe to call any number of times.

        Concurrent callers are serialised: across processes by the database (write lock on
        SQLite, advisory lock on PostgreSQL), within a process also by a lock taken first,
        because Alembic's ``context``/``op`` proxies are process globals.
        Returns the revision the database is at afterwards.
        """
        with _ALEMBIC_RUN_LOCK, self.begin() as conn:
            if self._backend == "postgresql":
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
                if self._schema is not None:
                    schema = conn.dialect.identifier_preparer.quote_schema(self._schema)
                    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            config = alembic_config()
            config.attributes["connection"] = conn
            config.attributes["version_table_schema"] = self._schema
            command.upgrade(config, "head")
        version = self.schema_version()
        if version is None:
            raise StorageError("migration finished but the store reports no schema version")
        return version

    def schema_version(self) -> str | None:
        """The revision the database is at, or ``None`` before the first :meth:`migrate`."""
        with self.read() as conn:
            context = MigrationContext.configure(conn, opts={"version_table_schema": self._schema})
            return context.get_current_revision()

    def dispose(self) -> None:
        """Close every pooled connection; the store can still be used afterwards (it reconnects)."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.dispose()

    def __repr__(self) -> str:
        url = self._engine.url.render_as_string(hide_password=True)
        return f"OperationalStore({url!r}, schema={self._schema!r})"


def _split_schema(url: URL, schema: str | None) -> tuple[URL, str | None]:
    """Take a ``schema`` query option off the URL (drivers would reject it) and validate it."""
    from_url = url.query.get("schema")
    if isinstance(from_url, tuple):
        raise ConfigurationError("store URL names more than one schema")
    if from_url is not None and schema is not None and from_url != schema:
        raise ConfigurationError("store schema given both in the URL and as an argument")
    chosen = schema if schema is not None else from_url
    if chosen is not None and not _SCHEMA_NAME.fullmatch(chosen):
        raise ConfigurationError(
            "store schema must be 1-63 characters of lowercase a-z, 0-9 and _, not starting "
            "with a digit"
        )
    return url.difference_update_query(["schema"]), chosen


def _sqlite_engine(url: URL, busy_timeout: timedelta) -> Engine:
    engine = create_engine(url)
    timeout_ms = int(busy_timeout.total_seconds() * 1000)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module (its legacy mode skips it for SELECT and DDL);
        # the "begin" listener below issues it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={timeout_ms:d}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    def on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_MODE_OPTION, "IMMEDIATE")
        conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    return engine


def _postgres_engine(url: URL, schema: str | None) -> Engine:
    # Server-side settings per connection: UTC session time zone and, with a schema, a
    # search_path holding only that schema so unqualified names (ours and Alembic's) land there.
    options = "-c TimeZone=UTC"
    if schema is not None:
        options += f" -c search_path={schema}"
    return create_engine(url, pool_pre_ping=True, connect_args={"options": options})


def upsert(conn: Connection, table: Table, values: Mapping[str, object]) -> None:
    """Insert ``values`` into ``table`` or, when its primary key exists, update the other columns.

    One statement on both backends (``INSERT ... ON CONFLICT DO UPDATE``).
    """
    keys = [column.name for column in table.primary_key.columns]
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(table).values(dict(values))
    updates = {name: statement.excluded[name] for name in values if name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates))


class WorkspaceInfo:
    """Facts about the workspace as key/value text: its id, creation time, format version.

    Example::

        info = WorkspaceInfo(store)
        info.ensure("workspace_id", new_id("ws"))  # first caller wins, later calls read it
        info.get("format_version")
    """

    def __init__(self, store: OperationalStore) -> None:
        self._store = store

    def get(self, key: str) -> str | None:
        with self._store.read() as conn:
            query = select(workspace_info.c.value).where(workspace_info.c.key == key)
            value: str | None = conn.execute(query).scalar_one_or_none()
            return value

    def set(self, key: str, value: str) -> None:
        check_fits(workspace_info.c.key, key)
        with self._store.begin() as conn:
            upsert(conn, workspace_info, {"key": key, "value": value})

    def ensure(self, key: str, value: str) -> str:
        """Store ``value`` unless ``key`` already has one; return the value that is stored."""
        check_fits(workspace_info.c.key, key)
        with self._store.begin() as conn:
            query = select(workspace_info.c.value).where(workspace_info.c.key == key)
            existing: str | None = conn.execute(query).scalar_one_or_none()
            if existing is not None:
                return existing
            conn.execute(workspace_info.insert().values(key=key, value=value))
            return value

    def as_dict(self) -> dict[str, str]:
        with self._store.read() as conn:
            rows = conn.execute(select(workspace_info.c.key, workspace_info.c.value)).all()
            return {row.key: row.value for row in rows}


@dataclass(frozen=True, slots=True)
class Watermark:
    """How far incremental loading of one entity of one source has got."""

    source: str
    entity: str
    watermark: str
    updated_at: datetime


class Watermarks:
    """Per ``(source, entity)`` high-water marks for incremental loads.

    The watermark is opaque text (a timestamp, a cursor, an LSN): the store keeps it, the
    source connector interprets it.

    Example::

        marks = Watermarks(store)
        marks.set("crm", "members", "2026-11-01T00:00:00Z")
        marks.get("crm", "members")
    """

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    def get(self, source: str, entity: str) -> str | None:
        table = source_watermarks
        query = select(table.c.watermark).where(table.c.source == source, table.c.entity == entity)
        with self._store.read() as conn:
            value: str | None = conn.execute(query).scalar_one_or_none()
            return value

    def set(self, source: str, entity: str, watermark: str) -> None:
        check_fits(source_watermarks.c.source, source)
        check_fits(source_watermarks.c.entity, entity)
        values = {
            "source": source,
            "entity": entity,
            "watermark": watermark,
            "updated_at": self._clock.now(),
        }
        with self._store.begin() as conn:
            upsert(conn, source_watermarks, values)

    def all(self) -> list[Watermark]:
        table = source_watermarks
        with self._store.read() as conn:
            rows = conn.execute(select(table).order_by(table.c.source, table.c.entity)).all()
            return [Watermark(**row._asdict()) for row in rows]


def _is_open_failure(exc: DBAPIError) -> bool:
    """True when the database itself cannot be used: a file that is not SQLite, a server down."""
    text = str(exc.orig).lower() if exc.orig else ""
    markers = ("file is not a database", "database disk image is malformed", "unable to open",
               "connection refused", "could not connect", "connection failed")  # fmt: skip
    return any(marker in text for marker in markers)
