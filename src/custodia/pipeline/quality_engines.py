"""The engine a quality run measures on: DuckDB (embedded, the default) or Spark.

Rules compile once to DuckDB-dialect SQL (:mod:`custodia.quality.rule_sql`) and run through
:mod:`custodia.pipeline.sql_engines`, so the same rules give the same counts on both engines.

Example::

    with rule_session(ws, ["orders"], engine="spark") as session:
        session.run("SELECT count(*) AS n FROM orders")
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from custodia.pipeline.sql_engines import SQL_ENGINES, EngineSession, engine_session
from custodia.workspace import Workspace

__all__ = ["QUALITY_ENGINES", "QualityEngine", "RuleSession", "rule_session"]

QualityEngine = Literal["duckdb", "spark"]
QUALITY_ENGINES: tuple[str, ...] = SQL_ENGINES
RuleSession = EngineSession


@contextmanager
def rule_session(
    ws: Workspace, tables: Sequence[str], *, engine: str = "duckdb", spark: Any = None
) -> Iterator[RuleSession]:
    """A session over ``tables`` on ``engine`` for a quality run (see sql_engines)."""
    with engine_session(ws, tables, engine=engine, spark=spark, purpose="quality") as session:
        yield session
