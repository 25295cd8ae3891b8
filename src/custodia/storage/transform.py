"""Run one trusted pipeline transform in DuckDB over in-memory Arrow relations.

Batch stages (e.g. mapping a source's records into a canonical table) are SQL over a relation
that exists only for this load. This runs such SQL on a private in-memory connection: the
``setup`` statements first (macros), then the query, and returns the rows as Arrow.

Example::

    rows = run_transform("select upper(name) as n from records",
                         relations={"records": records_table})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pyarrow as pa

from custodia.core.errors import QueryError


def run_transform(
    sql: str,
    *,
    relations: Mapping[str, pa.Table],
    setup: Sequence[str] = (),
    threads: int | None = None,
) -> pa.Table:
    """Execute trusted pipeline SQL; errors become a one-line :class:`QueryError`."""
    con = duckdb.connect(":memory:")
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET TimeZone = 'UTC'")
        for name, table in relations.items():
            con.register(name, table)
        for statement in setup:
            con.execute(statement)
        return con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QueryError(f"transform failed: {first}") from None
    finally:
        con.close()
