"""Read a table of an external SQL database (a source system) through SQLAlchemy.

Used by batch connectors: the brand's CRM in SQLite, an ERP in PostgreSQL. Rows come back as dicts
of plain Python values, streamed in chunks so a large table does not fill memory.

Example::

    for row in read_sql_table("sqlite:///crm/members.db", "members"):
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from custodia.core.errors import StorageError, TableNotFoundError

CHUNK_ROWS = 10_000


def read_sql_table(url: str, table: str) -> Iterator[dict[str, Any]]:
    """Every row of ``table`` in the database at ``url`` (SQLAlchemy URL), as dicts."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        if table not in inspector.get_table_names():
            raise TableNotFoundError(f"source database has no table '{table}'")
        reflected = sa.Table(table, sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(sa.select(reflected))
            while chunk := result.fetchmany(CHUNK_ROWS):
                yield from (dict(row._mapping) for row in chunk)
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError(f"cannot read source table '{table}': {type(exc).__name__}") from None
    finally:
        engine.dispose()
