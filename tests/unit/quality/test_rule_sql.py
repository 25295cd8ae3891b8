"""Compiled rule SQL: snapshot-tested (changes show up as diffs) in DuckDB's and Spark's dialects.

Regenerate after an intended change with ``CUSTODIA_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import sqlglot

from custodia.pipeline.quality_rules_file import shipped_rules_text
from custodia.quality.rule_file import parse_rules
from custodia.quality.rule_sql import compile_rules, failing_rows_sql, in_dialect

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def _snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("CUSTODIA_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"{name} changed; review and rerun with CUSTODIA_UPDATE_SNAPSHOTS=1"
    )


def _compiled(dialect: str) -> str:
    ruleset = parse_rules(shipped_rules_text())
    queries = compile_rules(ruleset.rules, latest_days={"orders": date(2026, 10, 31)})
    parts = [
        f"-- {q.table} [{q.kind}]: {', '.join(r.name for r in q.rules)}\n"
        f"{in_dialect(q.sql, dialect)};"
        for q in queries
    ]
    return "\n\n".join(parts) + "\n"


def test_shipped_rules_compile_to_one_scan_per_table_for_row_rules() -> None:
    ruleset = parse_rules(shipped_rules_text())
    queries = compile_rules(ruleset.rules)
    row_scans = [q.table for q in queries if q.kind == "rows"]
    assert len(row_scans) == len(set(row_scans))
    _snapshot("shipped_rules.duckdb.sql", _compiled("duckdb"))


def test_the_same_rules_transpile_to_spark_sql() -> None:
    spark = _compiled("spark")
    _snapshot("shipped_rules.spark.sql", spark)
    assert "RLIKE" in spark and "regexp_matches" not in spark
    for statement in spark.split(";\n")[:-1]:
        sqlglot.parse_one(statement, read="spark")  # valid Spark SQL as sqlglot reads it


def test_failing_rows_are_found_by_key() -> None:
    rule = parse_rules(shipped_rules_text()).rule("customer_phone_format")
    sql = failing_rows_sql(rule, limit=5)
    assert sql is not None and sql.startswith('SELECT t."record_id", t.source AS source')
    assert sql.rstrip().endswith("LIMIT 5")
