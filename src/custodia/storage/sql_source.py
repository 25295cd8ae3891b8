"""Read a table of an external SQL database (a source system) through SQLAlchemy.

Used by batch connectors: the brand's CRM in SQLite, an ERP in PostgreSQL, any database with a
SQLAlchemy dialect. Rows stream in chunks of Arrow (so a large table never fills memory), each
column keeping the database's type where its values agree (see
:mod:`custodia.core.arrow_values`).

Incremental reads: with a ``cursor`` column (e.g. ``updated_at`` or an increasing id) rows come
ordered by it, and with ``since`` (the text form of the last high-water mark, see
:func:`watermark_text`) only rows whose cursor is at or after it. The range is closed, as in dlt,
so rows that share the boundary value with the previous read are seen again; the caller drops
the ones it already has (see :mod:`custodia.collect.incremental`).

URLs may carry passwords: they are never put into messages (:func:`redact_url`).

Example::

    for chunk in read_sql_chunks("sqlite:///crm/members.db", "members",
                                 cursor="updated_at", since="2026-03-01T00:00:00"):
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from custodia.core.arrow_values import table_from_columns, value_as_text
from custodia.core.errors import StorageError, TableNotFoundError, ValidationError

__all__ = ["read_sql_chunks", "read_sql_table", "redact_url", "watermark_text"]

CHUNK_ROWS = 50_000


def read_sql_table(url: str, table: str) -> Iterator[dict[str, Any]]:
    """Every row of ``table`` in the database at ``url`` (SQLAlchemy URL), as dicts."""
    for chunk in read_sql_chunks(url, table):
        yield from chunk.to_pylist()


def read_sql_chunks(
    url: str,
    table: str,
    *,
    cursor: str | None = None,
    since: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pa.Table]:
    """The rows of ``table`` (``schema.table`` allowed) as Arrow tables of up to ``chunk_rows``."""
    engine = sa.create_engine(_driver_url(url))
    try:
        reflected = _reflect(engine, table)
        query = _select(reflected, cursor, since, table)
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(query)
            names = list(result.keys())
            while rows := result.fetchmany(chunk_rows):
                yield table_from_columns(names, [list(col) for col in zip(*rows, strict=True)])
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError(f"cannot read source table '{table}': {type(exc).__name__}") from None
    finally:
        engine.dispose()


def watermark_text(value: Any) -> str:
    """The text a cursor value is stored as between loads (ISO 8601 for dates and times).

    >>> watermark_text(datetime(2026, 3, 5, 14, 3))
    '2026-03-05T14:03:00'
    """
    return value_as_text(value)


def redact_url(url: str) -> str:
    """The URL with its password hidden, for logs and run records."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(not a database URL)"


def _driver_url(url: str) -> URL:
    """Parse the URL; plain ``postgresql://`` uses psycopg 3, the driver Custodia ships with."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise ValidationError("url", "database_url", "not a SQLAlchemy database URL") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _reflect(engine: sa.Engine, table: str) -> sa.Table:
    schema, _, name = table.rpartition(".")
    if not sa.inspect(engine).has_table(name, schema=schema or None):
        raise TableNotFoundError(f"source database has no table '{table}'")
    return sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=engine)


def _select(
    reflected: sa.Table, cursor: str | None, since: str | None, label: str
) -> sa.Select[Any]:
    query = sa.select(reflected)
    if cursor is None:
        return query
    if cursor not in reflected.c:
        raise ValidationError(
            "incremental", "column", f"source table '{label}' has no column '{cursor}'"
        )
    column = reflected.c[cursor]
    query = query.order_by(column.asc().nulls_first())
    if since is not None:
        query = query.where(column >= _typed(column, since, label))
    return query


def _typed(column: sa.Column[Any], text: str, label: str) -> Any:
    """The watermark text as a value of the cursor column's type, for a bound parameter."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return text
    try:
        if python_type is datetime:
            return datetime.fromisoformat(text)
        if python_type is date:
            return date.fromisoformat(text)
        if python_type in (int, float, Decimal):
            return python_type(text)
    except (ValueError, ArithmeticError):
        raise ValidationError(
            "incremental",
            "watermark",
            f"the stored watermark of '{label}' does not fit column '{column.name}'",
        ) from None
    return text
