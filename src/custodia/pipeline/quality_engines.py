"""The engine a quality run measures on: DuckDB (embedded, the default) or Spark.

Rules compile once to DuckDB-dialect SQL (:mod:`custodia.quality.rule_sql`); a
:class:`RuleSession` runs that SQL on one engine, transpiled there with ``in_dialect``, so the
same rules give the same counts on both. A rule's custom SQL is a person's text: it is checked
read-only on its DuckDB text first (DuckDB also locks file access; Spark runs with SQL on files
off and may read catalog tables only). Custom SQL must therefore be written in DuckDB's dialect
and use functions sqlglot can carry over to Spark.

Example::

    with rule_session(ws, ["orders"], engine="spark") as session:
        session.run("SELECT count(*) AS n FROM orders")
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, Protocol

import pyarrow as pa

from custodia.core.errors import ConfigurationError
from custodia.quality.rule_sql import in_dialect
from custodia.storage.engine import QuerySession
from custodia.storage.spark_engine import SparkQueryEngine, SparkQuerySession, spark_session
from custodia.storage.sql_guard import parse_read_only
from custodia.workspace import Workspace

__all__ = ["QUALITY_ENGINES", "QualityEngine", "RuleSession", "rule_session"]

QualityEngine = Literal["duckdb", "spark"]
QUALITY_ENGINES: tuple[str, ...] = ("duckdb", "spark")


class RuleSession(Protocol):
    """Runs compiled rule SQL and a rule's custom SQL (both DuckDB dialect) on one engine."""

    def run(self, sql: str) -> pa.Table: ...

    def run_custom(self, sql: str) -> pa.Table: ...


class _DuckDBRules:
    def __init__(self, ws: Workspace, session: QuerySession) -> None:
        self._ws = ws
        self._session = session

    def run(self, sql: str) -> pa.Table:
        return self._session.run(sql)

    def run_custom(self, sql: str) -> pa.Table:
        return self._ws.query_engine().query(sql)


class _SparkRules:
    def __init__(self, session: SparkQuerySession) -> None:
        self._session = session

    def run(self, sql: str) -> pa.Table:
        return self._session.run(in_dialect(sql, self._session.dialect))

    def run_custom(self, sql: str) -> pa.Table:
        parse_read_only(sql)
        return self._session.query(in_dialect(sql, self._session.dialect))


@contextmanager
def rule_session(
    ws: Workspace, tables: Sequence[str], *, engine: str = "duckdb", spark: Any = None
) -> Iterator[RuleSession]:
    """A session over ``tables`` on ``engine``; ``spark`` is a SparkSession to use (else a local
    one is started for the block and stopped after it)."""
    if engine == "duckdb":
        with ws.query_engine().session(tables) as session:
            yield _DuckDBRules(ws, session)
    elif engine == "spark":
        own = spark is None
        spark = spark_session() if own else spark
        try:
            with SparkQueryEngine(
                ws.table_locations(), spark, sealing=ws.sealing_factory()
            ).session(tables) as spark_rules:
                yield _SparkRules(spark_rules)
        finally:
            if own:
                spark.stop()
    else:
        known = ", ".join(QUALITY_ENGINES)
        raise ConfigurationError(f"quality engine {engine!r} is unknown; known: {known}")
