"""The SQL of the shipped cleansing file (duplicate groups, filled records): snapshot-tested in
DuckDB's and Spark's dialects, so a change shows up as a diff and both engines can run it.

Regenerate after an intended change with ``CUSTODIA_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlglot

from custodia.core.tables import table_spec
from custodia.pipeline.cleanse_dedupe import duplicates_sql
from custodia.pipeline.cleanse_fill import fill_sql
from custodia.pipeline.cleansing_spec import parse_cleansing, shipped_cleansing_text

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def _snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("CUSTODIA_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"{name} changed; review and rerun with CUSTODIA_UPDATE_SNAPSHOTS=1"
    )


def _statements(dialect: str) -> str:
    spec = parse_cleansing(shipped_cleansing_text(), origin="shipped")
    queries = [(r.name, duplicates_sql(r, table_spec(r.table))) for r in spec.deduplicate]
    assert spec.fill is not None
    queries.append(("fill", fill_sql(spec.fill)))
    parts = [
        f"-- {name}\n{sqlglot.transpile(sql, read='duckdb', write=dialect, pretty=True)[0]};"
        for name, sql in queries
    ]
    return "\n\n".join(parts) + "\n"


def test_shipped_cleansing_sql_in_duckdb() -> None:
    text = _statements("duckdb")
    assert text.count("profile_identifiers") == 2  # crm_second_signups (by person) and fill
    _snapshot("shipped_cleansing.duckdb.sql", text)


def test_the_same_sql_transpiles_to_spark() -> None:
    spark = _statements("spark")
    _snapshot("shipped_cleansing.spark.sql", spark)
    for statement in spark.split(";\n")[:-1]:
        sqlglot.parse_one(statement, read="spark")
    assert "CONCAT_WS" in spark and "NULLIF" in spark
