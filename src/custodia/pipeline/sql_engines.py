"""The engine pipeline SQL runs on: DuckDB (embedded, the default) or Spark (scale-out).

Quality rules and analyses compile once to DuckDB-dialect SQL; an :class:`EngineSession` runs
that SQL on one engine, transpiled there with ``in_dialect``, so the same definition gives the
same rows on both. ``run_custom`` takes a person's SQL (a quality rule's custom SQL): it is
checked read-only on its DuckDB text first (DuckDB also locks file access; Spark runs with SQL
on files off and may read catalog tables only), so it must be written in DuckDB's dialect and use
functions sqlglot can carry over to Spark.

Example::

    with engine_session(ws, ["orders"], engine="spark") as session:
        session.run("SELECT count(*) AS n FROM orders")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, Protocol

import pyarrow as pa

from custodia.core.errors import ConfigurationError
from custodia.quality.rule_sql import in_dialect
from custodia.storage.engine import QuerySession
from custodia.storage.spark_engine import SparkQueryEngine, SparkQuerySession, spark_session
from custodia.storage.sql_guard import parse_read_only
from custodia.workspace import Workspace

__all__ = ["SQL_ENGINES", "EngineSession", "SqlEngine", "dict_rows", "engine_session"]

SqlEngine = Literal["duckdb", "spark"]
SQL_ENGINES: tuple[str, ...] = ("duckdb", "spark")


class EngineSession(Protocol):
    """Runs trusted pipeline SQL and a person's SQL (both DuckDB dialect) on one engine."""

    def run(self, sql: str) -> pa.Table: ...

    def run_custom(self, sql: str) -> pa.Table: ...

    def add_relation(self, name: str, rows: pa.Table) -> None:
        """Make in-memory ``rows`` readable as ``name`` by the session's next queries."""


def dict_rows(session: EngineSession) -> Callable[[str], list[dict[str, Any]]]:
    """The session's ``run`` giving rows as dicts (what the analyses' name checks and reruns
    take)."""
    return lambda sql: session.run(sql).to_pylist()


class _DuckDBSession:
    def __init__(self, ws: Workspace, session: QuerySession) -> None:
        self._ws = ws
        self._session = session

    def run(self, sql: str) -> pa.Table:
        return self._session.run(sql)

    def run_custom(self, sql: str) -> pa.Table:
        return self._ws.query_engine().query(sql)

    def add_relation(self, name: str, rows: pa.Table) -> None:
        self._session.add_relation(name, rows)


class _SparkSession:
    def __init__(self, session: SparkQuerySession) -> None:
        self._session = session

    def run(self, sql: str) -> pa.Table:
        return self._session.run(in_dialect(sql, self._session.dialect))

    def run_custom(self, sql: str) -> pa.Table:
        parse_read_only(sql)
        return self._session.query(in_dialect(sql, self._session.dialect))

    def add_relation(self, name: str, rows: pa.Table) -> None:
        self._session.add_relation(name, rows)


@contextmanager
def engine_session(
    ws: Workspace,
    tables: Sequence[str],
    *,
    engine: str = "duckdb",
    spark: Any = None,
    purpose: str = "sql",
) -> Iterator[EngineSession]:
    """A session over ``tables`` on ``engine``; ``spark`` is a SparkSession to use (else a local
    one is started for the block and stopped after it). ``purpose`` names the caller in the
    error for an unknown engine (``quality engine 'x' is unknown``)."""
    if engine == "duckdb":
        with ws.query_engine().session(tables) as session:
            yield _DuckDBSession(ws, session)
    elif engine == "spark":
        own = spark is None
        spark = spark_session() if own else spark
        try:
            with SparkQueryEngine(
                ws.table_locations(), spark, sealing=ws.sealing_factory()
            ).session(tables) as spark_sql:
                yield _SparkSession(spark_sql)
        finally:
            if own:
                spark.stop()
    else:
        known = ", ".join(SQL_ENGINES)
        raise ConfigurationError(f"{purpose} engine {engine!r} is unknown; known: {known}")
