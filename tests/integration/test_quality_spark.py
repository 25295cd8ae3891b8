"""The compiled quality SQL runs on Spark (local mode) with the same counts as on DuckDB.

Every rule is measured twice on one workspace, once per engine, and the stored results
(checked / failed per rule, source and day) must be identical. Fixtures: tests/data/quality
(see PROVENANCE.md). Needs pyspark (``pip install -e '.[spark]'``) and Java 17+; skipped
otherwise. One local Spark session is shared by the module (its start-up is most of the time).
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from custodia.core.errors import QueryError, TableNotFoundError
from custodia.pipeline.quality_run import QualityReport, run_quality
from custodia.settings import load_settings
from custodia.storage.store_quality import QualityLedger
from custodia.workspace import Workspace

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (none on PATH, JAVA_HOME unset)", allow_module_level=True)

from custodia.storage.spark_engine import SparkQueryEngine, spark_session

pytestmark = [
    pytest.mark.slow,
    # pyspark's result collection leaves its local socket to the garbage collector
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

DATA = Path(__file__).resolve().parents[1] / "data" / "quality"


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session("local[1]")
    yield session
    session.stop()
    gc.collect()  # release pyspark's leftover sockets here, not during some later test


@pytest.fixture
def loaded(cli: Any, workspace_home: Path) -> Path:
    for name, source in (("customers.csv", "crm"), ("orders.csv", "shop")):
        result = cli(
            "--home", workspace_home, "ingest", "file", DATA / name, "--source", source,
            "--mapping", DATA / "mapping.yaml", "--json",
        )  # fmt: skip
        assert result.code == 0, result
    return workspace_home


def _both_engines(home: Path, spark: Any) -> tuple[QualityReport, QualityReport, Workspace]:
    ws = Workspace.open(load_settings(home=home))
    return run_quality(ws), run_quality(ws, engine="spark", spark=spark), ws


def _stored(ws: Workspace, run_id: str) -> dict[tuple[str, str, str], tuple[int, int]]:
    rows = QualityLedger(ws.store).results(run_id)
    return {(r["rule"], r["source"], str(r["day"])): (r["checked"], r["failed"]) for r in rows}


def _assert_same(duck: QualityReport, spark: QualityReport, ws: Workspace) -> None:
    assert _stored(ws, spark.run_id) == _stored(ws, duck.run_id)
    by_rule = [(r.rule, r.checked, r.failed, r.status, r.detail) for r in duck.rules]
    assert [(r.rule, r.checked, r.failed, r.status, r.detail) for r in spark.rules] == by_rule
    assert [r.rule for r in spark.rules if r.status == "error"] == []


def test_test_rules_give_identical_counts_per_rule_source_and_day(
    cli: Any, loaded: Path, spark: Any
) -> None:
    result = cli("--home", loaded, "quality", "rules", "--set", DATA / "rules.yaml")
    assert result.code == 0, result
    duck, on_spark, ws = _both_engines(loaded, spark)
    _assert_same(duck, on_spark, ws)
    failed = {r.rule: r.failed for r in on_spark.rules}
    # the planted problems (see test_quality_run.EXPECTED), found by Spark's Java regexes too
    assert failed["phone_format"] == 2 and failed["order_member_exists"] == 1
    assert failed["gold_members_spend"] == 1  # custom SQL, transpiled from DuckDB's dialect


def test_shipped_rules_give_identical_counts(cli: Any, loaded: Path, spark: Any) -> None:
    duck, on_spark, ws = _both_engines(loaded, spark)  # no rules set: the shipped file
    _assert_same(duck, on_spark, ws)
    ran = {r.check for r in on_spark.rules if r.status != "not_run"}
    assert {"format", "accepted_values", "range", "unique", "custom_sql", "volume"} <= ran


def test_spark_sessions_read_catalog_tables_only(loaded: Path, spark: Any) -> None:
    ws = Workspace.open(load_settings(home=loaded))
    with SparkQueryEngine(ws.table_locations(), spark).session([]) as session:
        with pytest.raises(TableNotFoundError, match="unknown table"):
            session.query(f"SELECT * FROM parquet.`{loaded}`")
        with pytest.raises(QueryError, match="UNRESOLVED_COLUMN"):
            session.query("SELECT no_such_column FROM orders")
        assert session.query("SELECT count(*) AS n FROM orders").to_pylist() == [{"n": 6}]
    assert "orders" not in {t.name for t in spark.catalog.listTables()}  # views dropped


def test_files_outside_col_value_directories_get_their_partition_values_from_the_log(
    loaded: Path, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # delta-rs always writes col=value directories; pretend it did not, so the other reader
    # (one read per partition, values from the Delta log) is the one that runs
    from custodia.storage import spark_engine

    monkeypatch.setattr(spark_engine, "hive_layout", lambda *_args: False)
    ws = Workspace.open(load_settings(home=loaded))
    sql = "SELECT source, count(*) AS n, count(phone) AS p FROM customer_records GROUP BY 1"
    with SparkQueryEngine(ws.table_locations(), spark).session(["customer_records"]) as session:
        got = sorted(session.run(sql).to_pylist(), key=lambda r: r["source"])
    assert got == sorted(ws.query(sql).to_pylist(), key=lambda r: r["source"])
    assert got and all(r["source"] for r in got)
